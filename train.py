#!/usr/bin/env python3
"""Train a Slot Machine (or the same net with learned weights) with the paper's protocol.

  python train.py --net lenet --K 2 --data-dir ../shared/datasets
  python train.py --backend cupy --net conv2 --K 8

Read top to bottom, this is the training script: the configuration, the data, the network, the
optimizer and its schedule, then the epochs, each ending in checkpoints. A run writes
config.json, metrics.jsonl, result.json, curves.png, last.npz and best.npz to --out. The
command line, the other modes (--eval, --export) and the files of a run are in slotnp/run/.
"""
import math
import os
import sys
import time

import numpy as np

from datasets import prepare
from slotnp.core import backend, optim, training, twins
from slotnp.run import build, checkpoint, cli, config as configs, evaluation, exploration, \
    memory, modes, resume_flags, run_folder


def main(argv=None):
    """Parse the flags, then train (or evaluate, or export); every failure is one line."""
    args = cli.parse_args(argv, description=__doc__.split("\n\n")[0])
    if args.eval or args.export:
        return cli.one_line_errors(lambda: dispatch(args))
    out = args.out or configs.resolve_config(args)["out"]
    return cli.one_line_errors(lambda: dispatch(args), lambda: cli.saved_in(out))


def dispatch(args):
    backend.use(args.backend)
    switch = twins.switched_on(False)
    if not args.plain:        # the fast twins register themselves; BLAS keeps to its share of
        switch = cli.fast_twins().on()   # the cores from the first product on, so a resumed
                                         # run rounds as the run it continues
    with switch:
        if args.eval:
            return modes.evaluate_checkpoint(args)
        if args.export:
            return modes.export_slot_machine(args)
        return train(args)


def train(args):
    """A new run, or (--resume) the rest of one, in its own locked output folder."""
    out = args.out if args.resume else configs.resolve_config(args)["out"]
    if args.resume:
        run_folder.check_resumable(out)
    else:
        run_folder.check_not_inside(args.finetune, out)   # the slot machine it starts from
        run_folder.check_new(out, args.overwrite, remove=False)  # refuse without touching it
    run_folder.make(out)
    with run_folder.Lock(out):
        if not args.resume:                                 # again, now that no one else can
            run_folder.check_new(out, args.overwrite, remove=False)
        # Overflow in a diverging run is reported once, by the loss check after its epoch.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return train_in(out, args)


def train_in(out, args):
    # 1. The configuration: a new run's, or (--resume) the one last.npz was saved with.
    state = dict(epoch=0, history=[], best=None, seconds=0.0)
    saved = None
    if args.resume:
        saved = checkpoint.load_run(os.path.join(out, "last.npz"))
        config, state = saved[0]["config"], saved[0]["state"]
        resume_flags.check(args.given, config)        # flags that would change it: refused
    else:
        config = configs.resolve_config(args)
    source = configs.finetune_source(config) if config["finetune"] and not args.resume else None
    with twins.switched_on(twins.switched() and not config.get("plain")):
        # 2. The data: train, validation and test splits on the device.
        data_dir = configs.data_dir_of(args, config)
        config["data_dir"] = os.path.abspath(data_dir)
        data = configs.load_data(config, data_dir)      # also records the image shape
        memory.check(source[0] if source else config, sum(len(x) for x, _ in data.values()))
        build_seconds = build.check(config)          # refuses a build of over a day
        # 3. The network: drawn from the seed, frozen from a slot machine, or resumed.
        net = configs.frozen_net(*source) if source else configs.build_net(config)
        digest = checkpoint.options_digest(net)
        if saved:
            checkpoint.resume_into(net, saved, digest, os.path.join(out, "last.npz"))
        # 4. The optimizer and the learning-rate schedule.
        optimizer = optim.SGD(net.params, config["lr"], config["momentum"],
                              config["weight_decay"], lr_scale=configs.bias_rates(config, net))
        if saved:
            optimizer.load_state_dict(saved[2])
        schedule = configs.schedule_of(config)
        if not args.resume:            # --overwrite: the old run goes now, the new one ready
            run_folder.check_new(out, args.overwrite)
            run_folder.write_json(os.path.join(out, "config.json"), config)
        print("configuration:\n" + "\n".join(f"  {k}: {v}" for k, v in config.items()) +
              f"\n  backend: {backend.name()}" +
              (f"\n  resuming at epoch: {state['epoch']}" if args.resume else ""), flush=True)
        build.announce(config, build_seconds)
        # 5. The epochs, each ending in its checkpoints.
        with build.shown(config, build_seconds, args.no_progress):
            run_epochs(out, args, config, data, net, optimizer, schedule, state, digest)
    return finish(out, config, state, net)


