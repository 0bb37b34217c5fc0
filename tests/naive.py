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
