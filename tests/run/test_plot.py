"""run/plot.py: the results figures' axes and legends stay readable."""
from PIL import Image

from slotnp.run.plot import SERIES_COLOURS, Chart, accuracy_range, exploration_figure, \
    k_sweep_figure


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


def test_the_legend_takes_a_corner_that_covers_nothing_else_goes_below(tmp_path):
    """A point in the lower right sends the legend to the first clear corner; where the
    points, lines and bands leave none, the figure grows and the legend goes under the panel."""
    chart = Chart(Image.new("RGB", (1400, 900), "white"), (150, 90, 1360, 760), (2, 64),
                  (0, 100), log2_x=True, text=26)
    chart.points([2, 8], [50, 50], (0, 0, 0), "a label as long as the ones the sweeps write")
    assert chart.clear_corner() == "lower right"
    chart.points([64], [5], (0, 0, 0))                       # now under the lower-right legend
    assert chart.clear_corner() == "upper right"
    chart.band(40, 98, (0, 0, 0))          # a wide band: its tint, not only its middle line
    assert chart.clear_corner() == "lower left"
    chart.line([2, 64], [5, 5], (0, 0, 0))                    # a line along the bottom
    assert chart.clear_corner() is None
    crowded = [("configuration", [2, 8, 64], [98.0, 50.0, 2.0], [0, 0, 0])]
    k_sweep_figure(tmp_path / "crowded.png", crowded, bands=[("learned", 97.0, 0.0)],
                   paper_baseline=("paper", 1.0))
    assert Image.open(tmp_path / "crowded.png").size[1] > 900
    k_sweep_figure(tmp_path / "clear.png", [("configuration", [2, 64], [50.0, 51.0], [0, 0])],
                   bands=[("learned", 60.0, 0.0)])
    assert Image.open(tmp_path / "clear.png").size == (1400, 900)


def test_a_figure_without_a_legend_or_with_one_wider_than_the_panel(tmp_path):
    """No labels: the figure is drawn, 1400 x 900, with no legend. A legend wider than the
    panel cannot sit in a corner: it goes under the panel."""
    k_sweep_figure(tmp_path / "none.png", [(None, [2, 8], [50.0, 60.0], [0, 0])])
    assert Image.open(tmp_path / "none.png").size == (1400, 900)
    chart = Chart(Image.new("RGB", (1400, 900), "white"), (150, 90, 1360, 760), (2, 64),
                  (0, 100), log2_x=True, text=26)
    chart.points([2], [50], (0, 0, 0), "a label " * 18)
    assert chart.legend_size()[0] > 1210 and chart.clear_corner() is None


def test_an_exploration_figure_draws_each_of_ten_lines_in_its_own_colour(tmp_path):
    """The ablation's figure has seven lines: no two may share a colour (up to ten)."""
    epochs = list(range(1, 26))
    lines = [(f"line {i}", epochs, [10.0 * 0.9 ** e + i for e in epochs]) for i in range(10)]
    exploration_figure(tmp_path / "ten.png", [("GS", lines)])
    image = Image.open(tmp_path / "ten.png").convert("RGB")
    drawn = {colour for count, colour in image.getcolors(1 << 20) if count > 200}
    assert len(drawn & set(SERIES_COLOURS)) == 10


def test_an_exploration_figure_puts_a_legend_that_would_cover_a_line_under_its_panel(tmp_path):
    """Two lines that fall away from the upper right keep the legend there (900 x 700); five
    lines that fill the panel's top send it under the panel, on a taller image."""
    epochs = list(range(1, 26))
    falling = [10.0 * 0.8 ** e for e in epochs]
    exploration_figure(tmp_path / "clear.png", [("GS", [("a", epochs, falling),
                                                         ("b", epochs, falling[::-1][:1] * 25)])])
    assert Image.open(tmp_path / "clear.png").size == (900, 700)
    flat = [("K = 8, 25 epochs, bound 1.73205, wd 0.0001, scores 1.73205, padding same",
             epochs, [6.0 - i / 10] * 24 + [0.02]) for i in range(5)]
    exploration_figure(tmp_path / "crowded.png", [("GS", flat)])
    width, height = Image.open(tmp_path / "crowded.png").size
    assert width == 900 and height > 700


