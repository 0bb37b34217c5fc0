#!/usr/bin/env python3
"""Time slotnp against the same model in PyTorch on this CPU, interleaved.

For each configuration (net, variant) it times a full training step (forward, loss, backward,
SGD update) and the inference forward, alternating slotnp and PyTorch so machine noise hits both
alike. Each configuration runs in a fresh child process (`--one`), so that none inherits the
heap or caches another left behind: a long process that had run the K=64 nets measured CONV-6
learned 1.33x PyTorch, fresh processes 0.93-1.02x. It reports the median and min-max, the ratio slotnp/PyTorch, and the peak memory of
each (measured in a fresh child process per framework). It first checks, in float64, that both
compute the same loss and score gradients on the first step.

  pip install -r bench/requirements.txt
  python bench/bench.py          # every configuration; writes bench/results.json, prints the
                                 # markdown table kept in bench/RESULTS.md
  python bench/bench.py --nets conv2 --variants K8 --reps 5

Per layer: bench/conv_layers.py (each convolution shape alone), bench/profile_step.py (one step).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from slotnp import fast, losses, nets, optim  # noqa: E402
from common import slotnp_step, torch_calls  # noqa: E402  (versus.py calls bench.slotnp_step)

VARIANTS = {"K2": dict(slot=True, K=2), "K8": dict(slot=True, K=8),
            "K64": dict(slot=True, K=64), "learned": dict(slot=False),
            "K1024": dict(slot=True, K=1024), "K4096": dict(slot=True, K=4096)}
# From K = 1024 on PyTorch's twin holds K options and K scores per connection (CONV-2: 35 GB
# at K = 1024), more than this machine has: those rows time slotnp alone, and skip the float64
# comparison with PyTorch (slotnp's own exactness there: tests/test_slot_intervals.py).
SLOTNP_ALONE = ("K1024", "K4096")
LARGE_K = {"conv2": ("K1024", "K4096"), "conv6": ("K1024",)}   # rows issue 18 asks for
WARM_UP = 3  # calls of each before timing (PyTorch's lenet steps took 40 ms, not 2, after one)
BATCH = {"lenet": 128, "conv2": 128, "conv4": 128, "conv6": 128, "vgg19": 16}


def make(name, variant, dtype=np.float32, dropout=None, **changes):
    """(net, x, y): net built with the fast twins on (as train.py builds it), a random batch;
    `changes` replace the variant's build arguments (e.g. selection="sample")."""
    with fast.on():
        net = nets.build(name, seed=0, dtype=dtype, dropout=dropout,
                         **dict(VARIANTS[variant], **changes))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH[name],) + nets.INPUT_SHAPES[name]).astype(dtype)
    return net, x, rng.integers(0, 10, BATCH[name])


def step_gflop(net, x):
    """GFLOP of one training step's products done directly (no Winograd): each convolution and
    dense layer's forward, 2 x (outputs) x (inputs per output), and its backward, twice that (dW
    and dx), less the first layer's dx, which no one needs."""
    shapes = []
    for _, layer in net.named_layers():
        weight = getattr(layer, "weight_shape", None) or \
            (layer.params["W"].shape if "W" in getattr(layer, "params", {}) else None)
        if weight is not None:
            forward = layer.forward
            layer.forward = lambda x, train=True, f=forward, w=weight: \
                shapes.append((w, f(x, train).shape)) or f(x, train)
    try:
        with fast.on():
            net.forward(x[:1], train=False)
    finally:
        for _, layer in net.named_layers():
            layer.__dict__.pop("forward", None)
    forward = [2 * len(x) * np.prod(out[1:]) * np.prod(weight[1:]) for weight, out in shapes]
    return (3 * sum(forward) - forward[0]) / 1e9


def sgemm_gflops(threads, n=2048, reps=5):
    """This machine's float32 GEMM rate (GFLOP/s, the best of `reps` n x n products) with
    `threads` BLAS threads: the rate no product here can beat."""
    from threadpoolctl import threadpool_limits
    a, b = (np.random.default_rng(s).standard_normal((n, n)).astype(np.float32) for s in (0, 1))
    with threadpool_limits(limits=threads, user_api="blas"):
        best = min(timed(lambda: a @ b) for _ in range(reps)) / 1e3
    return 2 * n ** 3 / best / 1e9


