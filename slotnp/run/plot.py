"""Charts drawn with Pillow: a small `Chart` (axes, round ticks, grid, legend, lines, points with
error bars, bands) and every picture slotnp writes: a run's curves.png and selected.png, the
sweeps' figures (accuracy against K, exploration, the fine-tuning budget, edge-popup's kept
fraction) and compare.py's runs side by side.

Text uses Pillow's scalable default font (`ImageFont.load_default(size)`, Pillow >= 10.1).
"""
import math

from PIL import Image, ImageDraw, ImageFont

BLUE, RED, GREEN = (31, 119, 180), (214, 39, 40), (44, 160, 44)
ORANGE, PURPLE, GREY = (255, 127, 14), (148, 103, 189), (110, 110, 110)
BROWN, PINK, OLIVE, CYAN = (140, 86, 75), (227, 119, 194), (188, 189, 34), (23, 190, 207)
INK, GRID = (0, 0, 0), (225, 225, 225)


def font(size):
    """Pillow's scalable default font at `size` pixels (a bitmap font on old Pillows)."""
    try:
        return ImageFont.load_default(size=size)
    except TypeError:
        return ImageFont.load_default()


def nice_ticks(low, high, count=6):
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if not high > low:
        low, high = low - 0.5, high + 0.5
    raw = (high - low) / max(1, count - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step + 1e-9) * step
    ticks, value = [], first
    while value < high + step * 1e-9 or len(ticks) < 2:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high - 1e-9 * step:
        ticks.append(round(value, 10))
    return ticks


def tick_label(value):
    return f"{value:g}"


CORNERS = ("lower right", "upper right", "lower left", "upper left")   # legend places


