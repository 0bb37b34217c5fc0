"""train.py's other modes: --eval (a checkpoint, or an exported slot machine) and --export.

Each loads what it is given, checks that the options drawn again from the seed are the ones it
was made with (the options digest), and answers in a few lines.
"""
import os

from ..core import backend
from ..core.training import accuracy
from ..slots import nets
from . import checkpoint, exploration, export
from .checkpoint import CheckpointError
from .config import build_net, data_dir_of, holds, load_data
from .evaluation import evaluate, evaluation_settings, sampled_layers
from .run_folder import (RunFolderError, bias_summary, exported_arrays, selected_in_sigmas,
                         selected_summary, weight_summary, weights_in_sigmas)


def load_slot_machine(path):
    """(config, net, options digest) of a greedy slot-machine checkpoint, for --export."""
    saved = checkpoint.load_run(path)
    config = saved[0]["config"]
    if not config["slot"]:
        raise CheckpointError(f"{path} holds {holds(config)}; --export writes slot machines")
    if config["selection"] != "greedy":
        raise CheckpointError(f"{path} holds a sampled slot machine, a distribution over "
                              "networks rather than one; --export takes greedy ones")
    net = build_net(config)
    digest = checkpoint.options_digest(net)
    checkpoint.resume_into(net, saved, digest, path)     # once the digests agree
    return config, net, digest


def export_slot_machine(args):
    source, target = args.export
    if os.path.exists(target):         # a checkpoint, a run's records: nothing trained is lost
        raise RunFolderError(f"{target} already exists; --export writes a new file: pick "
                             "another FILE (or delete that one first)")
    config, net, digest = load_slot_machine(source)
    layers = [(name, backend.to_host(layer.selected()), layer.K)
              for name, layer in nets.slot_layers(net)]
    arrays = [(name, backend.to_host(value)) for name, value in exported_arrays(net).items()]
    try:
        export.write(target, config, digest, layers, arrays)
    except OSError as error:
        raise RunFolderError(f"could not write {target} ({error.strerror or error})") from None
    size = os.path.getsize(target)
    dense = 4 * sum(index.size for _, index, _ in layers) + 4 * sum(a.size for _, a in arrays)
    print(f"wrote {target}: {size:,} bytes; the same net's float32 weights"
          f"{' and other values' if arrays else ''}: {dense:,} bytes "
          f"({size / dense:.4f} of them, {export.bits_for(config['K'])} bits a connection)")
    return 0


def load_exported_arrays(net, arrays, path):
    """Copy an export's other values (export.read's {name: flat float32 array}) into `net`."""
    own = exported_arrays(net)
    if set(arrays) != set(own) or any(arrays[n].size != own[n].size for n in own):
        raise CheckpointError(f"{path}: its biases and running statistics do not match the "
                              "network its config describes; export it again from its checkpoint")
    for name, value in own.items():
        value[...] = backend.to_device(arrays[name].reshape(value.shape).astype(value.dtype))


def evaluate_export(args):
    """--eval of an export: the options drawn again from the seed, picked by the indices."""
    try:
        header, indices, arrays = export.read(args.eval)
    except export.ExportError as error:
        raise CheckpointError(str(error)) from None
    config = header["config"]
    net = build_net(config)
    if not checkpoint.digest_matches(net, checkpoint.options_digest(net),
                                     header["options_digest"]):
        raise CheckpointError(f"{args.eval}: the options drawn again from its seed differ from "
                              "the ones it was exported with (another slotnp version?)")
    layers = dict(nets.slot_layers(net))
    if set(indices) != set(layers) or any(indices[n].shape != layers[n].weight_shape
                                          for n in layers):
        raise CheckpointError(f"{args.eval} does not match the network its config describes")
    load_exported_arrays(net, arrays, args.eval)
    frozen = nets.freeze(net, {n: backend.to_device(i) for n, i in indices.items()})
    data = load_data(config, data_dir_of(args, config))
    for split in ("val", "test"):
        print(f"{split} accuracy: {100 * accuracy(frozen, *data[split]):.2f}%")
    return 0


def evaluate_checkpoint(args):
    if export.is_export(args.eval):
        return evaluate_export(args)
    saved = checkpoint.load_run(args.eval)
    config = saved[0]["config"]
    net = build_net(config)
    checkpoint.resume_into(net, saved, checkpoint.options_digest(net), args.eval)
    data = load_data(config, data_dir_of(args, config))
    mode, draws, seed = evaluation_settings(config, args)
    accuracies = evaluate(net, {"val": data["val"], "test": data["test"]}, mode, draws, seed)
    if sampled_layers(net):
        print(f"evaluation: {mode}" + (f", mean of {draws} draws (seed {seed})"
                                       if mode == "sample" else ""))
    for split, value in accuracies.items():
        print(f"{split} accuracy: {100 * value:.2f}%")
    differ = exploration.draws_differ(net, seed).get("draws_differ_by_layer", {})
    if differ:
        print(f"draws that differ (two draws from softmax(scores); where it is flat, "
              f"1 - 1/K = {1 - 1 / config['K']:.3f}): " +
              ", ".join(f"{name} {share:.3f}" for name, share in differ.items()))
    rows = {}
    if config["slot"]:
        bound = config["option_bound"]
        print("options selected (argmax), in units of sigma: mean |option|, share beyond half "
              f"the bound {bound:g}, mean option (all options: {bound / 2:.3g}, 50%, 0)")
        rows = selected_summary(selected_in_sigmas(net, config))
    elif config.get("edge_popup") is None:
        print("weights in units of sigma, sqrt(2 / (fan_in + fan_out)), the options' scale: "
              "mean |w|, mean w")
        rows = weight_summary(weights_in_sigmas(net))
    for name, row in rows.items():
        share = f"{100 * row['beyond_half']:.1f}%  " if "beyond_half" in row else ""
        print(f"  {name:8s} {row['weights']:>10,} weights  {row['mean_abs']:.2f}  {share}"
              f"{row['mean']:+.2f}")
    biases = bias_summary(net)
    if biases:
        print("learned biases: mean b, share below 0")
    for name, row in biases.items():
        print(f"  {name:8s} {row['biases']:>10,} biases   {row['mean']:+.4f}  "
              f"{100 * row['below_zero']:.1f}%")
    return 0
