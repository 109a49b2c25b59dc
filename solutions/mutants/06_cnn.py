"""Plausible wrong solutions for chapter 06; each must make its tests cell fail.

Every mutant is the chapter's own solution cell with one realistic mistake edited in (each
replaced text must occur exactly once, so a changed reference is noticed). ``why`` is shown to
a student whose results match the mutant's. The first mutant is used as "the student with one
mistake", so it breaks its own tests cell only: nothing after it uses ``conv1d``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import Mutant, editor

edit = editor(Path(__file__).resolve().parents[1] / "06_cnn.py")

CORR_CONV1D = [
    # conv1d
    edit("corr_conv1d", "convolution without flipping the kernel (that is the cross-correlation)",
         ("return corr1d(x, k[::-1])", "return corr1d(x, k)")),
    edit("corr_conv1d", "flips the signal instead of the kernel",
         ("return corr1d(x, k[::-1])", "return corr1d(x[::-1], k)")),
    edit("corr_conv1d", "reverses the output of the correlation instead of flipping the kernel",
         ("return corr1d(x, k[::-1])", "return corr1d(x, k)[::-1]")),
    edit("corr_conv1d", "flips the kernel in place (k[:] = k[::-1]), changing the caller's array",
         ("return corr1d(x, k[::-1])", "k[:] = k[::-1].copy()\n    return corr1d(x, k)"), kind="inplace"),
    # corr1d
    edit("corr_conv1d", "one position too few: L - K outputs instead of L - K + 1",
         ("length = x.shape[0] - k.shape[0] + 1", "length = x.shape[0] - k.shape[0]"), kind="edge"),
    edit("corr_conv1d", "correlation with the kernel flipped (that is the convolution)",
         ("out[i] = np.sum(x[i:i + k.shape[0]] * k)", "out[i] = np.sum(x[i:i + k.shape[0]] * k[::-1])")),
    edit("corr_conv1d", "drops the last kernel tap (x[i:i + K - 1] * k[:-1])",
         ("out[i] = np.sum(x[i:i + k.shape[0]] * k)", "out[i] = np.sum(x[i:i + k.shape[0] - 1] * k[:-1])")),
    edit("corr_conv1d", "multiplies the window by the kernel in place (x[i:i + K] *= k), changing the caller's signal",
         ("out[i] = np.sum(x[i:i + k.shape[0]] * k)",
          "window = x[i:i + k.shape[0]]\n        window *= k\n        out[i] = np.sum(window)"), kind="inplace"),
    edit("corr_conv1d", "collects the outputs in float32 (np.zeros(n, dtype=np.float32)): keep float64",
         ("out = np.zeros(length)", "out = np.zeros(length, dtype=np.float32)"), kind="dtype"),
]

CONV_NAIVE = [
    # conv2d_forward_naive
    edit("conv_naive", "flips the filter (a true convolution); layers compute the cross-correlation",
         ("out[n, f, i, j] = np.sum(window * w[f]) + b[f]", "out[n, f, i, j] = np.sum(window * w[f, :, ::-1, ::-1]) + b[f]")),
    edit("conv_naive", "forgets the bias", ("out[n, f, i, j] = np.sum(window * w[f]) + b[f]",
                                            "out[n, f, i, j] = np.sum(window * w[f])"), kind="ignored"),
    edit("conv_naive", "pads only the top and left (padding p on one side instead of both)",
         ("    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))\n    out = np.zeros((N, F, Ho, Wo))",
          "    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))\n    out = np.zeros((N, F, Ho, Wo))\n"
          "    xp = np.pad(x, ((0, 0), (0, 0), (p, 0), (p, 0)))"), kind="edge"),
    edit("conv_naive", "ignores the dilation in the window (taps next to each other)",
         ("window = xp[n, c0:c0 + Cg, i * s:i * s + d * (KH - 1) + 1:d, j * s:j * s + d * (KW - 1) + 1:d]",
          "window = xp[n, c0:c0 + Cg, i * s:i * s + KH, j * s:j * s + KW]"), kind="ignored"),
    edit("conv_naive", "every filter sees the first group's channels (the group of filter f ignored)",
         ("            c0 = (f // Fg) * Cg\n            for i in range(Ho):\n                for j in range(Wo):\n"
          "                    window",
          "            c0 = 0\n            for i in range(Ho):\n                for j in range(Wo):\n"
          "                    window"), kind="ignored"),
    edit("conv_naive", "group of filter f computed as f % groups instead of f // (F // groups)",
         ("            c0 = (f // Fg) * Cg\n            for i in range(Ho):\n                for j in range(Wo):\n"
          "                    window",
          "            c0 = (f % groups) * Cg\n            for i in range(Ho):\n                for j in range(Wo):\n"
          "                    window")),
    edit("conv_naive", "window steps by 1 whatever the stride (i:i + ... instead of i * s:...)",
         ("window = xp[n, c0:c0 + Cg, i * s:i * s + d * (KH - 1) + 1:d, j * s:j * s + d * (KW - 1) + 1:d]",
          "window = xp[n, c0:c0 + Cg, i:i + d * (KH - 1) + 1:d, j:j + d * (KW - 1) + 1:d]"), kind="ignored"),
    edit("conv_naive", "collects the output in float32 (np.zeros(..., dtype=np.float32)): keep float64",
         ("out = np.zeros((N, F, Ho, Wo))", "out = np.zeros((N, F, Ho, Wo), dtype=np.float32)"), kind="dtype"),
    # conv2d_backward_naive
    edit("conv_naive", "bias gradient averaged over the batch instead of summed",
         ("db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=(0, 2, 3)) / N")),
    edit("conv_naive", "input gradient assigned (=) instead of added (+=): overlapping windows overwrite each other",
         ("dxp[n, c0:c0 + Cg, rows, cols] += w[f] * dout[n, f, i, j]",
          "dxp[n, c0:c0 + Cg, rows, cols] = w[f] * dout[n, f, i, j]"), kind="edge"),
    edit("conv_naive", "returns the gradient of the padded input (the padding is not cut away)",
         ("dx = dxp[:, :, p:p + H, p:p + W]", "dx = dxp")),
    edit("conv_naive", "cuts the padding away from one side only",
         ("dx = dxp[:, :, p:p + H, p:p + W]", "dx = dxp[:, :, :H, :W]"), kind="edge"),
    edit("conv_naive", "weight gradient from the unpadded input",
         ("dw[f] += xp[n, c0:c0 + Cg, rows, cols] * dout[n, f, i, j]",
          "dw[f] += np.pad(x, ((0, 0), (0, 0), (0, 2 * p), (0, 2 * p)))[n, c0:c0 + Cg, rows, cols] * dout[n, f, i, j]")),
    edit("conv_naive", "dw is the cached weight array itself (dw = w; dw[:] = 0), which wipes the weights in the cache",
         ("dw = np.zeros_like(w)", "dw = w\n    dw[:] = 0.0"), kind="inplace"),
]

CONV_SHAPE = [
    # conv_output_size
    edit("conv_shape", "forgets the + 1 (counts the steps between positions, not the positions)",
         ("    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1\n",
          "    return (n + 2 * padding - dilation * (k - 1) - 1) // stride\n")),
    edit("conv_shape", "ignores the dilation (the kernel spans k pixels)",
         ("return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1",
          "return (n + 2 * padding - (k - 1) - 1) // stride + 1"), kind="ignored"),
    edit("conv_shape", "adds the padding once instead of on both sides",
         ("return (n + 2 * padding - dilation", "return (n + padding - dilation")),
    edit("conv_shape", "rounds up instead of down when the stride does not divide evenly",
         ("return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1",
          "return -(-(n + 2 * padding - dilation * (k - 1) - 1) // stride) + 1"), kind="edge"),
    edit("conv_shape", "divides with / and returns a float",
         ("    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1\n",
          "    return (n + 2 * padding - dilation * (k - 1) - 1) / stride + 1\n"), kind="dtype"),
    # receptive_field
    edit("conv_shape", "forgets the jump: each layer adds dilation (k - 1), whatever the strides before it",
         ("r += dilation * (k - 1) * jump", "r += dilation * (k - 1)")),
    edit("conv_shape", "multiplies the jump by the layer's own stride before adding its kernel",
         ("        r += dilation * (k - 1) * jump\n        jump *= stride\n",
          "        jump *= stride\n        r += dilation * (k - 1) * jump\n"), kind="order"),
    edit("conv_shape", "ignores the dilation in the receptive field",
         ("r += dilation * (k - 1) * jump", "r += (k - 1) * jump"), kind="ignored"),
    edit("conv_shape", "starts from 0 instead of 1 (a unit of the input sees one pixel)",
         ("r, jump = 1, 1", "r, jump = 0, 1"), kind="edge"),
]

CONV_FAST = [
    # conv2d_forward
    edit("conv_fast", "flips the filters (a true convolution); layers compute the cross-correlation",
         ("wmat = w.reshape(G, F // G, Cg * KH * KW)\n    out =",
          "wmat = w[:, :, ::-1, ::-1].reshape(G, F // G, Cg * KH * KW)\n    out =")),
    edit("conv_fast", "forgets the bias", (" + b[:, None, None]", ""), kind="ignored"),
    edit("conv_fast", "ignores the stride when taking the windows (every position is used)",
         ("windows = windows[:, :, ::s, ::s, ::d, ::d][:, :, :Ho, :Wo]",
          "windows = windows[:, :, :, :, ::d, ::d][:, :, :Ho, :Wo]"), kind="ignored"),
    edit("conv_fast", "windows of the undilated size: the dilation is ignored",
         ("(xp, (d * (KH - 1) + 1, d * (KW - 1) + 1), axis=(2, 3))", "(xp, (KH, KW), axis=(2, 3))"),
         ("windows = windows[:, :, ::s, ::s, ::d, ::d][:, :, :Ho, :Wo]",
          "windows = windows[:, :, ::s, ::s][:, :, :Ho, :Wo]"), kind="ignored"),
    edit("conv_fast", "splits the channels into groups the wrong way round (channel c in group c % groups)",
         ("cols = windows.transpose(1, 4, 5, 0, 2, 3).reshape(",
          "cols = windows.reshape(N, Cg, G, Ho, Wo, KH, KW).transpose(2, 1, 5, 6, 0, 3, 4).reshape(")),
    edit("conv_fast", "reshapes the product to (N, F, H', W') without moving the filter axis first",
         ("out = out.reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3)", "out = out.reshape(N, F, Ho, Wo)"), kind="edge"),
    edit("conv_fast", "computes the product in float32 (faster, but keep the input's dtype: float64 here)",
         ("out = wmat @ cols", "out = wmat.astype(np.float32) @ cols.astype(np.float32)"), kind="dtype"),
    # conv2d_backward
    edit("conv_fast", "col2im with = instead of +=: where windows overlap, a later kernel offset overwrites",
         ("s * (Wo - 1) + 1:s] += dcols[:, u, v]", "s * (Wo - 1) + 1:s] = dcols[:, u, v]"), kind="edge"),
    edit("conv_fast", "col2im ignores the dilation (kernel offsets u, v instead of d u, d v)",
         ("dxp[:, :, d * u:d * u + s * (Ho - 1) + 1:s, d * v:d * v + s * (Wo - 1) + 1:s]",
          "dxp[:, :, u:u + s * (Ho - 1) + 1:s, v:v + s * (Wo - 1) + 1:s]"), kind="ignored"),
    edit("conv_fast", "weight gradient in the transposed layout (the filter axis reshaped last)",
         ("dw = (dmat @ cols.transpose(0, 2, 1)).reshape(F, Cg, KH, KW)",
          "dw = (cols @ dmat.transpose(0, 2, 1)).reshape(F, Cg, KH, KW)"), kind="edge"),
    edit("conv_fast", "returns the gradient of the padded input (the padding is not cut away)",
         ("dx = dxp[:, :, p:p + H, p:p + W].transpose(1, 0, 2, 3)", "dx = dxp.transpose(1, 0, 2, 3)")),
    edit("conv_fast", "bias gradient averaged over the positions instead of summed",
         ("db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=0).mean(axis=(1, 2))")),
    edit("conv_fast", "reuses the cached input as the buffer for dx when there is no padding, wiping the cache",
         ("    dxp = np.zeros((C, N, H + 2 * p, W + 2 * p), dtype=x.dtype)",
          "    dxp = x.transpose(1, 0, 2, 3) if p == 0 else np.zeros((C, N, H + 2 * p, W + 2 * p), dtype=x.dtype)\n"
          "    dxp[:] = 0.0"), kind="inplace"),
]

POOLING = [
    # max_pool2d_forward / max_pool2d_backward
    edit("pooling", "ties: the gradient goes to the last maximum of the window instead of the first",
         ("argmax = flat.argmax(axis=-1)", "argmax = k * k - 1 - flat[..., ::-1].argmax(axis=-1)"), kind="edge"),
    edit("pooling", "ties: every maximal element of the window gets the whole gradient",
         ("    cache = (x.shape, argmax, k, s)\n    return out, cache",
          "    cache = (x.shape, flat == out[..., None], k, s)\n    return out, cache"),
         ("dout * (argmax == u * k + v)", "dout * argmax[..., u * k + v]"), kind="edge"),
    edit("pooling", "max pooling ignores the stride (windows always k apart)",
         ("    s = k if stride is None else stride\n    N, C, H, W = x.shape",
          "    s = k\n    N, C, H, W = x.shape"), kind="ignored"),
    edit("pooling", "max-pool backward assigns (=) instead of adding: overlapping windows overwrite each other",
         ("v:v + s * (Wo - 1) + 1:s] += dout * (argmax == u * k + v)",
          "v:v + s * (Wo - 1) + 1:s] = np.where(argmax == u * k + v, dout, "
          "dx[:, :, u:u + s * (Ho - 1) + 1:s, v:v + s * (Wo - 1) + 1:s])"), kind="edge"),
    edit("pooling", "max-pool backward sends 1 instead of dout to the maximum",
         ("dout * (argmax == u * k + v)", "(argmax == u * k + v)")),
    edit("pooling", "the window's maximum taken over the transposed window (columns first)",
         ("    flat = windows.reshape(*windows.shape[:4], k * k)\n",
          "    flat = windows.swapaxes(-1, -2).reshape(*windows.shape[:4], k * k)\n")),
    edit("pooling", "max pooling computed in float32 (keep float64)",
         ("    out = np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0]\n",
          "    out = np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0].astype(np.float32)\n"),
         kind="dtype"),
    # avg_pool2d_forward / avg_pool2d_backward
    edit("pooling", "average-pool backward divides by k instead of k * k",
         ("+= dout / (k * k)", "+= dout / k")),
    edit("pooling", "average-pool backward forgets to divide by the window size",
         ("+= dout / (k * k)", "+= dout")),
    edit("pooling", "average pooling ignores the stride (windows always k apart)",
         ("    s = k if stride is None else stride\n    windows = np.lib",
          "    s = k\n    windows = np.lib"), kind="ignored"),
    edit("pooling", "average pooling as the sum of the window",
         ("out = windows.mean(axis=(-2, -1))", "out = windows.sum(axis=(-2, -1))")),
    edit("pooling", "average pooling divides the window's sum by k instead of k * k",
         ("out = windows.mean(axis=(-2, -1))", "out = windows.sum(axis=(-2, -1)) / k")),
    edit("pooling", "average pooling computed in float32 (keep float64)",
         ("out = windows.mean(axis=(-2, -1))", "out = windows.mean(axis=(-2, -1), dtype=np.float32)"), kind="dtype"),
    edit("pooling", "average-pool backward divides dout in place (dout /= k * k), changing the caller's array",
         ("+= dout / (k * k)", "+= dout"),
         ("    dx = np.zeros(shape)\n    for u in range(k):\n        for v in range(k):\n            dx[:, :, u:u + s * (Ho - 1) + 1:s, v:v + s * (Wo - 1) + 1:s] += dout\n",
          "    dx = np.zeros(shape)\n    dout /= k * k\n    for u in range(k):\n        for v in range(k):\n            dx[:, :, u:u + s * (Ho - 1) + 1:s, v:v + s * (Wo - 1) + 1:s] += dout\n"),
         kind="inplace"),
]

GLOBAL_AVG_POOL = [
    # global_avg_pool_forward
    edit("global_avg_pool", "sums each channel instead of averaging it",
         ("out = x.mean(axis=(2, 3))", "out = x.sum(axis=(2, 3))")),
    edit("global_avg_pool", "averages over the channels instead of over the positions",
         ("out = x.mean(axis=(2, 3))", "out = x.mean(axis=1)")),
    edit("global_avg_pool", "takes the maximum of each channel (global max pooling) instead of the mean",
         ("out = x.mean(axis=(2, 3))", "out = x.max(axis=(2, 3))")),
    edit("global_avg_pool", "computes the mean in float32 (keep float64)",
         ("out = x.mean(axis=(2, 3))", "out = x.mean(axis=(2, 3), dtype=np.float32)"), kind="dtype"),
    # global_avg_pool_backward
    edit("global_avg_pool", "backward forgets to divide by the number of positions H W",
         ("dx += dout[:, :, None, None] / (H * W)", "dx += dout[:, :, None, None]")),
    edit("global_avg_pool", "backward divides by H only instead of H W",
         ("dx += dout[:, :, None, None] / (H * W)", "dx += dout[:, :, None, None] / H"), kind="edge"),
    edit("global_avg_pool", "backward divides dout in place (dout /= H * W), changing the caller's array",
         ("dx += dout[:, :, None, None] / (H * W)", "dout /= H * W\n    dx += dout[:, :, None, None]"),
         kind="inplace"),
    edit("global_avg_pool", "backward sends the whole gradient to the first position of each channel",
         ("dx += dout[:, :, None, None] / (H * W)", "dx[:, :, 0, 0] += dout"), kind="edge"),
]

CONV_TRANSPOSE = [
    # conv_transpose2d_forward
    edit("conv_transpose", "flips the kernel before painting it",
         ('xw = np.einsum("nchw,cfuv->nfuvhw", x, w)', 'xw = np.einsum("nchw,cfuv->nfuvhw", x, w[:, :, ::-1, ::-1])')),
    edit("conv_transpose", "forgets the bias", ("out = full[:, :, p:Hf - p, p:Wf - p] + b[:, None, None]",
                                                "out = full[:, :, p:Hf - p, p:Wf - p]"), kind="ignored"),
    edit("conv_transpose", "places the kernel copies one pixel apart whatever the stride",
         ("            full[:, :, u:u + s * (H - 1) + 1:s, v:v + s * (W - 1) + 1:s] +=",
          "            full[:, :, u:u + H, v:v + W] +="), kind="ignored"),
    edit("conv_transpose", "cuts the padding from the bottom and right only (2 p rows from one side)",
         ("out = full[:, :, p:Hf - p, p:Wf - p]", "out = full[:, :, :Hf - 2 * p, :Wf - 2 * p]"), kind="edge"),
    edit("conv_transpose", "adds padding around the output instead of cutting it away",
         ("out = full[:, :, p:Hf - p, p:Wf - p]", "out = np.pad(full, ((0, 0), (0, 0), (p, p), (p, p)))"),
         kind="ignored"),
    edit("conv_transpose", "computes the output in float32 (keep float64)",
         ("+ b[:, None, None]\n    cache = (x, w, stride, padding)",
          "+ b[:, None, None]\n    out = out.astype(np.float32)\n    cache = (x, w, stride, padding)"), kind="dtype"),
    # conv_transpose2d_backward
    edit("conv_transpose", "dx uses the kernel flipped (the gradient of a transposed convolution does not flip)",
         ('dx += np.einsum("nfhw,cf->nchw", g, w[:, :, u, v])',
          'dx += np.einsum("nfhw,cf->nchw", g, w[:, :, KH - 1 - u, KW - 1 - v])')),
    edit("conv_transpose", "places dout at the top-left of the uncut output (the padding offset ignored)",
         ("dfull[:, :, p:Hf - p, p:Wf - p] = dout", "dfull[:, :, :Hf - 2 * p, :Wf - 2 * p] = dout"), kind="edge"),
    edit("conv_transpose", "backward reads dout one pixel apart whatever the stride",
         ("g = dfull[:, :, u:u + s * (H - 1) + 1:s, v:v + s * (W - 1) + 1:s]", "g = dfull[:, :, u:u + H, v:v + W]"),
         kind="ignored"),
    edit("conv_transpose", "bias gradient averaged over the batch instead of summed",
         ("db = dout.sum(axis=(0, 2, 3))\n    return dx, dw, db", "db = dout.sum(axis=(0, 2, 3)) / N\n    return dx, dw, db")),
    edit("conv_transpose", "dw is the cached weight array itself (dw = w; dw[:] = 0), which wipes the weights in the cache",
         ("dw = np.zeros(w.shape)", "dw = w\n    dw[:] = 0.0"), kind="inplace"),
    edit("conv_transpose", "dw computed in float32 (keep float64)",
         ("dw = np.zeros(w.shape)", "dw = np.zeros(w.shape, dtype=np.float32)"), kind="dtype"),
]

PARAMS_FLOPS = [
    # count_params_and_flops
    edit("params_flops", "counts a multiply-add as one FLOP (MACs); the stated convention is 2 FLOPs",
         ("conv_flops = 2 * n_out * c_in * k * k", "conv_flops = n_out * c_in * k * k"),
         ("dense_flops = 2 * n_in * n_out", "dense_flops = n_in * n_out")),
    edit("params_flops", "forgets the conv layer's biases",
         ("conv_params = c_out * (c_in * k * k + 1)", "conv_params = c_out * c_in * k * k")),
    edit("params_flops", "counts a conv bias per output position instead of per filter",
         ("conv_params = c_out * (c_in * k * k + 1)", "conv_params = c_out * c_in * k * k + n_out")),
    edit("params_flops", "forgets the dense layer's biases",
         ("dense_params = (n_in + 1) * n_out", "dense_params = n_in * n_out")),
    edit("params_flops", "conv FLOPs for one output position only (H' W' forgotten)",
         ("conv_flops = 2 * n_out * c_in * k * k", "conv_flops = 2 * c_out * c_in * k * k")),
    edit("params_flops", "output size ignores the stride",
         ("h_out = (height + 2 * padding - k) // stride + 1\n    w_out = (width + 2 * padding - k) // stride + 1",
          "h_out = height + 2 * padding - k + 1\n    w_out = width + 2 * padding - k + 1"), kind="ignored"),
    edit("params_flops", "output size ignores the padding",
         ("h_out = (height + 2 * padding - k) // stride + 1\n    w_out = (width + 2 * padding - k) // stride + 1",
          "h_out = (height - k) // stride + 1\n    w_out = (width - k) // stride + 1"), kind="ignored"),
    edit("params_flops", "output width computed from the height (non-square inputs)",
         ("w_out = (width + 2 * padding - k) // stride + 1", "w_out = (height + 2 * padding - k) // stride + 1"),
         kind="edge"),
    edit("params_flops", "divides with / for the output size, so the counts come out as floats",
         ("h_out = (height + 2 * padding - k) // stride + 1\n    w_out = (width + 2 * padding - k) // stride + 1",
          "h_out = (height + 2 * padding - k) / stride + 1\n    w_out = (width + 2 * padding - k) / stride + 1"),
         kind="dtype"),
]

SPATIAL_BATCHNORM = [
    # spatial_batchnorm_forward
    edit("spatial_batchnorm", "reshapes NCHW to (-1, C) without moving the channels last: columns mix channels and "
         "positions", ("columns = x.transpose(0, 2, 3, 1).reshape(-1, C)", "columns = x.reshape(-1, C)"),
         ("return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache", "return out.reshape(N, C, H, W), cache")),
    edit("spatial_batchnorm", "normalises every pixel of every channel separately (over the batch only), as in "
         "chapter 05, instead of per channel over N, H and W",
         ("columns = x.transpose(0, 2, 3, 1).reshape(-1, C)", "columns = x.reshape(N, -1)"),
         ("batchnorm_forward(columns, gamma, beta, state, train)",
          "batchnorm_forward(columns, np.repeat(gamma, H * W), np.repeat(beta, H * W), state, train)"),
         ("return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache", "return out.reshape(N, C, H, W), cache")),
    edit("spatial_batchnorm", "always normalises with the batch statistics (train ignored)",
         ("out, cache = batchnorm_forward(columns, gamma, beta, state, train)",
          "out, cache = batchnorm_forward(columns, gamma, beta, state, True)"), kind="ignored"),
    edit("spatial_batchnorm", "transposes back with the wrong axes (N, W, H, C -> ...): height and width swapped",
         ("return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache",
          "return out.reshape(N, W, H, C).transpose(0, 3, 2, 1), cache"), kind="edge"),
    # spatial_batchnorm_backward
    edit("spatial_batchnorm", "backward reshapes dout to (-1, C) without moving the channels last",
         ("dcolumns, dgamma, dbeta = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, C), cache)\n"
          "    return dcolumns.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta",
          "dcolumns, dgamma, dbeta = batchnorm_backward(dout.reshape(-1, C), cache)\n"
          "    return dcolumns.reshape(N, C, H, W), dgamma, dbeta")),
    edit("spatial_batchnorm", "returns dgamma and dbeta in the wrong order",
         ("return dcolumns.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta",
          "return dcolumns.reshape(N, H, W, C).transpose(0, 3, 1, 2), dbeta, dgamma"), kind="order"),
    edit("spatial_batchnorm", "backward treats the layer as a fixed affine map (dx = gamma dout / sigma): the "
         "batch statistics' own gradient is missing",
         ("dcolumns, dgamma, dbeta = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, C), cache)",
          "x_hat, gamma, inv_std, _ = cache\n"
          "    dcolumns, dgamma, dbeta = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, C),\n"
          "                                                 (x_hat, gamma, inv_std, False))"), kind="graph"),
]

CNN = [
    # cnn_forward
    edit("cnn", "flattens in NHWC order (channels last) instead of NCHW as torch.flatten",
         ("scores, fc = affine_forward(h.reshape(len(x), -1), params[\"W3\"], params[\"b3\"])",
          "scores, fc = affine_forward(h.transpose(0, 2, 3, 1).reshape(len(x), -1), params[\"W3\"], params[\"b3\"])")),
    edit("cnn", "ReLU before batch norm in the first block (conv - ReLU - BN instead of conv - BN - ReLU)",
         ("    h, bn1 = spatial_batchnorm_forward(h, params[\"gamma1\"], params[\"beta1\"], states[\"bn1\"], train)\n"
          "    h, relu1 = relu_forward(h)\n",
          "    h, relu1 = relu_forward(h)\n"
          "    h, bn1 = spatial_batchnorm_forward(h, params[\"gamma1\"], params[\"beta1\"], states[\"bn1\"], train)\n"),
         ("    dh = relu_backward(max_pool2d_backward(dh, pool1), relu1)\n"
          "    dh, grads[\"gamma1\"], grads[\"beta1\"] = spatial_batchnorm_backward(dh, bn1)\n",
          "    dh, grads[\"gamma1\"], grads[\"beta1\"] = spatial_batchnorm_backward(max_pool2d_backward(dh, pool1), bn1)\n"
          "    dh = relu_backward(dh, relu1)\n"), kind="order"),
    edit("cnn", "batch norm always in training mode (train not passed on)",
         ("states[\"bn1\"], train)", "states[\"bn1\"], True)"),
         ("states[\"bn2\"], train)", "states[\"bn2\"], True)"), kind="ignored"),
    edit("cnn", "both batch norms share the first state (states['bn1'] passed twice)",
         ("states[\"bn2\"], train)", "states[\"bn1\"], train)")),
    # cnn_backward
    edit("cnn", "backward skips the second batch norm (its gradient passed through unchanged)",
         ("    dh, grads[\"gamma2\"], grads[\"beta2\"] = spatial_batchnorm_backward(dh, bn2)\n",
          "    _, grads[\"gamma2\"], grads[\"beta2\"] = spatial_batchnorm_backward(dh, bn2)\n"), kind="graph"),
    edit("cnn", "backward through the first pooling layer with the second one's cache",
         ("dh = relu_backward(max_pool2d_backward(dh, pool1), relu1)",
          "dh = relu_backward(max_pool2d_backward(dh, pool2), relu1)")),
    edit("cnn", "returns the gradient reaching the first batch norm as dx (the first conv's backward is not used "
         "for dx)", ("return grads, dx", "return grads, dh"), kind="graph"),
    edit("cnn", "backward skips the second ReLU (the pooling's gradient goes straight to the batch norm)",
         ("dh = relu_backward(max_pool2d_backward(dh.reshape(pooled_shape), pool2), relu2)",
          "dh = max_pool2d_backward(dh.reshape(pooled_shape), pool2)"), kind="graph"),
]

MUTANTS: list[Mutant] = [*CORR_CONV1D, *CONV_NAIVE, *CONV_SHAPE, *CONV_FAST, *POOLING, *GLOBAL_AVG_POOL, *CONV_TRANSPOSE, *PARAMS_FLOPS, *SPATIAL_BATCHNORM,
                         *CNN]