def slotnp_infer(net, x):
    with fast.on():
        return net.forward(x, train=False)


def torch_parts(net, x, y, threads):
    return torch_calls(net, x, y, "cpu", threads)


def trained_array(net, key, gradient=False):
    """The array named `key` as in torch_twin.trained_arrays ("conv1.scores", "fc1.W"), or its
    gradient. Slot layers give their full K scores, whichever form they keep them in."""
    name, kind = key.split(".")
    layer = dict(net.named_layers())[name]
    if kind == "scores":
        return layer.score_grad() if gradient else layer.scores
    return layer.grads["W"] if gradient else layer.params["W"]


def relative_error(ours, theirs, base=None):
    """max |ours - theirs| / max |theirs| (both minus `base` when given), one slice of the first
    axis at a time: at K=64 in float64 a whole temporary would be gigabytes."""
    worst = scale = 0.0
    for i in range(len(theirs)):
        a, b = ours[i], theirs[i]
        if base is not None:
            a, b = a - base[i], b - base[i]
        worst, scale = max(worst, float(np.abs(a - b).max())), max(scale, float(np.abs(b).max()))
    return worst / max(scale, 1e-300)


def check_exactness(name, variant, steps=2):
    """Max relative error, slotnp vs PyTorch, float64, no dropout: of the loss and gradients of
    `steps` training steps, and of what SGD (momentum, weight decay) changed in between."""
    import torch
    from torch_twin import trained_arrays, twin
    net, x, y = make(name, variant, np.float64, dropout=0.0)
    model = twin(net).double()
    sgd = optim.SGD(net.params, lr=0.1)
    t_sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    theirs = trained_arrays(model)
    start = {k: v.detach().numpy().copy() for k, v in theirs.items()}
    errors = []
    for _ in range(steps):
        with fast.on():
            loss, dlogits = losses.softmax_cross_entropy(net.forward(x, train=True), y)
            net.backward(dlogits)
        t_sgd.zero_grad()
        t_loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)), torch.from_numpy(y))
        t_loss.backward()
        errors.append(abs(float(loss) - t_loss.item()) / abs(t_loss.item()))
        errors += [relative_error(trained_array(net, k, gradient=True), t.grad.numpy())
                   for k, t in theirs.items()]
        sgd.step(net.grads)
        t_sgd.step()
    errors += [relative_error(trained_array(net, k), t.detach().numpy(), start[k])
               for k, t in theirs.items()]
    return max(errors)