def test_a_flat_share_at_a_round_value_keeps_off_the_exploration_panels_frame(tmp_path,
                                                                              monkeypatch):
    """A run whose selection changes by 4.99% every epoch (the authors' constant rate): the
    exploration axis ends above it, so the line is not drawn on the panel's top edge."""
    from slotnp.run import plot
    tops = {}

    class Recorded(plot.Chart):
        def __init__(self, image, box, x_range, y_range, title="", *args, **kwargs):
            super().__init__(image, box, x_range, y_range, title, *args, **kwargs)
            tops[title] = self.y_ticks[-1]
    monkeypatch.setattr(plot, "Chart", Recorded)
    plot.learning_curves([dict(epoch=e, train_loss=1.0, train_acc=0.5, val_acc=0.5,
                               test_acc=0.5, selection_changed=0.0499) for e in (1, 2, 3)],
                         tmp_path / "curves.png")
    assert tops["exploration"] > 4.99 * 1.02


def test_a_dashed_line_draws_on_and_off_along_its_path_and_past_ten_colours(tmp_path,
                                                                          monkeypatch):
    """12 pixels drawn, 8 skipped, across corners; an exploration figure of twelve lines
    draws the eleventh and twelfth dashed, in the first two colours again."""
    from slotnp.run import plot
    pieces = plot.dashes([(0, 0), (100, 0)])
    assert [(piece[0], piece[-1]) for piece in pieces] == [
        ((a, 0.0), (a + 12, 0.0)) for a in (0.0, 20.0, 40.0, 60.0, 80.0)]
    assert plot.dashes([(0, 0), (10, 0), (10, 10)]) == [[(0.0, 0.0), (10.0, 0.0), (10.0, 2.0)]]
    drawn = []
    line = plot.Chart.line
    monkeypatch.setattr(plot.Chart, "line", lambda self, xs, ys, colour, label=None, width=3,
                        dashed=False: drawn.append((colour, dashed)) or
                        line(self, xs, ys, colour, label, width, dashed))
    exploration_figure(tmp_path / "twelve.png", [("GS", [(f"line {j}", [1, 2, 3], [5, 1, 0.1])
                                                         for j in range(12)])])
    assert [dashed for _, dashed in drawn] == [False] * 10 + [True] * 2
    assert [colour for colour, _ in drawn[10:]] == list(SERIES_COLOURS[:2])
    # the K-sweep figure: the eleventh series joined by a dashed line, its legend likewise
    drawn.clear()
    points = plot.Chart.points
    legends = []

    def recorded_points(self, *args, **kwargs):
        points(self, *args, **kwargs)
        legends.append(self.legend[-1][0])
    monkeypatch.setattr(plot.Chart, "points", recorded_points)
    plot.k_sweep_figure(tmp_path / "eleven.png", [(f"series {i}", [2, 8], [97.0, 98.0], [0, 0])
                                                 for i in range(11)])
    # (drawn twice: again, taller, with the legend under the panel)
    assert [dashed for _, dashed in drawn[-11:]] == [False] * 10 + [True]
    assert legends[-11:] == ["point"] * 10 + ["dashed point"]


def test_an_exploration_figures_linear_panel_spans_its_own_values(tmp_path, monkeypatch):
    """PS's draws differ on 85-87% of the connections throughout: on the log panels' shared
    scale (0.01-100%) that is a flat line along the top; its own linear axis shows the fall."""
    from slotnp.run import plot
    made = []

    class Recording(plot.Chart):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)
    monkeypatch.setattr(plot, "Chart", Recording)
    epochs = [1, 2, 3]
    exploration_figure(tmp_path / "two.png", [
        ("GS", [("K = 8", epochs, [10.0, 1.0, 0.01])]),
        ("PS, two draws differ", [("K = 8", epochs, [87.4, 86.0, 84.8])], "draws differ (%)",
         False)])
    log_panel, linear_panel = made[-2:]
    assert log_panel.log10_y and log_panel.y_ticks == [0.01, 0.1, 1.0, 10.0]
    assert not linear_panel.log10_y and linear_panel.y_label == "draws differ (%)"
    assert 84 <= linear_panel.y_ticks[0] <= 84.8 and 87.4 <= linear_panel.y_ticks[-1] <= 88
