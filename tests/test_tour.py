"""docs/tour.md cannot rot: every command it shows runs, every link points at the line of the
thing it names, every test it cites exists, and it covers every module of slotnp/."""
import glob
import os
import re
import shlex
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOUR = os.path.join(ROOT, "docs", "tour.md")
TEXT = open(TOUR).read()
COMMANDS = [line[2:] for line in TEXT.splitlines() if line.startswith("$ ")]
LINKS = re.findall(r"\[([^\]]+)\]\(\.\./([^)#]+)#L(\d+)\)", TEXT)


def test_the_tour_shows_commands_and_links():
    assert len(COMMANDS) >= 8 and len(LINKS) >= 40


def test_every_command_runs(tmp_path):
    """In order, in a scratch copy of the repository's entry points, as a reader types them."""
    for name in ("train.py", "sweep.py", "slotnp", "datasets", "docs"):
        os.symlink(os.path.join(ROOT, name), tmp_path / name)
    for command in COMMANDS:
        result = subprocess.run(command, shell=True, cwd=tmp_path, capture_output=True,
                                text=True, timeout=300, executable="/bin/bash",
                                env=dict(os.environ, PYTHONPATH=str(tmp_path)))
        assert result.returncode == 0, (command, result.stdout[-2000:], result.stderr[-2000:])
    assert "passes" in subprocess.run(shlex.split(COMMANDS[1]), cwd=tmp_path, capture_output=True,
                                      text=True, env=dict(os.environ, PYTHONPATH=str(tmp_path)),
                                      ).stdout


@pytest.mark.parametrize("text, path, line", LINKS)
def test_every_link_points_at_what_it_names(text, path, line):
    lines = open(os.path.join(ROOT, path)).read().splitlines()
    target = lines[int(line) - 1]
    name = text.strip("`").replace("\\", "")
    if name.endswith(".py"):              # a link to a module: its first line, or a definition
        assert int(line) == 1 or re.match(r"\s*(def|class) ", target), \
            (path, line, target, "run python docs/relink.py")
    else:
        name = name.split(".")[-1]         # Class.method: the method's line
        assert re.match(rf"\s*(def|class) {re.escape(name)}\b", target), \
            (text, path, target, "run python docs/relink.py")


def test_every_cited_test_exists():
    cited = set(re.findall(r"`(test_\w+)`", TEXT))
    defined = set()
    for path in glob.glob(os.path.join(ROOT, "tests", "**", "test_*.py"), recursive=True):
        defined |= set(re.findall(r"^def (test_\w+)", open(path).read(), re.M))
    assert cited and cited <= defined, cited - defined


def test_the_tour_covers_every_module():
    modules = {os.path.relpath(p, ROOT) for p in glob.glob(os.path.join(ROOT, "slotnp", "**",
                                                                        "*.py"), recursive=True)
               if not p.endswith("__init__.py")}
    linked = {path for _, path, _ in LINKS} | set(re.findall(r"\(\.\./(slotnp/[\w/]+\.py)", TEXT))
    assert modules <= linked, sorted(modules - linked)


def test_the_tour_follows_the_folders_in_order():
    """Its links reach core, then slots, then fast, then run, each for the first time."""
    first = {}
    for _, path, _ in LINKS:
        folder = path.split("/")[1] if path.startswith("slotnp/") else None
        if folder:
            first.setdefault(folder, len(first))
    assert list(first) == ["core", "slots", "fast", "run"]
