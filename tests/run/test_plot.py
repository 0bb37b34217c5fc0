"""run/plot.py: the results figures' axes and legends stay readable."""
from PIL import Image

from slotnp.run.plot import accuracy_range, k_sweep_figure


def test_the_accuracy_axis_stays_within_0_and_100_percent():
    low, high = accuracy_range([9.8, 98.3, 99.95])
    assert 0 <= low < 9.8 and high == 100.0
    assert accuracy_range([97.0, 98.0]) == (97.0 - 0.1, 98.0 + 0.1)   # the 0.1-point margin


def test_many_configurations_put_the_legend_under_the_panel(tmp_path):
    """Up to two series keep the legend inside the panel (1400 x 900); more go below it, on
    a taller image, so the legend covers no point."""
    def series(n):
        return [(f"configuration {i}", [2, 8, 64], [97.0 + i / 10, 98.0, 9.8], [0, 0, 0])
                for i in range(n)]
    sizes = []
    for n in (2, 3, 6):
        k_sweep_figure(tmp_path / f"{n}.png", series(n), [("paper GS", [2, 8], [97.2, 98.2], 0)])
        sizes.append(Image.open(tmp_path / f"{n}.png").size)
    assert sizes[0] == (1400, 900)
    assert sizes[1][0] == sizes[2][0] == 1400 and 900 < sizes[1][1] < sizes[2][1]
