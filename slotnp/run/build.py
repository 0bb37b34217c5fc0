"""The slot options a run draws before it trains, estimated up front: refused when they cannot be
drawn within a day, announced when they take over a minute, and shown with a progress bar past
5 s where they are drawn in the first training step.

A slot layer of K options and P connections draws K * P options and as many initial scores:
at its construction where it keeps them (slot_factored.py), or in its first training step,
where it finds every connection's winner and intervals (slot_intervals.py, the "build"). The
time that takes is K * P over a rate measured on this machine, by timing the build of a small
layer of the same K (capped, so that the measure stays within a fraction of a second).
"""
import contextlib
import math
import sys
import time

from .memory import EstimateError, keeps_no_options, layer_plan

DAY = 24 * 3600          # the longest build a run may start
ANNOUNCE = 60            # a build longer than this is announced before it starts
SHOWN = 5                # and one longer than this shows a progress bar
PROBE_VALUES = 1 << 20   # options the measuring layer draws, at most
PROBE_CONNECTIONS = 1 << 14   # and its connections, at most
PROBE_MAX_K = 1024
SLOWEST = 1e6            # options a second no machine falls below: no need to measure
                         # a build that would be short even at this rate


def options_to_draw(config):
    """K * P over the run's slot layers (0 for a run without slot options)."""
    if not config.get("slot"):
        return 0
    connections = sum(math.prod(shape) for kind, _, shape in layer_plan(config)
                      if kind in ("conv", "fc"))
    return config["K"] * connections


def measured_rate(K):
    """Options a second that this machine draws and builds intervals for, at K (up to
    PROBE_MAX_K): the time of a small layer's first selection."""
    from ..fast import on
    from ..slots import SlotLinear
    K = min(K, PROBE_MAX_K)
    inputs = max(1, min(PROBE_VALUES // K, PROBE_CONNECTIONS) // 64)
    with on():
        layer = SlotLinear(inputs, 64, K=K, rng=0)
        start = time.perf_counter()
        layer.selected()
        seconds = time.perf_counter() - start
    return K * inputs * 64 / max(seconds, 1e-6)


def check(config):
    """Refuse (EstimateError, one line) a run whose slot options would take over a day to
    draw; return the estimated seconds (0 when the draw is short even at the SLOWEST rate, or
    the scores are explicit, as in a plain run: it keeps every option, and the memory estimate
    bounds it)."""
    values = options_to_draw(config)
    if values < SLOWEST * SHOWN or config.get("score_form") != "factored":
        return 0.0
    seconds = values / measured_rate(config["K"])
    if seconds > DAY:
        largest = max(1, int(config["K"] * DAY / seconds))
        raise EstimateError(
            f"this run draws {values:.3g} slot options (K = {config['K']:,} per connection) "
            f"before it trains, about {seconds / DAY:,.0f} days at this machine's "
            f"{values / seconds / 1e6:,.0f} million a second; the limit is a day: lower --K "
            f"(to about {largest:,} or less)")
    return seconds


def announce(config, seconds):
    """Say, when the build takes over ANNOUNCE seconds, what happens before the first epoch
    (or, for layers that keep their options, drew them as they were built, what took so long)."""
    if seconds <= ANNOUNCE:
        return
    values, minutes = f"{options_to_draw(config):,}", f"{seconds / 60:,.0f}"
    if keeps_no_options(config):
        print(f"drawing {values} slot options in the first training step (every connection's "
              f"{config['K']:,}), about {minutes} minutes here; a bar shows the progress",
              flush=True)
    else:
        print(f"drew {values} slot options as the net was built (every connection's "
              f"{config['K']:,}; about {minutes} minutes here, by the estimate)", flush=True)


class Progress:
    """The build's progress: a tqdm bar, or (with no_bar) a line at every tenth. Called with
    the options each chunk finished (fast/threads.reporting)."""

    def __init__(self, total, no_bar):
        self.total, self.done, self.said = total, 0, 0
        self.bar = None
        if not no_bar:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit=" options", unit_scale=True, leave=False,
                            desc="drawing the slot options", file=sys.stdout)

    def __call__(self, values):
        if self.done >= self.total:        # built: later selections anew are not the build
            return
        self.done += values
        if self.bar is not None:
            self.bar.update(values)
        elif self.done * 10 // self.total > self.said:
            self.said = self.done * 10 // self.total
            print(f"  drawn {100 * self.done / self.total:.0f}% of the slot options", flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def shown(config, seconds, no_bar):
    """A context for the first epoch: progress of a build of more than SHOWN seconds
    (fast/threads.reporting), or nothing."""
    if seconds <= SHOWN or not keeps_no_options(config):
        return contextlib.nullcontext()
    from ..fast import threads

    @contextlib.contextmanager
    def reporting():
        progress = Progress(options_to_draw(config), no_bar)
        try:
            with threads.reporting(progress):
                yield
        finally:
            progress.close()
    return reporting()

