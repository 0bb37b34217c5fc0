"""Softmax cross-entropy, the loss of every slotnp classifier."""
from . import backend


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    logits: (N, classes) float; labels: (N,) ints in [0, classes).
    Returns (loss, dlogits): loss is a 0-d array on the logits' device (call float() to read
    it; on a GPU that waits for the device), dlogits has the shape and dtype of logits.
    """
    if getattr(logits, "ndim", None) != 2:
        raise ValueError(f"logits must have shape (N, classes), got {getattr(logits, 'shape', logits)}")
    if getattr(labels, "shape", None) != logits.shape[:1] or labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be integers of shape ({logits.shape[0]},), got "
                         f"{getattr(labels, 'dtype', type(labels).__name__)} "
                         f"{getattr(labels, 'shape', '')}")
    xp = backend.xp_of(logits)
    rows = xp.arange(logits.shape[0])
    # Subtracting the row maximum keeps exp() from overflowing; log-softmax is unchanged.
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probabilities = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probabilities[rows, labels].mean()
    dlogits = xp.exp(log_probabilities)
    dlogits[rows, labels] -= 1
    dlogits /= logits.shape[0]
    return loss, dlogits
