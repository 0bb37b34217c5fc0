"""run/config.py: the paper's protocol as train.py's defaults."""
import pytest

from slotnp.run.cli import parse_args
from slotnp.run.config import check_resume_flags, default_weight_decay, paper_lr, resolve_config


def test_paper_learning_rates():
    assert paper_lr("greedy", 8) == 0.2 and paper_lr("greedy", 16) == 0.1
    assert paper_lr("sample", 2) == 25.0


def test_weight_decay_only_where_it_leaves_the_scores_alive():
    assert default_weight_decay("greedy") == 1e-4 and default_weight_decay(None) == 1e-4
    assert default_weight_decay("sample") == 0.0


def given_and_saved(run_flags, resume_flags):
    """(the arguments of a --resume with `resume_flags`, the configuration a run started with
    `run_flags` saved)."""
    saved = resolve_config(parse_args(run_flags + ["--out", "run"]))
    return parse_args(resume_flags + ["--resume", "--out", "run"]), saved


def test_resume_refuses_only_the_flags_given_that_change_the_run():
    run = ["--net", "lenet", "--K", "4", "--option-bound", "1", "--score-bound", "options",
           "--epochs", "100"]
    # absent flags pass, whatever their defaults (--option-bound 1.73205, --epochs 200)
    check_resume_flags(*given_and_saved(run, []))
    # given flags that match pass, each read as the run reads it: "options" is the run's 1
    check_resume_flags(*given_and_saved(run, ["--score-bound", "options", "--K", "4",
                                              "--net", "lenet", "--epochs", "100"]))
    cases = [(["--epochs", "200"], "--epochs (the run's epochs: 100; given: 200)"),  # a default
             (["--score-bound", "paper"], "--score-bound (the run's score_bound: 1.0; given: "
                                          "None)"),
             (["--learned"], "--learned (the run's method: 'slot'; given: 'learned')"),
             (["--K", "8", "--lr", "0.1"], "--K (the run's K: 4; given: 8)")]
    for flags, said in cases:
        with pytest.raises(ValueError) as refused:
            check_resume_flags(*given_and_saved(run, flags))
        assert said in str(refused.value) and "train that as a new run" in str(refused.value)
    # the last case names each flag that changes the run, and only those
    assert "--lr" in str(refused.value) and "--net" not in str(refused.value)


def test_resume_ignores_flags_that_do_not_apply_to_the_run_as_a_new_run_does():
    learned = ["--learned", "--epochs", "3"]
    check_resume_flags(*given_and_saved(learned, ["--K", "8", "--score-bound", "paper",
                                                  "--eval-draws", "5", "--keep", "0.3"]))
    with pytest.raises(ValueError, match=r"--method \(the run's method: 'learned'; given: "
                                         r"'slot'\); drop them"):
        check_resume_flags(*given_and_saved(learned, ["--method", "slot", "--K", "8"]))
    # a slot run's paper lambda (score_bound None) is a value, not an absence
    with pytest.raises(ValueError, match=r"--score-bound \(the run's score_bound: None"):
        check_resume_flags(*given_and_saved(["--score-bound", "paper"], ["--score-bound", "1"]))
