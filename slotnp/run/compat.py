"""What older runs need to load as they were made.

- Options version 1: before version 2 (core/init.py: a key per layer, a stream per block of
  connections), every option and initial score came from one stream through the whole net.
  `draw_version_1` registers itself with init.DRAWS on import.
- A run's configuration gained keys over time (`completed` fills in, for a run saved before
  each, what it ran with): runs saved before the factored form stored explicit scores and saved
  no `score_form`; runs saved before version 2 saved no `options_version`.
"""
from ..core import init

# The configuration keys added since the first runs, with the value every run before them had
OLDER_DEFAULTS = dict(padding="same", dropout_at="after", bias="none", schedule="sgdr",
                      normalise="channels", compare_eval_modes=False,
                      weight_init="signed_constant", score_form="explicit", options_version=1)


def completed(config):
    """A run's configuration (a copy) with each key it predates filled in as the run ran: those
    above, its biases' rate and its `method`. One of those keys saved as None (score_form of
    learned weights: it does not apply) reads as missing too."""
    known = {key: value for key, value in config.items()
             if value is not None or key not in OLDER_DEFAULTS}
    filled = dict(OLDER_DEFAULTS, **known)
    if "bias_lr" not in filled:      # biases before --bias-lr trained at the run's own rate
        filled["bias_lr"] = filled.get("lr") if filled["bias"] == "learned" else None
    if "method" not in filled:
        filled["method"] = "slot" if filled.get("slot") else \
            "learned" if filled.get("edge_popup") is None else "edge-popup"
    return filled


def slot_options(rng, weight_shape, K, dtype, shared=False, bound=1.0):
    """Version 1: K fixed candidate values per connection, U(-bound*sigma, bound*sigma):
    weight_shape + (K,), the next draws of `rng`.

    The paper's bound is 1. With `shared`, one set of K values serves every connection of the
    layer: shape (K,).
    """
    limit = bound * init.glorot_sigma(weight_shape)
    shape = (K,) if shared else tuple(weight_shape) + (K,)
    return init.as_generator(rng).uniform(-limit, limit, size=shape).astype(dtype)


def slot_scores(rng, weight_shape, K, score_bound, dtype):
    """Version 1: initial scores U(0, score_bound * sigma): shape weight_shape + (K,).

    The paper uses score_bound (lambda) = 1 for convolutions and 0.1 for linear layers.
    """
    sigma = init.glorot_sigma(weight_shape)
    shape = tuple(weight_shape) + (K,)
    return init.as_generator(rng).uniform(0.0, score_bound * sigma, size=shape).astype(dtype)


def draw_version_1(rng, shape, K, bound, score_bound, shared, dtype):
    """Version 1: no key; the options, then the initial scores, straight from `rng`."""
    options = slot_options(rng, shape, K, dtype, shared=shared, bound=bound)
    return None, options, slot_scores(rng, shape, K, score_bound, dtype)


init.DRAWS[1] = draw_version_1