def run_epochs(out, args, config, data, net, optimizer, schedule, state, digest):
    augment = prepare.augmentation(config["augment"])
    started = time.time()
    if config["epochs"] == 0 and not state["history"]:   # --epochs 0: the net as drawn
        record = dict(epoch=0, lr=0.0, train_loss=None, train_acc=None)
        record.update(evaluation.evaluate_epoch(net, data, config))
        record["seconds"] = round(time.time() - started, 3)
        end_epoch(out, net, optimizer, state, digest, config, record, time.time() - started)
    if args.stop_after and state["epoch"] >= args.stop_after:
        print(f"the run has {state['epoch']} epochs, --stop-after {args.stop_after}: nothing to "
              "train (resume without --stop-after to go on)", flush=True)
        return
    for epoch in range(state["epoch"], config["epochs"]):
        tick = cli.running_time()                    # a pause (SIGTSTP) does not count
        rng = np.random.default_rng([config["seed"], epoch])   # every epoch's randomness
        net.reseed(config["seed"] * 100_003 + epoch)            # follows from (seed, epoch)
        before = exploration.selection_snapshot(net)
        batches = prepare.batches(len(data["train"][0]), config["batch_size"], rng)
        with cli.progress_bar(args, len(batches), f"epoch {epoch + 1}/{config['epochs']}") \
                as progress:
            train_loss, train_acc = training.train_epoch(
                net, optimizer, schedule, epoch, *data["train"], batches, rng, augment, progress)
        trained = cli.running_time() - tick
        if not math.isfinite(train_loss):
            raise TrainingDiverged(epoch, train_loss, config["lr"])
        record = dict(epoch=epoch + 1, lr=schedule.lr(epoch), train_loss=train_loss,
                      train_acc=train_acc)
        tested_at_new_bests = state["history"] if args.test_at == "new-best" else None
        record.update(evaluation.evaluate_epoch(net, data, config, tested_at_new_bests))
        record["seconds"] = round(cli.running_time() - tick, 3)
        record["train_seconds"] = round(trained, 3)
        if config["slot"] or config.get("edge_popup"):
            after = exploration.selection_snapshot(net)
            record.update(exploration.selection_changed(before, after))
        if config["slot"] and config.get("selection") == "sample":    # PS's own exploration
            record.update(exploration.draws_differ(net, config["seed"] * 100_003 + epoch))
        end_epoch(out, net, optimizer, state, digest, config, record, cli.running_time() - tick)
        timed_out = args.time_limit and time.time() - started > 60 * args.time_limit
        if (timed_out or state["epoch"] == args.stop_after) and state["epoch"] < config["epochs"]:
            print(f"{'time limit' if timed_out else '--stop-after'} reached after epoch "
                  f"{state['epoch']}; continue with python train.py --resume --out {out}",
                  flush=True)
            break


def end_epoch(out, net, optimizer, state, digest, config, record, seconds):
    """An epoch's record into the history; best.npz if it validates best, last.npz, metrics."""
    state["history"].append(record)
    state["epoch"] = record["epoch"]
    state["seconds"] += seconds
    meta = dict(config=config, state=state, options_digest=digest)
    if state["best"] is None or record["val_acc"] > state["best"]["val_acc"]:
        state["best"] = dict(epoch=record["epoch"], val_acc=record["val_acc"],
                             test_acc=record["test_acc"])
        checkpoint.save(os.path.join(out, "best.npz"), net, meta)
    checkpoint.save(os.path.join(out, "last.npz"), net, meta, optimizer)
    run_folder.write_json(os.path.join(out, "metrics.jsonl"), state["history"], lines=True)
    trained = "untrained" if record["train_loss"] is None else \
        f"lr {record['lr']:.4g}  loss {record['train_loss']:.4f}  " \
        f"train {100 * record['train_acc']:.2f}%"
    test = "-" if record["test_acc"] is None else f"{100 * record['test_acc']:.2f}%"
    print(f"epoch {record['epoch']:3d}  {trained}  val {100 * record['val_acc']:.2f}%  "
          f"test {test}  ({record['seconds']:.1f}s)", flush=True)


def finish(out, config, state, net):
    """metrics.jsonl again (an interrupt after the last epoch's last.npz may have cut it short),
    curves.png, selected.png (slot runs) and result.json: the test accuracy at the best
    validation epoch."""
    run_folder.write_json(os.path.join(out, "metrics.jsonl"), state["history"], lines=True)
    run_folder.learning_curves(state["history"], os.path.join(out, "curves.png"))
    best = state["best"]
    result = dict(best_epoch=best["epoch"], val_acc=best["val_acc"], test_acc=best["test_acc"],
                  epochs_run=state["epoch"], epochs=config["epochs"],
                  wall_minutes=round(state["seconds"] / 60, 2), backend=backend.name())
    result.update(evaluation.evaluation_result(config, state["history"]))
    if config["slot"]:       # mean |option| / sigma of each layer's selection, and selected.png
        result["selected_options"] = run_folder.selected_weights(net, config, out)
    run_folder.write_json(os.path.join(out, "result.json"), result)
    print(f"test accuracy at the best validation epoch ({best['epoch']}): "
          f"{100 * best['test_acc']:.2f}%  (val {100 * best['val_acc']:.2f}%, "
          f"{result['wall_minutes']:.1f} min)", flush=True)
    return 0


class TrainingDiverged(cli.OneLineError):
    """The training loss stopped being finite: the epoch is not saved."""

    def __init__(self, epoch, loss, lr):
        kept = f"last.npz keeps epoch {epoch}, best.npz the best epoch" if epoch else "none saved"
        super().__init__(f"training diverged in epoch {epoch + 1} (the loss is {loss}); "
                         f"{kept}. Start again with a smaller --lr (this run's is {lr:g}) and "
                         "another --out (or --overwrite)")


if __name__ == "__main__":
    sys.exit(main())
