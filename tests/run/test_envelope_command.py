"""The envelope from the command line (python -m slotnp.run.envelope): the lines it walks are
the ones on top somewhere, the same as the fast twin's candidates, and the reader sees no
warning."""
import os
import subprocess
import sys

import numpy as np
import pytest

from slotnp.fast.envelope import envelope_candidates, envelope_walk
from slotnp.fast.slot_factored import k_last_on_device


def test_the_walk_is_the_argmax_at_every_r_and_the_candidates_of_the_fast_twin():
    rng = np.random.default_rng(3)
    for _ in range(20):
        W, S0 = rng.uniform(-1, 1, 16), rng.uniform(0, 1, 16)
        walk = envelope_walk(W, S0)
        starts = [start for _, start in walk[1:]]
        assert starts == sorted(starts)
        # between two crossings the walk's line is the argmax; far out, the extreme slopes
        edges = [starts[0] - 10.0] + starts + [starts[-1] + 10.0] if starts else [-10.0, 10.0]
        middles = [(lo + hi) / 2 for lo, hi in zip(edges[:-1], edges[1:])]
        assert [int(np.argmax(r * W + S0)) for r in middles] == [k for k, _ in walk]
        index = envelope_candidates(k_last_on_device(W[None]), k_last_on_device(S0[None]))
        expected = set(range(16)) if index is None else set(np.asarray(index[0])[0].tolist())
        assert {k for k, _ in walk} == expected


def test_the_command_lists_the_options_a_connection_can_select():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run([sys.executable, "-m", "slotnp.run.envelope", "--K", "16"],
                            capture_output=True, text=True, check=True, cwd=root)
    assert "found in sys.modules" not in result.stderr   # runpy's warning, inside fast/
    lines = result.stdout.strip().splitlines()
    assert lines[-1].startswith("5 of the 16 options can ever be selected")
    assert len(lines) == 2 + 5 + 1                 # two lines of heading, the five, the count


@pytest.mark.parametrize("argv, message", [
    (["--K", "0"], "--K: must be an integer >= 1"),
    (["--K", "100000000"], "--K: at most 256"),
    (["--connection", "235200"], "fc1 has 235200 connections (0 to 235199)"),
    (["--connection", "-1"], "--connection: must be an integer >= 0"),
    (["--seed", "-1"], "--seed: must be an integer >= 0"),
])
def test_a_bad_flag_is_one_line(argv, message, capsys):
    from slotnp.run import envelope
    with pytest.raises(SystemExit) as stop:
        envelope.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1 and message in err[0], err
