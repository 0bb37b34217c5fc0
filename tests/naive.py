"""Loop implementations kept as oracles: slow, obvious, and independent of the engine's code."""
import numpy as np


def conv_forward(x, w, stride, pad):
    """x: (N, C, H, W), w: (F, C, KH, KW) -> (N, F, OH, OW), one output pixel at a time."""
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    OH, OW = (H + 2 * pad - KH) // stride + 1, (W + 2 * pad - KW) // stride + 1
    y = np.zeros((N, F, OH, OW))
    for n in range(N):
        for f in range(F):
            for i in range(OH):
                for j in range(OW):
                    window = xp[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
                    y[n, f, i, j] = np.sum(window * w[f])
    return y


def conv_backward(x, w, dout, stride, pad):
    """(dx, dw) of conv_forward, accumulating window by window."""
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(dout.shape[2]):
                for j in range(dout.shape[3]):
                    rows = slice(i * stride, i * stride + KH)
                    cols = slice(j * stride, j * stride + KW)
                    dw[f] += xp[n, :, rows, cols] * dout[n, f, i, j]
                    dxp[n, :, rows, cols] += w[f] * dout[n, f, i, j]
    return dxp[:, :, pad:pad + H, pad:pad + W], dw


def pool_forward(x, kh, kw, stride, reduce):
    """reduce (np.max or np.mean) over each window of x: (N, C, H, W)."""
    N, C, H, W = x.shape
    OH, OW = (H - kh) // stride + 1, (W - kw) // stride + 1
    y = np.zeros((N, C, OH, OW))
    for i in range(OH):
        for j in range(OW):
            window = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            y[:, :, i, j] = reduce(window.reshape(N, C, -1), axis=2)
    return y


def softmax_cross_entropy(logits, labels):
    """Mean of -log softmax(logits)[label], row by row."""
    total = 0.0
    for row, label in zip(logits, labels):
        row = row.astype(np.float64)
        total -= row[label] - np.log(np.sum(np.exp(row - row.max()))) - row.max()
    return total / len(labels)


def edge_popup_mask(scores, keep):
    """Edge-popup's top-k, as its authors' code writes it: sort |scores| ascending, zero the
    first int((1 - keep) n), keep the rest."""
    flat = np.abs(scores).reshape(-1)
    order = np.argsort(flat, kind="stable")
    mask = np.ones(flat.size, dtype=bool)
    mask[order[:int((1 - keep) * flat.size)]] = False
    return mask.reshape(scores.shape)


def maxpool_backward(x, dout, kh, kw, stride):
    """dx of max pooling: each window's gradient to its first maximum, window by window."""
    dx = np.zeros_like(x, dtype=np.float64)
    N, C, OH, OW = dout.shape
    for n in range(N):
        for c in range(C):
            for i in range(OH):
                for j in range(OW):
                    window = x[n, c, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    a, b = np.unravel_index(np.argmax(window), window.shape)   # first max
                    dx[n, c, i * stride + a, j * stride + b] += dout[n, c, i, j]
    return dx


def slot_choice(scores, options):
    """Greedy selection connection by connection: the option of the first largest score."""
    weight = np.zeros(scores.shape[:-1])
    index = np.zeros(scores.shape[:-1], dtype=np.int64)
    for connection in np.ndindex(scores.shape[:-1]):
        best = 0
        for k in range(scores.shape[-1]):
            if scores[connection + (k,)] > scores[connection + (best,)]:
                best = k
        index[connection], weight[connection] = best, options[connection + (best,)]
    return index, weight


def slot_linear_forward(x, scores, options):
    """A slot Linear layer: choose, then y[n, o] = sum_i x[n, i] * w[o, i]."""
    _, w = slot_choice(scores, options)
    y = np.zeros((x.shape[0], w.shape[0]))
    for n in range(x.shape[0]):
        for o in range(w.shape[0]):
            y[n, o] = sum(x[n, i] * w[o, i] for i in range(w.shape[1]))
    return y


def slot_linear_backward(x, dout, scores, options):
    """(dx, dscores) of slot_linear_forward: dw[o, i] = sum_n dout[n, o] x[n, i], then the
    straight-through rule dscores[o, i, k] = dw[o, i] * options[o, i, k] for every k."""
    _, w = slot_choice(scores, options)
    dx = np.zeros(x.shape)
    dw = np.zeros(w.shape)
    for n in range(x.shape[0]):
        for o in range(w.shape[0]):
            for i in range(w.shape[1]):
                dx[n, i] += dout[n, o] * w[o, i]
                dw[o, i] += dout[n, o] * x[n, i]
    dscores = np.zeros(options.shape)
    for o, i, k in np.ndindex(options.shape):
        dscores[o, i, k] = dw[o, i] * options[o, i, k]
    return dx, dscores


def batchnorm(x, dout, eps=1e-5):
    """BatchNorm2d without scale or shift, channel by channel: (y, dx) of the training forward
    and its backward, the latter as the chain rule through mu and var written out."""
    y, dx = np.zeros_like(x), np.zeros_like(x)
    for c in range(x.shape[1]):
        v = x[:, c].reshape(-1)
        m = len(v)
        mu = sum(v) / m
        var = sum((v - mu) ** 2) / m
        s = np.sqrt(var + eps)
        y[:, c] = ((v - mu) / s).reshape(x[:, c].shape)
        g = dout[:, c].reshape(-1)
        dvar = sum(g * (v - mu)) * -0.5 * s ** -3
        dmu = -sum(g) / s + dvar * -2 * sum(v - mu) / m
        dx[:, c] = (g / s + dvar * 2 * (v - mu) / m + dmu / m).reshape(x[:, c].shape)
    return y, dx