class Chart:
    """One panel: x and y axes with round ticks and grid lines, series, and a legend.

    box: (left, top, right, bottom) of the plotting area on `image`. `log2_x` spaces x
    by log2 (ticks at the powers of two in range); `log10_y` spaces y by log10 (ticks at the
    powers of ten; values below the range sit on its floor). Call the series methods, then
    `finish()`.
    """

    def __init__(self, image, box, x_range, y_range, title="", x_label="", y_label="",
                 log2_x=False, text=22, log10_y=False):
        self.image, self.draw = image, ImageDraw.Draw(image)
        self.box, self.log2_x, self.log10_y = box, log2_x, log10_y
        self.font, self.small = font(text), font(int(text * 0.85))
        if log2_x:
            low, high = (math.log2(v) for v in x_range)
            self.x_ticks = [2.0 ** e for e in range(math.ceil(low - 1e-9),
                                                     math.floor(high + 1e-9) + 1)]
            self.x_range = (low - 0.3, high + 0.3)
        else:
            self.x_ticks = nice_ticks(*x_range)
            self.x_range = (self.x_ticks[0], self.x_ticks[-1])
        if log10_y:
            low, high = (math.log10(v) for v in y_range)
            self.y_ticks = [10.0 ** e for e in range(math.floor(low), math.ceil(high) + 1)]
            self.y_range = (math.log10(self.y_ticks[0]), math.log10(self.y_ticks[-1]))
        else:
            self.y_ticks = nice_ticks(*y_range)
            self.y_range = (self.y_ticks[0], self.y_ticks[-1])
        self.title, self.x_label, self.y_label = title, x_label, y_label
        self.legend = []
        self.marks = []      # pixels of the points and line vertices drawn: the legend avoids them
        self._axes()

    def x(self, value):
        left, _, right, _ = self.box
        value = math.log2(value) if self.log2_x else value
        low, high = self.x_range
        return left + (right - left) * (value - low) / (high - low)

    def y(self, value):
        _, top, _, bottom = self.box
        low, high = self.y_range
        if self.log10_y:
            value = math.log10(max(value, 10.0 ** low))
        return bottom - (bottom - top) * (value - low) / (high - low)

    def _axes(self):
        draw, (left, top, right, bottom) = self.draw, self.box
        for value in self.y_ticks:
            y = self.y(value)
            draw.line((left, y, right, y), fill=GRID, width=1)
            label = tick_label(value)
            width = draw.textlength(label, font=self.small)
            draw.text((left - 10 - width, y), label, fill=INK, font=self.small, anchor="lm")
        for value in self.x_ticks:
            x = self.x(value)
            draw.line((x, top, x, bottom), fill=GRID, width=1)
            draw.text((x, bottom + 8), tick_label(value), fill=INK, font=self.small, anchor="mt")
        draw.rectangle(self.box, outline=INK, width=2)
        draw.text(((left + right) / 2, top - 14), self.title, fill=INK, font=self.font,
                  anchor="md")
        draw.text(((left + right) / 2, bottom + 40), self.x_label, fill=INK, font=self.font,
                  anchor="mt")
        if self.y_label:
            size = self.font.getbbox(self.y_label)
            label = Image.new("RGBA", (size[2] + 4, size[3] + 4), (255, 255, 255, 0))
            ImageDraw.Draw(label).text((2, 0), self.y_label, fill=INK, font=self.font)
            label = label.rotate(90, expand=True)
            self.image.paste(label, (int(left - 70 - label.width), int((top + bottom - label.height)
                                                                  / 2)), label)

    def _trace(self, points):
        """Remember the pixels of a polyline, one every few along each segment (`marks`)."""
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            steps = max(1, int(max(abs(x1 - x0), abs(y1 - y0)) // 8))
            self.marks += [(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps)
                           for i in range(steps + 1)]
        self.marks += points[:1]

    def _clip(self, points):
        _, top, _, bottom = self.box
        return [(x, min(max(y, top), bottom)) for x, y in points]

    def line(self, xs, ys, colour, label=None, width=3, dashed=False):
        points = self._clip([(self.x(a), self.y(b)) for a, b in zip(xs, ys) if b is not None])
        for piece in dashes(points) if dashed else [points]:
            if len(piece) > 1:
                self.draw.line(piece, fill=colour, width=width, joint="curve")
        self._trace(points)
        if label:
            self.legend.append(("dashed" if dashed else "line", colour, label))

    def points(self, xs, ys, colour, label=None, errors=None, hollow=False, offset=0, size=7,
               dashed=False):
        """Markers at (x, y), shifted `offset` pixels right; `errors` draws +- bars; `dashed`:
        their legend shows them on a dashed line (a series joined by one)."""
        for i, (a, b) in enumerate(zip(xs, ys)):
            x, y = self.x(a) + offset, self.y(b)
            if errors is not None and errors[i]:
                top, bottom = self.y(b + errors[i]), self.y(b - errors[i])
                self._trace([(x, top), (x, bottom)])
                self.draw.line((x, top, x, bottom), fill=colour, width=2)
                self.draw.line((x - 6, top, x + 6, top), fill=colour, width=2)
                self.draw.line((x - 6, bottom, x + 6, bottom), fill=colour, width=2)
            box = (x - size, y - size, x + size, y + size)
            self.marks.append((x, y))
            if hollow:
                self.draw.ellipse(box, fill=(255, 255, 255), outline=colour, width=3)
            else:
                self.draw.ellipse(box, fill=colour)
        if label:
            self.legend.append(("hollow" if hollow else "dashed point" if dashed else "point",
                                colour, label))

    def bars(self, edges, heights, colour, label=None):
        """A histogram: a bar of height heights[i] over [edges[i], edges[i + 1]]."""
        tint = tuple(int(c + (255 - c) * 0.35) for c in colour)
        for low, high, height in zip(edges[:-1], edges[1:], heights):
            box = self._clip([(self.x(low), self.y(height)), (self.x(high), self.y(0))])
            self.draw.rectangle((box[0][0] + 1, box[0][1], box[1][0] - 1, box[1][1]), fill=tint,
                                outline=colour)
        if label:
            self.legend.append(("band", colour, label))

    def band(self, low, high, colour, label=None):
        """A horizontal band between y = low and y = high across the panel."""
        left, _, right, _ = self.box
        tint = tuple(int(c + (255 - c) * 0.75) for c in colour)
        top, bottom = self._clip([(0, self.y(high)), (0, self.y(low))])
        self.draw.rectangle((left + 2, top[1], right - 2, bottom[1]), fill=tint)
        middle = self.y((low + high) / 2)
        self.draw.line((left + 2, middle, right - 2, middle), fill=colour, width=2)
        for y in (top[1], middle, bottom[1]):          # the legend avoids the tint too
            self._trace([(left + 2, y), (right - 2, y)])
        if label:
            self.legend.append(("band", colour, label))

    def legend_size(self):
        """(width, height) of the legend box in pixels ((0, 0) without a legend)."""
        if not self.legend:
            return 0, 0
        width = max(self.draw.textlength(t, font=self.small) for _, _, t in self.legend) + 64
        return width, (self.small.size + 12) * len(self.legend) + 12

    def _corner_origin(self, corner):
        left, top, right, bottom = self.box
        width, height = self.legend_size()
        return (right - width - 14 if "right" in corner else left + 14,
                bottom - height - 14 if "lower" in corner else top + 14)

    def clear_corner(self, preferred="lower right"):
        """The first panel corner, `preferred` first, where the legend covers nothing drawn
        (`marks`), or None (also where the legend is wider than the panel)."""
        width, height = self.legend_size()
        left, _, right, _ = self.box
        if width > right - left - 28:
            return None
        for corner in [preferred] + [c for c in CORNERS if c != preferred]:
            x0, y0 = self._corner_origin(corner)
            if not any(x0 - 10 <= x <= x0 + width + 10 and y0 - 10 <= y <= y0 + height + 10
                       for x, y in self.marks):
                return corner
        return None

    def finish(self, corner="lower right"):
        """Draw the legend inside the panel, in `corner` (or the first other corner where it
        covers nothing drawn), or "below" it (under the x label: the image needs room for its
        rows, each the small font's size + 12). Then redraw the frame."""
        if not self.legend:
            return
        left, top, right, bottom = self.box
        row = self.small.size + 12
        width, height = self.legend_size()
        if corner == "below":
            x0, y0 = left, bottom + 100
        else:
            x0, y0 = self._corner_origin(self.clear_corner(corner) or corner)
        self.draw.rectangle((x0, y0, x0 + width, y0 + height), fill=(255, 255, 255),
                            outline=GREY, width=1)
        for i, (kind, colour, text) in enumerate(self.legend):
            y = y0 + 6 + row * i + row / 2
            mark = x0 + 26
            if kind in ("line", "dashed", "dashed point"):     # (a point on a dashed line)
                sample = [(mark - 16, y), (mark + 16, y)]
                for piece in [sample] if kind == "line" else dashes(sample, 13, 6):
                    self.draw.line(piece, fill=colour, width=2 if kind == "dashed point" else 3)
            elif kind == "band":
                tint = tuple(int(c + (255 - c) * 0.75) for c in colour)
                self.draw.rectangle((mark - 16, y - 8, mark + 16, y + 8), fill=tint)
                self.draw.line((mark - 16, y, mark + 16, y), fill=colour, width=2)
            if kind in ("point", "hollow", "dashed point"):
                box = (mark - 7, y - 7, mark + 7, y + 7)
                if kind == "hollow":
                    self.draw.ellipse(box, fill=(255, 255, 255), outline=colour, width=3)
                else:
                    self.draw.ellipse(box, fill=colour)
            self.draw.text((x0 + 52, y), text, fill=INK, font=self.small, anchor="lm")
        self.draw.rectangle(self.box, outline=INK, width=2)


def dashes(points, on=12.0, off=8.0):
    """The pieces of a polyline that a dashed line draws: `on` pixels along it drawn, then
    `off` skipped, and so on across its corners."""
    pieces, piece, phase = [], [], 0.0        # phase: how far into the current on + off
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        length, done = math.hypot(x1 - x0, y1 - y0), 0.0
        while done < length - 1e-9:
            drawing = phase < on
            step = min(length - done, (on if drawing else on + off) - phase)
            ends = [(x0 + (x1 - x0) * t, y0 + (y1 - y0) * t)
                    for t in (done / length, (done + step) / length)]
            if drawing:
                piece = (piece or ends[:1]) + ends[1:]
            elif piece:
                pieces, piece = pieces + [piece], []
            done, phase = done + step, (phase + step) % (on + off)
    return pieces + [piece] * (len(piece) > 1)


def learning_curves(history, path):
    """curves.png: training loss; training, validation and test accuracy (%); and, for slot and
    edge-popup runs, the exploration: the share of connections whose selection changed in
    each epoch (%). An epoch 0 (--epochs 0: the untrained net) has accuracies only.

    history: per-epoch dicts with epoch, train_loss, train_acc, val_acc, test_acc and maybe
    selection_changed and (PS) draws_differ, drawn beside it.
    """
    changed = [h.get("selection_changed") for h in history]
    panels = 3 if any(c is not None for c in changed) else 2
    image = Image.new("RGB", (800 * panels, 640), "white")
    epochs = [h["epoch"] for h in history]
    span = (min(epochs[0], 0), max(epochs[-1], 1))

    def draw(chart, values, colour, label):   # a line, or a point where there is one value
        if sum(v is not None for v in values) > 1:
            chart.line(epochs, values, colour, label)
        else:
            pairs = [(e, v) for e, v in zip(epochs, values) if v is not None]
            chart.points([e for e, _ in pairs], [v for _, v in pairs], colour, label)

    losses = [h["train_loss"] for h in history]
    known = [v for v in losses if v is not None] or [1.0]
    loss = Chart(image, (130, 70, 730, 530), span, (0, max(known)), "training loss", "epoch",
                 "cross-entropy")
    draw(loss, losses, BLUE, "training loss")
    loss.finish("upper right")
    accuracy = {k: [None if h[k] is None else 100 * h[k] for h in history]
                for k in ("train_acc", "val_acc", "test_acc")}
    values = [v for series in accuracy.values() for v in series if v is not None]
    # the last epochs' range, so that the plateau is readable, not the first epoch's jump
    tail = [v for series in accuracy.values() for v in series[len(series) // 10:]
            if v is not None]
    low = min(tail) if len(history) >= 10 else min(values)
    panel = Chart(image, (930, 70, 1550, 530), span, (low, min(100.0, max(values))),
                  "accuracy", "epoch", "accuracy (%)")
    for key, colour, label in (("train_acc", BLUE, "training"), ("val_acc", RED, "validation"),
                               ("test_acc", GREEN, "test")):
        draw(panel, accuracy[key], colour, label)
    panel.finish("lower right")
    if panels == 3:
        shares = [None if c is None else 100 * c for c in changed]
        differ = [None if h.get("draws_differ") is None else 100 * h["draws_differ"]
                  for h in history]
        top = max([v for v in shares + differ if v is not None] + [1e-9])
        # 5% above the largest share (to 100%): a flat line at a round value keeps off the frame
        explore = Chart(image, (1730, 70, 2350, 530), span, (0, min(1.05 * top, 100.0)),
                        "exploration", "epoch", "connections (%)")
        draw(explore, shares, PURPLE, "selection (argmax) changed")
        if any(v is not None for v in differ):
            draw(explore, differ, GREEN, "two draws differ (PS)")
        explore.finish("upper right")
    image.save(path)


def exploration_figure(path, panels):
    """The share of connections whose selection changed in each epoch (%), a panel per (title,
    [(label, epochs, shares)]), or (title, lines, the y axis's label), or (title, lines, label,
    False): a linear axis. The log panels share one scale (GS against PS); a linear one spans
    its own values (PS's draws that differ, 80-90% throughout). Each legend goes in a corner of
    its panel where it covers no line; where some panel has none, the figure is drawn again,
    taller, with every legend under its panel."""
    panels = [(title, lines, (rest + ["selections changed (%, log)"])[0], (rest[1:] + [True])[0])
              for title, lines, *rest in panels]
    logged = [v for _, lines, _, log in panels if log for _, _, shares in lines for v in shares
              if v > 0]
    floor = max(min(logged), 1e-4) if logged else None
    epochs = [e for _, lines, *_ in panels for _, es, _ in lines for e in es]

    def y_range(lines, log):
        values = [v for _, _, shares in lines for v in shares]
        return (floor, max(logged)) if log else (min(values), min(100.0, max(values)))

    def draw(height):
        image, charts = Image.new("RGB", (900 * len(panels), height), "white"), []
        for i, (title, lines, y_label, log) in enumerate(panels):
            chart = Chart(image, (150 + 900 * i, 80, 830 + 900 * i, 580), (0, max(epochs)),
                          y_range(lines, log), title, "epoch", y_label, log10_y=log)
            for j, (label, es, shares) in enumerate(lines):
                colour, dashed = series_style(j)
                chart.line(es, shares, colour, label, dashed=dashed)
            charts.append(chart)
        return image, charts
    image, charts = draw(700)
    corners = [chart.clear_corner("upper right") for chart in charts]
    if any(chart.legend and corner is None for chart, corner in zip(charts, corners)):
        image, charts = draw(580 + 100 + max(c.legend_size()[1] for c in charts) + 30)
        corners = ["below"] * len(charts)
    for chart, corner in zip(charts, corners):
        chart.finish(corner or "upper right")
    image.save(path)


def selected_weights(layers, path, title=""):
    """selected.png: per slot layer, the histogram of the options its connections use against
    the distribution they were drawn from, both in units of the layer's sigma.

    layers: (name, selected values / sigma (any shape), option bound b) for each layer: the
    options are U(-b, b) in these units, a flat density 1 / 2b.
    """
    columns = min(3, len(layers))
    rows = math.ceil(len(layers) / columns)
    image = Image.new("RGB", (720 * columns, 560 * rows + 70), "white")
    if title:
        ImageDraw.Draw(image).text((360 * columns, 24), title, fill=INK, font=font(26),
                                   anchor="mt")
    for i, (name, values, bound) in enumerate(layers):
        values = values.reshape(-1)
        edges = [bound * (2 * k / 30 - 1) for k in range(31)]
        counts = [0] * 30
        for k, count in enumerate(_histogram(values, edges)):
            counts[k] = count
        width = edges[1] - edges[0]
        density = [c / (len(values) * width) for c in counts]
        left, top = 130 + 720 * (i % columns), 110 + 560 * (i // columns)
        chart = Chart(image, (left, top, left + 540, top + 380), (-bound, bound),
                      (0, max(max(density), 1 / (2 * bound)) * 1.6),    # room for the legend
                      f"{name}: {len(values):,} weights", "option / sigma", "density")
        chart.bars(edges, density, BLUE, "options selected")
        chart.line([-bound, bound], [1 / (2 * bound)] * 2, GREY, f"all options, U(-{bound:.3g}, "
                   f"{bound:.3g})", width=4)
        chart.finish("upper right")
    image.save(path)


def _histogram(values, edges):
    """Counts of `values` (a NumPy array) in the bins between `edges`."""
    import numpy
    return numpy.histogram(values, bins=edges)[0].tolist()


SERIES_COLOURS = (BLUE, RED, PURPLE, ORANGE, GREEN, GREY, BROWN, PINK, OLIVE, CYAN)


def series_style(i):
    """(colour, dashed) of a figure's series i: the ten colours in turn, dashed past them."""
    return SERIES_COLOURS[i % len(SERIES_COLOURS)], i // len(SERIES_COLOURS) % 2 == 1


def accuracy_range(values, bands=()):
    """The accuracy axis of a results figure: every value and every band's mean +- std, with a
    margin of 8% (at least 0.1 point) on each side."""
    values = list(values) + [mean + sign * std for _, mean, std in bands for sign in (-1, 1)]
    low, high = min(values), max(values)
    margin = max(0.1, 0.08 * (high - low))
    return max(0.0, low - margin), min(100.0, high + margin)


def save_figure(path, plot, below=False):
    """A results figure, 1400 pixels wide: plot(image) draws its panel (150, 90)-(1360, 760)
    and returns the Chart. The legend goes in the first corner of the panel where it covers
    nothing drawn; where there is none (or `below`), the figure is drawn again, taller, with
    the legend under the panel."""
    image = Image.new("RGB", (1400, 900), "white")
    chart = plot(image)
    corner = None if below else chart.clear_corner()
    if corner is None:
        image = Image.new("RGB", (1400, 760 + 100 + chart.legend_size()[1] + 30), "white")
        chart, corner = plot(image), "below"
    chart.finish(corner)
    image.save(path)


def k_sweep_figure(path, series, paper=(), bands=(), paper_baseline=None, title=""):
    """Test accuracy (%) against K on a log2 axis, as in the paper's K-sweep figures.

    series: (label, Ks, means, stds) per configuration, drawn as filled points with +-std bars
    and joined by lines; paper: (label, Ks, values[, series index]) drawn hollow beside them, in
    the colour of the series at that index (default: at the same position); bands: (label,
    mean, std) drawn across the panel (learned weights, edge-popup); paper_baseline: (label,
    value), a grey line. More than two series put the legend under the panel.
    """
    Ks = [k for _, ks, *_ in list(series) + list(paper) for k in ks]
    values = [m + s for _, _, ms, ss in series for m, s in zip(ms, ss)] + \
        [m - s for _, _, ms, ss in series for m, s in zip(ms, ss)] + \
        [v for _, _, vs, *_ in paper for v in vs]
    if paper_baseline:
        values.append(paper_baseline[1])

    def plot(image):
        chart = Chart(image, (150, 90, 1360, 760), (min(Ks), max(Ks)),
                      accuracy_range(values, bands), title,
                      "K, options per connection (log2 scale)", "test accuracy (%)",
                      log2_x=True, text=26)
        for (label, mean, std), colour in zip(bands, (GREEN, ORANGE, GREY)):
            chart.band(mean - std, mean + std, colour, label)
        if paper_baseline:
            label, value = paper_baseline
            chart.line([min(Ks), max(Ks)], [value, value], GREY, label, width=2)
        for i, (label, ks, means, stds) in enumerate(series):
            colour, dashed = series_style(i)
            chart.line(ks, means, colour, None, width=2, dashed=dashed)
            chart.points(ks, means, colour, label, errors=stds, offset=-6, dashed=dashed)
        for i, (label, ks, values_, *index) in enumerate(paper):
            colour = SERIES_COLOURS[(index[0] if index else i) % len(SERIES_COLOURS)]
            chart.points(ks, values_, colour, label, hollow=True, offset=6)
        return chart
    save_figure(path, plot, below=len(series) > 2)


def runs_figure(path, runs, y_label, title=""):
    """One metric per epoch of several runs, a line each, and a point at each run's best epoch.

    runs: (label, epochs, values, best epoch or None) per run; y_label: the metric's name.
    Every value sets the y range, the first epochs' too, so no line leaves the frame."""
    values = [v for _, _, ys, _ in runs for v in ys]
    last = max(x for _, xs, _, _ in runs for x in xs)

    def plot(image):
        chart = Chart(image, (150, 90, 1360, 760), (0, max(last, 5)), (min(values), max(values)),
                      title, "epoch", y_label)
        for i, (label, xs, ys, best) in enumerate(runs):
            colour, dashed = series_style(i)
            if len(xs) > 1:
                chart.line(xs, ys, colour, label, dashed=dashed)
                label = None
            if best is not None:
                xs, ys = [best], [ys[xs.index(best)]]
            if best is not None or label:              # a lone value: its point is the run
                chart.points(xs, ys, colour, label, dashed=dashed)
        return chart
    save_figure(path, plot)


def budget_figure(path, alone, tuned, bands=(), title=""):
    """A fixed budget of epochs split between slot-machine training and fine-tuning: test
    accuracy (%) against the slot-machine epochs E. alone: (Es, accuracies) of the slot machine
    after E epochs; tuned: (Es, accuracies) once fine-tuned for the rest; bands as in
    k_sweep_figure (learned weights over the whole budget)."""
    (alone_es, alone_values), (tuned_es, tuned_values) = alone, tuned

    def plot(image):
        chart = Chart(image, (150, 90, 1360, 760), (0, max(alone_es + tuned_es)),
                      accuracy_range(alone_values + tuned_values, bands), title,
                      "epochs of slot-machine training (the rest of the budget: fine-tuning)",
                      "test accuracy (%)", text=26)
        for (label, mean, std), colour in zip(bands, (GREEN, GREY)):
            chart.band(mean - std, mean + std, colour, label)
        chart.line(alone_es, alone_values, BLUE, None, width=2)
        chart.points(alone_es, alone_values, BLUE, "slot machine alone, after E epochs",
                     hollow=True)
        chart.line(tuned_es, tuned_values, RED, None, width=2)
        chart.points(tuned_es, tuned_values, RED,
                     "then its selected weights fine-tuned (E + rest)")
        return chart
    save_figure(path, plot)


def fraction_figure(path, fractions, means, stds, bands=(), title=""):
    """Test accuracy (%) against the kept fraction (%) of edge-popup, +-std bars; bands as in
    k_sweep_figure."""
    values = [m + sign * s for m, s in zip(means, stds) for sign in (-1, 1)]
    percent = [100 * f for f in fractions]

    def plot(image):
        chart = Chart(image, (150, 90, 1360, 760), (0, 100), accuracy_range(values, bands),
                      title, "weights kept in each layer (%)", "test accuracy (%)", text=26)
        for (label, mean, std), colour in zip(bands, (GREEN, BLUE, GREY)):
            chart.band(mean - std, mean + std, colour, label)
        chart.line(percent, means, ORANGE, None, width=2)
        chart.points(percent, means, ORANGE, "slotnp edge-popup (+- std over seeds)",
                     errors=stds)
        return chart
    save_figure(path, plot)
