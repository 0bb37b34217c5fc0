"""run/resume_flags.py: --resume refuses the flags given that would change the run, and only
those."""
import pytest

from slotnp.run.cli import parse_args
from slotnp.run.config import resolve_config
from slotnp.run.resume_flags import check


def refused(run_flags, resume_flags, saved=None):
    """The one line a --resume with `resume_flags` gets on a run started with `run_flags`
    (or configured as `saved`), or None where it passes."""
    saved = saved or resolve_config(parse_args(run_flags + ["--out", "run"]))
    try:
        check(parse_args(resume_flags + ["--resume", "--out", "run"]).given, saved)
    except ValueError as error:
        return str(error)
    return None


RUN = ["--net", "lenet", "--K", "4", "--option-bound", "1", "--score-bound", "options",
       "--epochs", "100"]


def test_flags_that_match_the_run_pass_each_read_as_the_run_reads_it():
    assert refused(RUN, []) is None           # absent flags, whatever their defaults
    assert refused(RUN, ["--score-bound", "options", "--K", "4", "--net", "lenet",
                         "--epochs", "100", "--restarts", "75,25,300"]) is None
    assert refused(RUN, ["--score-bound", "1"]) is None            # "options" was 1


@pytest.mark.parametrize("flags, said", [
    (["--epochs", "200"], "--epochs 200 (the run's epochs: 100)"),     # given at its default
    (["--score-bound", "paper"], "--score-bound paper (the run's score bound: 1)"),
    (["--score-bound", "options", "--option-bound", "2"],
     "--option-bound 2 (the run's option bound: 1), --score-bound options (the run's score "
     "bound: 1)"),
    (["--learned"], "--learned (the run's method: slot)"),
    (["--shared"], "--shared layer (the run's shared: off)"),
    (["--restarts", "25"], "--restarts 25 (the run's restarts: 25,75)"),
    (["--K", "8", "--lr", "0.1", "--net", "lenet"], "--K 8 (the run's K: 4), --lr 0.1 (the run's"
     " lr: 0.2); drop them"),
])
def test_flags_that_would_change_the_run_are_refused_each_named(flags, said):
    line = refused(RUN, flags)
    assert said in line and line.startswith("--resume continues the run as it was configured")
    assert line.endswith("drop them, or train that as a new run in another --out")


def test_flags_that_do_not_apply_pass_as_a_new_run_ignores_them():
    learned = ["--learned", "--epochs", "3"]
    assert refused(learned, ["--K", "8", "--score-bound", "paper", "--eval-draws", "5",
                             "--keep", "0.3", "--plain"]) is None
    assert "--method slot (the run's method: learned); drop" in \
        refused(learned, ["--method", "slot", "--K", "8"])
    # a slot run's paper lambda (score bound None) is a value, not an absence
    assert "(the run's score bound: paper)" in refused(["--score-bound", "paper"],
                                                        ["--score-bound", "1"])
    # fine-tuning takes the net, data and seed from its slot machine, whatever the flags say
    tuned = dict(resolve_config(parse_args(["--finetune", "x.npz", "--out", "run"])),
                 net="lenet", seed=0, dataset="mnist")
    assert refused(None, ["--finetune", "x.npz", "--net", "conv2", "--seed", "3"], tuned) is None
    assert "--finetune y.npz" in refused(None, ["--finetune", "y.npz"], tuned)


def test_a_run_saved_before_a_key_existed_is_read_as_it_ran():
    old = resolve_config(parse_args(RUN + ["--out", "run"]))
    for key in ("padding", "dropout_at", "schedule", "method", "score_bound", "edge_popup"):
        del old[key]                         # paper's lambda, padded, SGDR, dropout after
    assert refused(None, ["--padding", "same", "--dropout-at", "after", "--schedule", "sgdr",
                          "--method", "slot", "--score-bound", "paper"], old) is None
    assert "--plain (the run's score form: factored)" in \
        refused(None, ["--plain"], dict(old, score_form="factored"))


def test_the_line_names_an_empty_or_absent_value_as_none():
    constant = ["--schedule", "constant", "--lr", "0.1"]
    assert "--restarts 25,75 (the run's restarts: none)" in refused(constant, ["--restarts",
                                                                              "25,75"])
    assert "--finetune " in refused([], ["--finetune", "x.npz"]) and \
        "(the run's finetune: none)" in refused([], ["--finetune", "x.npz"])
    # --learned wins over --method, in a new run and in the check alike
    assert refused(["--learned"], ["--learned", "--method", "slot"]) is None
