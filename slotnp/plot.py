"""Learning curves as a PNG drawn with Pillow: train loss, and validation/test accuracy."""
from PIL import Image, ImageDraw

COLOURS = {"train_loss": (31, 119, 180), "val_acc": (214, 39, 40), "test_acc": (44, 160, 44)}


def _panel(draw, box, epochs, series, title):
    """Axes in `box` (left, top, right, bottom) with one polyline per (name, values)."""
    left, top, right, bottom = box
    values = [v for _, vs in series for v in vs if v is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    first, last = epochs[0], max(epochs[-1], epochs[0] + 1)
    x_of = lambda e: left + (right - left) * (e - first) / (last - first)  # noqa: E731
    y_of = lambda v: bottom - (bottom - top) * (v - low) / (high - low)    # noqa: E731
    draw.rectangle(box, outline=(0, 0, 0))
    draw.text((left, top - 16), title, fill=(0, 0, 0))
    for value in (low, (low + high) / 2, high):
        draw.text((left - 48, y_of(value) - 6), f"{value:.4g}", fill=(0, 0, 0))
    draw.text((left, bottom + 4), f"epoch {first}", fill=(0, 0, 0))
    draw.text((right - 60, bottom + 4), f"epoch {epochs[-1]}", fill=(0, 0, 0))
    for row, (name, vs) in enumerate(series):
        points = [(x_of(e), y_of(v)) for e, v in zip(epochs, vs) if v is not None]
        if len(points) > 1:
            draw.line(points, fill=COLOURS[name], width=2)
        elif points:
            x, y = points[0]
            draw.ellipse((x - 3, y - 3, x + 3, y + 3), fill=COLOURS[name])
        draw.text((right - 110, top + 6 + 14 * row), name, fill=COLOURS[name])


def learning_curves(history, path):
    """history: list of per-epoch dicts with epoch, train_loss, val_acc, test_acc -> PNG."""
    image = Image.new("RGB", (960, 400), "white")
    draw = ImageDraw.Draw(image)
    epochs = [h["epoch"] for h in history]
    _panel(draw, (70, 40, 460, 350), epochs, [("train_loss", [h["train_loss"] for h in history])],
           "training loss")
    _panel(draw, (560, 40, 940, 350), epochs,
           [(k, [h.get(k) for h in history]) for k in ("val_acc", "test_acc")], "accuracy")
    image.save(path)