def peak_memory_child(framework, name, variant, threads):
    """Run 3 steps in a fresh process; return its peak RSS above the RSS after imports, in MiB
    (Linux: the peak is reset through /proc/self/clear_refs, then read from VmHWM)."""
    code = f"""
import os, sys
sys.path[:0] = [{os.path.dirname(os.path.abspath(__file__))!r}, {os.path.dirname(os.path.dirname(os.path.abspath(__file__)))!r}]
import numpy as np, bench
if {framework!r} == 'torch':
    import torch, torch_twin
def status(key):
    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith(key))
open('/proc/self/clear_refs', 'w').write('5')
base = status('VmRSS:')
net, x, y = bench.make({name!r}, {variant!r})
if {framework!r} == 'torch':
    step, _ = bench.torch_parts(net, x, y, {threads})
    del net
else:
    sgd = bench.optim.SGD(net.params, 0.01)
    step = lambda: bench.slotnp_step(net, sgd, x, y)
for _ in range(3):
    step()
print((status('VmHWM:') - base) / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else None


def timed(fn):
    start = time.perf_counter()
    fn()
    return 1000 * (time.perf_counter() - start)


def interleaved(ours, theirs, reps):
    """Time two sequences of (key, call) in turn: WARM_UP untimed rounds (a fresh process's first
    calls pay one-time set-up), then `reps` rounds, alternating which sequence goes first.
    Returns {key: [ms per round]}."""
    for _ in range(WARM_UP):
        for _, call in ours + theirs:
            call()
    times = {key: [] for key, _ in ours + theirs}
    for rep in range(reps):
        for key, call in (theirs + ours if rep % 2 else ours + theirs):
            times[key].append(timed(call))
    return times


def bench(name, variant, reps, threads):
    net, x, y = make(name, variant)
    sgd = optim.SGD(net.params, 0.01)
    alone = variant in SLOTNP_ALONE
    ours = {"step": lambda: slotnp_step(net, sgd, x, y),
            "infer": lambda: slotnp_infer(net, x)}
    theirs = dict(zip(("step", "infer"), torch_parts(net, x, y, threads))) if not alone else {}
    row = dict(net=name, variant=variant, batch=BATCH[name], gflop=step_gflop(net, x))
    if alone:                           # the first step finds every connection's window
        row["first_step_ms"] = timed(ours["step"])
    for kind in ("step", "infer"):
        times = interleaved([("slotnp", ours[kind])],
                            [("torch", theirs[kind])] if not alone else [], reps)
        a = times["slotnp"]
        row[kind] = dict(slotnp=[statistics.median(a), min(a), max(a)])
        if not alone:
            b = times["torch"]
            row[kind].update(torch=[statistics.median(b), min(b), max(b)],
                             ratio=statistics.median(a) / statistics.median(b))
    return row


def machine():
    """One line about this machine, NumPy's BLAS, numba (the compiled twins) and PyTorch."""
    import platform
    import torch
    try:
        import numba
        compiler = f"numba {numba.__version__}"
    except ImportError:
        compiler = "no numba (the NumPy twins)"
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return (f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, NumPy "
            f"{np.__version__} ({blas.get('name', '?')} {blas.get('version', '')}), "
            f"{compiler}, PyTorch {torch.__version__}")


