"""The gradient check as a reader runs it (python -m slotnp.run.gradcheck, over
slotnp/core/gradcheck.py): every layer passes in float64, float32 is refused with one line that
says why, and slot layers are checked the straight-through way."""
import subprocess
import sys

import numpy as np
import pytest

from slotnp.core import Linear
from slotnp.core.gradcheck import check_layer, layer_errors
from slotnp.slots.straight_through import straight_through_errors
from slotnp.run import gradcheck


@pytest.mark.parametrize("layer", gradcheck.LAYERS)
def test_every_layer_passes_in_float64(layer, capsys):
    assert gradcheck.main([layer, "--stride", "2", "--padding", "1"]) == 0
    out = capsys.readouterr().out
    assert "passes: largest relative error" in out
    if layer.startswith(("Slot", "EdgePopup")):
        assert "checked straight-through" in out and "held fixed" in out


def test_a_wrong_backward_fails(monkeypatch, capsys):
    right = Linear.backward
    monkeypatch.setattr(Linear, "backward", lambda self, dout: 2 * right(self, dout))
    assert gradcheck.main(["Linear"]) == 1
    assert "FAILS" in capsys.readouterr().out


def test_float32_is_refused_with_one_line():
    result = subprocess.run([sys.executable, "-m", "slotnp.run.gradcheck", "Conv2d", "--dtype",
                             "float32"], capture_output=True, text=True, timeout=60)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "need float64" in lines[0]
    with pytest.raises(ValueError, match="need float64"):
        check_layer(Linear(3, 2), np.zeros((1, 3), np.float32),
                              np.zeros((1, 2), np.float32))


@pytest.mark.parametrize("argv, message", [
    (["Foo"], "argument layer: invalid choice: 'Foo'"),
    (["Linear", "--seed", "-1"], "--seed: must be an integer >= 0"),
])
def test_a_bad_flag_is_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as stop:
        gradcheck.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(err) == 1 and message in err[0], err


def test_a_slot_layer_fails_the_plain_check_and_passes_the_straight_through_one(rng):
    """Why the straight-through check exists: through an argmax the numerical score gradient is
    0, so the plain check must fail on the scores, and only on them."""
    from slotnp.slots import SlotLinear
    layer = SlotLinear(5, 3, K=4, rng=rng, dtype=np.float64, score_form="explicit")
    x, dout = rng.standard_normal((2, 5)), rng.standard_normal((2, 3))
    errors = layer_errors(layer, x, dout)
    assert errors["x"] < 1e-7 and errors["scores"] > 0.9
    assert max(straight_through_errors(layer, x, dout).values()) < 1e-7
