"""The README's commands stay true: every train.py and sweep.py command it shows parses, every
comparison it shows draws its committed figure, and its flag table lists exactly train.py's
flags."""
import os
import re
import shlex
import subprocess
import sys

import pytest

import sweep
from slotnp.run import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md")).read()


def shown_commands(script):
    """The README's `python SCRIPT ...` commands, as argument lists: the indented lines
    (continuations joined, comments and redirections dropped) and those quoted in the text."""
    text = README.replace("\\\n", " ")
    commands = [shlex.split(quoted) for quoted in re.findall(rf"`python {script} ([^`]+)`", text)]
    for line in text.splitlines():
        line = line.strip().split(" #")[0].split(" >")[0]
        if line.startswith(f"python {script} "):
            commands.append(shlex.split(line)[1 + len(script.split()):])
    return commands


def test_the_readme_shows_both_scripts():
    assert len(shown_commands("train.py")) >= 3 and len(shown_commands("sweep.py")) >= 5
    assert len(shown_commands("-m slotnp.run.compare")) >= 1


@pytest.mark.parametrize("argv", shown_commands("train.py"), ids=" ".join)
def test_every_train_command_shown_parses(argv):
    cli.parse_args(argv)


@pytest.mark.parametrize("argv", shown_commands("sweep.py"), ids=" ".join)
def test_every_sweep_command_shown_parses(argv):
    sweep.parse_args(argv)


@pytest.mark.parametrize("argv", shown_commands("-m slotnp.run.compare"), ids=" ".join)
def test_every_compare_command_shown_draws_the_committed_figure_from_the_records(argv,
                                                                                 tmp_path):
    """The command runs on the committed records, and the figure shown is what it draws now:
    each run's colour covers as many pixels (within 2%; the text may differ between Pillows),
    so a figure left behind by a record that grew fails."""
    import numpy as np
    from PIL import Image

    from slotnp.run import compare
    from slotnp.run.plot import series_style
    shown = os.path.join(ROOT, argv[argv.index("--out") + 1])
    runs = [os.path.join(ROOT, a) if a.startswith("results/") else a for a in argv]
    assert compare.main(runs + ["--out", str(tmp_path / "figure.png")]) == 0
    runs_drawn = next(i for i, a in enumerate(argv) if a.startswith("--"))   # the RUN folders
    for i in range(runs_drawn):
        colour = np.array(series_style(i)[0])
        now, committed = (int((np.abs(np.asarray(Image.open(path).convert("RGB"), dtype=int)
                                      - colour).sum(axis=-1) == 0).sum())
                          for path in (tmp_path / "figure.png", shown))
        assert abs(now - committed) <= 0.02 * committed, (i, now, committed)


def test_the_flag_table_lists_every_flag_of_train_py():
    help_text = subprocess.run([sys.executable, "train.py", "--help"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout
    flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", help_text)) - {"--help"}
    table = README.split("## The command line")[1].split("\n## ")[0]
    listed = set(re.findall(r"`(--[a-z][a-z0-9-]*)", table))
    assert flags == listed, (sorted(flags - listed), sorted(listed - flags))


# README blocks that are a collation's summary as written (the MNIST table: its first 8 lines)
COLLATED = {"cifar-short": ("results/cifar10/cifar-conv2-short-summary.md", None),
            "cifar-conv2": ("results/cifar10/cifar-conv2-summary.md", None),
            "cifar-progress": ("results/cifar10/cifar-conv2-progress.md", None),
            "cifar-authors-progress": ("results/cifar10/cifar-conv2-authors-progress.md", None),
            "cifar-finetune": ("results/cifar10/cifar-conv2-finetune-summary.md", None),
            "cifar-deeper": ("results/cifar10/cifar-deeper-short-summary.md", None),
            "cifar-bias": ("results/cifar10/cifar-conv2-bias-summary.md", None),
            "cifar-bias-progress": ("results/cifar10/cifar-conv2-bias-progress.md", None),
            "mnist-table": ("results/mnist/mnist-summary.md", 8)}


@pytest.mark.parametrize("marker", sorted(COLLATED))
def test_the_collated_tables_shown_are_the_recorded_ones(marker):
    """Collating again (sweep.py --collate) rewrites the summaries; the README must follow."""
    path, lines = COLLATED[marker]
    if marker.endswith("progress") and not os.path.isfile(os.path.join(ROOT, path)):
        assert f"<!-- {marker} -->" not in README      # every run has finished: no table left
        return
    shown = README.split(f"<!-- {marker} -->\n")[1].split(f"<!-- /{marker} -->")[0]
    with open(os.path.join(ROOT, path)) as file:
        assert shown == "".join(file.readlines()[:lines])