def markdown(result):
    """The RESULTS.md table: medians in ms (min-max), ratio slotnp/PyTorch, peak MiB."""
    lines = [f"Machine: {result['machine']}. Threads: {result['threads']} for both; "
             f"{result['reps']} interleaved repetitions after {WARM_UP} warm-up calls each; "
             "float32; each configuration in a fresh process.", "",
             "| net | variant | batch | train step slotnp ms | PyTorch ms | ratio | GEMM bound ms "
             "(GFLOP) | inference slotnp ms | PyTorch ms | ratio | peak MiB slotnp / PyTorch | "
             "f64 rel. error |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    if result.get("sgemm_gflops"):
        lines[0] += (f" sgemm {result['sgemm_gflops']:.0f} GFLOP/s: the GEMM bound is a step's "
                     "products done directly (convolutions as im2col GEMMs, forward, dW and dx) at "
                     "that rate; Winograd does fewer multiply-adds and can go below it.")
    for r in result["rows"]:
        cell = lambda v: f"{v[0]:.0f} ({v[1]:.0f}-{v[2]:.0f})" if v else "-"  # noqa: E731
        ratio = lambda kind: f"**{r[kind]['ratio']:.2f}**" if "ratio" in r[kind] else "-"  # noqa
        mem = r.get("peak_mib") or {}
        mem_text = " / ".join("?" if mem.get(k) is None else f"{mem[k]:.0f}"
                              for k in ("slotnp", "torch")) if mem else "-"
        error = r.get("max_rel_error_f64")
        bound = lambda r: f"{r['bound_ms']:.0f} ({r['gflop']:.1f})" if "bound_ms" in r else "-"  # noqa
        lines.append(f"| {r['net']} | {r['variant']} | {r['batch']} | {cell(r['step']['slotnp'])} | "
                     f"{cell(r['step'].get('torch'))} | {ratio('step')} | "
                     f"{bound(r)} | {cell(r['infer']['slotnp'])} | {cell(r['infer'].get('torch'))} | "
                     f"{ratio('infer')} | {mem_text} | "
                     f"{'-' if error is None else f'{error:.0e}'} |")
    return "\n".join(lines) + "\n"


def targets_markdown(result):
    """Issue 4's acceptance targets, read off the rows of one run."""
    rows = {(r["net"], r["variant"]): r for r in result["rows"]}

    def have(keys):
        return all(k in rows for k in keys)

    def ratios(keys, kind="step"):
        return [rows[k][kind]["ratio"] for k in keys]

    def listed(values):
        return " / ".join(f"{v:.2f}" for v in values)

    conv = ("conv2", "conv4", "conv6")
    lines = ["| target | measured | met? |", "|---|---|---|"]
    for variant, limit, text in (("K8", 1.0, "conv2/4/6 slot K=8 train step <= 1.0"),
                                 ("learned", 1.2, "conv2/4/6 learned train step <= 1.2")):
        keys = [(n, variant) for n in conv]
        if have(keys):
            values = ratios(keys)
            met = sum(v <= limit for v in values)
            lines.append(f"| {text} | {listed(values)} | {met} of 3 |")
    keys = [(n, "K64") for n in conv]
    if have(keys):
        values = ratios(keys)
        memory = [rows[k].get("peak_mib") or {} for k in keys]
        below = [m.get("slotnp") is not None and m.get("torch") is not None
                 and m["slotnp"] <= m["torch"] for m in memory]
        met = sum(v <= 0.6 and b for v, b in zip(values, below))
        shares = " / ".join(f"{100 * (m['slotnp'] / m['torch'] - 1):+.0f}%"
                            if m.get("slotnp") and m.get("torch") else "?" for m in memory)
        lines.append(f"| conv2/4/6 slot K=64 train step <= 0.6, peak memory <= PyTorch's | "
                     f"{listed(values)}; memory {shares} | {met} of 3 |")
    keys = [("lenet", "K2"), ("lenet", "K8")]
    if have(keys):
        values = ratios(keys)
        lines.append(f"| lenet slot K=2 and K=8 train step <= 1.0 | {listed(values)} | "
                     f"{sum(v <= 1.0 for v in values)} of 2 |")
    keys = [k for k in rows if k[1] != "learned" and k[1] not in SLOTNP_ALONE]
    if keys:
        values = ratios(keys, "infer")
        over = ", ".join(f"{n} {v} {rows[(n, v)]['infer']['ratio']:.2f}" for n, v in keys
                         if rows[(n, v)]["infer"]["ratio"] > 1.0) or "none"
        lines.append(f"| slot-net inference <= 1.0 | {min(values):.2f} to {max(values):.2f}; "
                     f"over 1.0: {over} | {sum(v <= 1.0 for v in values)} of {len(values)} |")
    errors = [r["max_rel_error_f64"] for r in result["rows"] if "max_rel_error_f64" in r]
    lines.append(f"| float64 loss, gradients and SGD updates as PyTorch's, < 1e-10 | "
                 f"{min(errors):.0e} to {max(errors):.0e} | "
                 f"{sum(e < 1e-10 for e in errors)} of {len(errors)} |")
    return "\n".join(lines) + "\n"


def large_k_markdown(result):
    """Issue 18's targets, read off the rows of one run: for CONV-2 and CONV-6 greedy, peak
    training memory at K = 64 at most 1.25x that at K = 8 and at K = 1024 at most 1.5x; step
    time at K = 1024 at most 1.3x that at K = 8."""
    rows = {(r["net"], r["variant"]): r for r in result["rows"]}
    lines = ["| net | memory K64 / K8 (<= 1.25) | memory K1024 / K8 (<= 1.5) | "
             "step K1024 / K8 (<= 1.3) | K4096: step ms, peak MiB | first step (the build): "
             "K1024, K4096 |", "|---|---|---|---|---|---|"]
    for name in ("conv2", "conv6"):
        if (name, "K8") not in rows:
            continue
        base = rows[(name, "K8")]

        def memory(variant):
            row = rows.get((name, variant))
            mem = (row or {}).get("peak_mib") or {}
            ok = mem.get("slotnp") and (base.get("peak_mib") or {}).get("slotnp")
            return f"{mem['slotnp'] / base['peak_mib']['slotnp']:.2f}" if ok else "-"

        step = rows.get((name, "K1024"))
        step = f"{step['step']['slotnp'][0] / base['step']['slotnp'][0]:.2f}" if step else "-"
        big = rows.get((name, "K4096"))
        big = f"{big['step']['slotnp'][0]:.0f} ms, {(big.get('peak_mib') or {}).get('slotnp') or 0:.0f} MiB" \
            if big else "-"
        first = ", ".join(f"{rows[(name, v)]['first_step_ms'] / 1000:.0f} s"
                          for v in ("K1024", "K4096")
                          if "first_step_ms" in rows.get((name, v), {})) or "-"
        lines.append(f"| {name} | {memory('K64')} | {memory('K1024')} | {step} | {big} | "
                     f"{first} |")
    return "\n".join(lines) + "\n"


def leave_glibc_default():
    """--glibc-default: fast.on() leaves glibc's allocator as it is (fast/allocator.py)."""
    fast.allocator.keep_freed_memory = lambda: False


def bench_in_child(name, variant, reps, threads, glibc_default=False):
    """bench() in a fresh process (see the module docstring): the row, as a dict."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", name, variant,
                          "--reps", str(reps), "--threads", str(threads)] +
                         (["--glibc-default"] if glibc_default else []),
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"benchmarking {name} {variant} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--nets", nargs="+", default=["lenet", "conv2", "conv4", "conv6", "vgg19"])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS),
                   help="K1024 runs for conv2 and conv6, K4096 for conv2 (LARGE_K)")
    p.add_argument("--reps", type=int, default=7)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--no-memory", action="store_true")
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results.json"))
    p.add_argument("--one", nargs=2, metavar=("NET", "VARIANT"),
                   help="time one configuration in this process and print its row as JSON")
    p.add_argument("--glibc-default", action="store_true",
                   help="leave glibc's allocator as it is, for both frameworks (fast.on() "
                        "otherwise keeps freed memory: slotnp/fast/allocator.py)")
    args = p.parse_args()
    if args.glibc_default:
        leave_glibc_default()
    if args.one:
        print(json.dumps(bench(*args.one, args.reps, args.threads)))
        return
    rows = []
    rate = sgemm_gflops(args.threads)
    print(f"sgemm: {rate:.0f} GFLOP/s on {args.threads} threads; a step's bound is its direct "
          f"products' GFLOP at that rate", flush=True)
    for name in args.nets:
        for variant in args.variants:
            if name == "lenet" and variant == "K64" or name == "vgg19" and variant == "K64":
                continue
            if variant in SLOTNP_ALONE and variant not in LARGE_K.get(name, ()):
                continue
            row = bench_in_child(name, variant, args.reps, args.threads, args.glibc_default)
            alone = variant in SLOTNP_ALONE
            if not alone:
                row["max_rel_error_f64"] = check_exactness(name, variant)
                assert row["max_rel_error_f64"] < 1e-10, row
            if not args.no_memory:
                row["peak_mib"] = dict(
                    slotnp=peak_memory_child("slotnp", name, variant, args.threads),
                    torch=None if alone else peak_memory_child("torch", name, variant,
                                                               args.threads))
            row["bound_ms"] = 1e3 * row["gflop"] / rate
            rows.append(row)
            s, i = row["step"], row["infer"]
            versus = lambda kind: "" if alone else \
                f" / {row[kind]['torch'][0]:8.1f} ms = {row[kind]['ratio']:.2f}"  # noqa: E731
            print(f"{name:6s} {variant:8s} step {s['slotnp'][0]:8.1f}{versus('step')}   infer "
                  f"{i['slotnp'][0]:7.1f}{versus('infer')}   mem {row.get('peak_mib')}   "
                  f"err {row.get('max_rel_error_f64')}   bound {row['bound_ms']:.0f} ms "
                  f"({row['gflop']:.1f} GFLOP)", flush=True)
            result = dict(machine=machine(), threads=args.threads, reps=args.reps,
                          glibc_default_allocator=args.glibc_default,
                          sgemm_gflops=rate, rows=rows)
            with open(args.out, "w") as file:     # after every row: a long run keeps its rows
                json.dump(result, file, indent=1)
    print(markdown(result))
    print(targets_markdown(result))
    print(large_k_markdown(result))


if __name__ == "__main__":
    main()
