"""Generate the golden cases of the convolution family (issue 13) used by ConvEngine's tests.

What it makes
-------------
About thirty small cases of the four operations the family adds to the 2-D convolution, each computed by
PyTorch in float64:

    conv_transpose2d   transposed 2-D convolution (TransposedConvGeometry)
    conv1d             1-D convolution (ConvGeometry1D)
    conv_transpose1d   transposed 1-D convolution (TransposedConvGeometry1D)
    conv3d             3-D convolution (ConvGeometry3D)

For every case the forward output O = op(X, W, B) and the gradients dX, dW, dB obtained by autograd from a
random upstream gradient dO. It writes eight flat files per case next to this script,

    <case>_X.npy   N x Cin x <input size>            input
    <case>_W.npy   weight: Cout x Cin/G x <kernel>   (convolutions)
                           Cin x Cout/G x <kernel>   (transposed convolutions, PyTorch's layout)
    <case>_B.npy   Cout                              bias
    <case>_dO.npy  N x Cout x <output size>          upstream gradient
    <case>_O.npy   N x Cout x <output size>          forward output
    <case>_dX.npy  as X                              gradient w.r.t. the (unpadded) input
    <case>_dW.npy  as W                              gradient w.r.t. the weight
    <case>_dB.npy  Cout                              gradient w.r.t. the bias

(NumPy .npy, format version 1.0 as written by numpy.save, little-endian float64 '<f8', C order; <input size>
is L, or D x H x W, or H x W), plus manifest.json describing each case, spatial quantities as one entry per axis
in the order of the shapes above (depth, height, width; length for 1-D):

    {"generator": "make_family_goldens.py", "torch": "<version>", "cases": [
        {"name", "operation", "batch", "inputChannels", "outputChannels", "groups",
         "inputSize", "kernelSize", "stride", "paddingBefore", "paddingAfter",
         "dilation", "outputPadding", "outputSize"}, ...]}

"inputChannels"/"outputChannels" are PyTorch's in_channels/out_channels of the operation itself (for a
transposed convolution, Cin of X and Cout of O); "paddingBefore" is top/left/front, "paddingAfter"
bottom/right/back; "outputPadding" is all zeros for the convolutions.

Conventions follow /work/shared/MATH.md (the project's math spec): NC..., cross-correlation, zero padding,
groups, and its sections "Transposed convolution" and "One and three spatial dimensions". PyTorch takes only
symmetric padding, so an asymmetric padding is applied
- to a convolution with torch.nn.functional.pad before a padding-0 convolution (autograd then returns dX for the
  unpadded X), and
- to a transposed convolution by running it with padding 0 (and the same output padding) and cropping
  paddingBefore rows/columns at the start and paddingAfter at the end of its output: padding removes those
  output positions, which is what the crop does (autograd then gives dX, dW, dB of the cropped operation).
Symmetric cases use PyTorch's own padding argument. X, W, B and dO are uniform in [-1, 1] from a fixed per-case
seed, so reruns reproduce the same inputs.

Before writing a case the script asserts that O, dX, dW and dB agree to 1e-12 with an independent NumPy
direct-loop evaluation of MATH.md's definitions (the convolution's sums, and the transposed convolution's
Ot[n, co, y] = Bt[co] + sum over ci in the group and the (h, r) with y = h*s - p + r*d of Xt[n, ci, h] *
Wt[ci, co', r], per axis), which pins down the conventions (asymmetric padding, output padding and the weight
layout of the transposed operations above all).

How to rerun
------------
From the repository root:

    .venv-compare/bin/python Tests/ConvEngineTests/Golden/Family/make_family_goldens.py

(a Python with torch (CPU build) and numpy: `make compare` sets up .venv-compare with both, see
Benchmarks/compare-venv.sh; the files were made with torch 2.13.0+cpu and numpy 2.4.6).
It rewrites every *.npy file and manifest.json in this folder (and only this folder).

CI does not need PyTorch: the tests (FamilyGoldenTests.swift) read only the committed .npy files and
manifest.json.
"""

import itertools
import json
import os

import numpy as np
import torch
import torch.nn.functional as Fn

HERE = os.path.dirname(os.path.abspath(__file__))
TOL = 1e-12

OPERATIONS = {
    # name: (spatial rank, transposed?)
    "conv_transpose2d": (2, True),
    "conv1d": (1, False),
    "conv_transpose1d": (1, True),
    "conv3d": (3, False),
}


def case(name, seed, op, N, Cin, Cout, size, kernel, stride=None, pad=None, dilation=None,
         output_padding=None, groups=1):
    """size, kernel, stride, dilation, output_padding: one entry per spatial axis (a bare int for 1-D);
    pad: one (before, after) pair per axis (a bare pair for 1-D). Defaults: stride 1, no padding,
    dilation 1, no output padding."""
    rank = OPERATIONS[op][0]

    def axes(v, default):
        if v is None:
            return (default,) * rank
        return (v,) if isinstance(v, int) else tuple(v)

    if pad is None:
        pad = ((0, 0),) * rank
    elif rank == 1 and isinstance(pad[0], int):
        pad = (tuple(pad),)
    return dict(name=name, seed=seed, op=op, N=N, Cin=Cin, Cout=Cout, groups=groups,
                size=axes(size, None), kernel=axes(kernel, None), stride=axes(stride, 1),
                pad=tuple(tuple(p) for p in pad), dilation=axes(dilation, 1),
                output_padding=axes(output_padding, 0))


CASES = [
    # --- conv_transpose2d ---------------------------------------------------------------------------------
    case("t2d_basic", 101, "conv_transpose2d", N=1, Cin=2, Cout=3, size=(3, 4), kernel=(2, 3)),
    case("t2d_stride2_pad1", 102, "conv_transpose2d", N=1, Cin=3, Cout=2, size=(4, 3), kernel=(4, 4),
         stride=(2, 2), pad=((1, 1), (1, 1))),
    case("t2d_stride3", 103, "conv_transpose2d", N=1, Cin=2, Cout=2, size=(3, 3), kernel=(2, 3),
         stride=(3, 2)),
    # Asymmetric padding (PyTorch has none: cropped from the padding-0 output).
    case("t2d_pad_asymmetric", 104, "conv_transpose2d", N=1, Cin=2, Cout=3, size=(4, 3), kernel=(3, 3),
         stride=(2, 1), pad=((0, 2), (2, 0))),
    case("t2d_output_padding", 105, "conv_transpose2d", N=1, Cin=2, Cout=2, size=(3, 4), kernel=(3, 3),
         stride=(2, 3), pad=((1, 1), (1, 1)), output_padding=(1, 2)),
    # Output padding beyond the bottom padding: the last rows/columns are reached by no window (bias only).
    case("t2d_output_padding_unreached", 106, "conv_transpose2d", N=1, Cin=2, Cout=2, size=(3, 3),
         kernel=(2, 2), stride=(3, 3), output_padding=(2, 1)),
    # stride <= output padding < dilation (PyTorch allows it): the associated convolution has extra rows.
    case("t2d_output_padding_dilation", 107, "conv_transpose2d", N=1, Cin=2, Cout=3, size=(3, 4),
         kernel=(3, 2), stride=(1, 2), dilation=(3, 3), output_padding=(2, 2)),
    case("t2d_dilation2", 108, "conv_transpose2d", N=1, Cin=2, Cout=2, size=(4, 4), kernel=(3, 3),
         pad=((2, 2), (2, 2)), dilation=(2, 2)),
    case("t2d_groups2", 109, "conv_transpose2d", N=1, Cin=4, Cout=6, size=(3, 3), kernel=(3, 3),
         stride=(2, 2), pad=((1, 1), (1, 1)), groups=2),
    case("t2d_depthwise", 110, "conv_transpose2d", N=1, Cin=3, Cout=3, size=(4, 4), kernel=(3, 3),
         stride=(2, 2), pad=((1, 1), (1, 1)), output_padding=(1, 1), groups=3),
    # Depthwise with channel multiplier 2 (Cout = 2 Cin).
    case("t2d_depthwise_mult2", 111, "conv_transpose2d", N=2, Cin=2, Cout=4, size=(3, 4), kernel=(2, 2),
         stride=(2, 2), groups=2),
    case("t2d_batch3", 112, "conv_transpose2d", N=3, Cin=2, Cout=2, size=(3, 3), kernel=(3, 3),
         stride=(2, 2), pad=((1, 1), (1, 1)), output_padding=(1, 1)),
    # Everything at once: batch, groups, stride, dilation, asymmetric padding, output padding, non-square.
    case("t2d_combo", 113, "conv_transpose2d", N=2, Cin=4, Cout=2, size=(3, 4), kernel=(3, 2),
         stride=(2, 3), pad=((2, 0), (1, 2)), dilation=(2, 2), output_padding=(1, 2), groups=2),

    # --- conv1d -------------------------------------------------------------------------------------------
    case("c1d_basic", 201, "conv1d", N=1, Cin=2, Cout=3, size=9, kernel=3),
    case("c1d_stride_pad_asymmetric", 202, "conv1d", N=1, Cin=2, Cout=2, size=11, kernel=4, stride=3,
         pad=(2, 1)),
    case("c1d_dilation", 203, "conv1d", N=1, Cin=3, Cout=2, size=12, kernel=3, pad=(2, 2), dilation=2),
    case("c1d_groups_batch", 204, "conv1d", N=3, Cin=4, Cout=6, size=8, kernel=3, pad=(1, 1), groups=2),
    case("c1d_depthwise", 205, "conv1d", N=2, Cin=3, Cout=6, size=10, kernel=5, stride=2, pad=(2, 2),
         groups=3),
    # Padding wider than the dilated kernel reach: outputs at the ends read only padding.
    case("c1d_pad_wide", 206, "conv1d", N=1, Cin=2, Cout=2, size=5, kernel=1, pad=(3, 2)),
    case("c1d_combo", 207, "conv1d", N=2, Cin=4, Cout=4, size=13, kernel=3, stride=2, pad=(0, 3),
         dilation=3, groups=2),

    # --- conv_transpose1d ---------------------------------------------------------------------------------
    case("t1d_basic", 301, "conv_transpose1d", N=1, Cin=2, Cout=3, size=5, kernel=3),
    case("t1d_stride_output_padding", 302, "conv_transpose1d", N=1, Cin=2, Cout=2, size=4, kernel=3,
         stride=3, pad=(1, 1), output_padding=2),
    case("t1d_pad_asymmetric", 303, "conv_transpose1d", N=2, Cin=2, Cout=2, size=5, kernel=4, stride=2,
         pad=(3, 0)),
    case("t1d_output_padding_dilation", 304, "conv_transpose1d", N=1, Cin=2, Cout=2, size=4, kernel=3,
         stride=2, dilation=4, output_padding=3),
    case("t1d_groups_batch", 305, "conv_transpose1d", N=3, Cin=4, Cout=2, size=4, kernel=2, stride=2,
         pad=(1, 2), output_padding=1, groups=2),

    # --- conv3d -------------------------------------------------------------------------------------------
    case("c3d_basic", 401, "conv3d", N=1, Cin=2, Cout=2, size=(3, 4, 4), kernel=(2, 3, 3)),
    case("c3d_stride", 402, "conv3d", N=1, Cin=2, Cout=3, size=(5, 5, 6), kernel=(3, 2, 3),
         stride=(2, 3, 2)),
    case("c3d_pad_asymmetric", 403, "conv3d", N=1, Cin=2, Cout=2, size=(3, 4, 3), kernel=(3, 3, 2),
         pad=((1, 0), (0, 2), (2, 1))),
    case("c3d_dilation", 404, "conv3d", N=1, Cin=1, Cout=2, size=(5, 5, 5), kernel=(2, 2, 3),
         pad=((1, 1), (1, 1), (1, 1)), dilation=(3, 2, 2)),
    case("c3d_groups", 405, "conv3d", N=1, Cin=4, Cout=4, size=(3, 4, 4), kernel=(2, 3, 3),
         pad=((1, 1), (1, 1), (1, 1)), groups=2),
    case("c3d_depthwise", 406, "conv3d", N=1, Cin=2, Cout=2, size=(4, 4, 4), kernel=(3, 3, 3),
         pad=((1, 1), (1, 1), (1, 1)), groups=2),
    case("c3d_batch", 407, "conv3d", N=3, Cin=2, Cout=2, size=(3, 3, 4), kernel=(2, 2, 2),
         pad=((1, 1), (0, 0), (1, 1))),
    case("c3d_combo", 408, "conv3d", N=2, Cin=4, Cout=2, size=(5, 4, 6), kernel=(2, 3, 2),
         stride=(2, 1, 3), pad=((0, 1), (2, 1), (1, 0)), dilation=(2, 1, 2), groups=2),
]


# --- the definitions (MATH.md), as direct loops over NumPy arrays, no torch --------------------------------

def conv_output_size(size, before, after, kernel, dilation, stride):
    span = size + before + after - dilation * (kernel - 1) - 1
    assert span >= 0, "invalid geometry"
    return span // stride + 1


def transposed_output_size(size, before, after, kernel, dilation, stride, output_padding):
    assert output_padding < max(stride, dilation), "invalid output padding"
    out = (size - 1) * stride - before - after + dilation * (kernel - 1) + output_padding + 1
    assert out >= 1, "invalid geometry"
    return out


def reference_conv(X, W, B, dO, stride, before, dilation, G):
    """Convolution (MATH.md, per axis): O[n,k,p] = B[k] + sum_{c,r} W[k,c,r] X[n, g(k)Cg+c, p*s - pb + r*d],
    and its gradients by the chain rule over every (output, tap) pair that reads an input inside its bounds."""
    N, C = X.shape[:2]
    K, Cg = W.shape[:2]
    Kg = K // G
    size, kernel, out = X.shape[2:], W.shape[2:], dO.shape[2:]
    O = np.zeros(dO.shape)
    dX, dW, dB = np.zeros_like(X), np.zeros_like(W), np.zeros(K)
    for n, k in itertools.product(range(N), range(K)):
        g = k // Kg
        for p in itertools.product(*(range(o) for o in out)):
            acc = B[k]
            d = dO[(n, k) + p]
            dB[k] += d
            for c in range(Cg):
                ci = g * Cg + c
                for r in itertools.product(*(range(t) for t in kernel)):
                    x = tuple(pi * s - b + ri * di for pi, s, b, ri, di in zip(p, stride, before, r, dilation))
                    if any(xi < 0 or xi >= si for xi, si in zip(x, size)):
                        continue  # padding reads as 0
                    acc += W[(k, c) + r] * X[(n, ci) + x]
                    dW[(k, c) + r] += d * X[(n, ci) + x]
                    dX[(n, ci) + x] += d * W[(k, c) + r]
            O[(n, k) + p] = acc
    return O, dX, dW, dB


def reference_transposed(X, W, B, dO, stride, before, dilation, G):
    """Transposed convolution (MATH.md): Ot[n,co,y] = Bt[co] + sum over ci in the group of co and (h, r) with
    y = h*s - pb + r*d (inside the output) of Xt[n,ci,h] Wt[ci,co',r], co' = co - g(co)*Cout/G; gradients by
    the chain rule over the same (input, tap) pairs."""
    N, Cin = X.shape[:2]
    Coutg = W.shape[1]
    Cing = Cin // G
    Cout = Coutg * G
    size, kernel, out = X.shape[2:], W.shape[2:], dO.shape[2:]
    O = np.zeros(dO.shape)
    for co in range(Cout):
        O[:, co] = B[co]
    dX, dW = np.zeros_like(X), np.zeros_like(W)
    dB = np.array([dO[:, co].sum() for co in range(Cout)])
    for n, ci in itertools.product(range(N), range(Cin)):
        g = ci // Cing
        for h in itertools.product(*(range(s) for s in size)):
            x = X[(n, ci) + h]
            for cop in range(Coutg):
                co = g * Coutg + cop
                for r in itertools.product(*(range(t) for t in kernel)):
                    y = tuple(hi * s - b + ri * di for hi, s, b, ri, di in zip(h, stride, before, r, dilation))
                    if any(yi < 0 or yi >= oi for yi, oi in zip(y, out)):
                        continue  # cropped by the padding
                    w = W[(ci, cop) + r]
                    O[(n, co) + y] += x * w
                    dX[(n, ci) + h] += dO[(n, co) + y] * w
                    dW[(ci, cop) + r] += dO[(n, co) + y] * x
    return O, dX, dW, dB


# --- PyTorch ----------------------------------------------------------------------------------------------

TORCH_CONV = {1: Fn.conv1d, 2: Fn.conv2d, 3: Fn.conv3d}
TORCH_TRANSPOSED = {1: Fn.conv_transpose1d, 2: Fn.conv_transpose2d, 3: Fn.conv_transpose3d}


def torch_forward(cs, X, W, B, out):
    rank, transposed = OPERATIONS[cs["op"]]
    stride, dilation, G = cs["stride"], cs["dilation"], cs["groups"]
    before = tuple(p[0] for p in cs["pad"])
    after = tuple(p[1] for p in cs["pad"])
    symmetric = before == after
    if not transposed:
        if symmetric:
            return TORCH_CONV[rank](X, W, B, stride=stride, padding=before, dilation=dilation, groups=G)
        # F.pad takes (last axis before, last axis after, previous axis before, ...).
        widths = tuple(v for b, a in reversed(cs["pad"]) for v in (b, a))
        return TORCH_CONV[rank](Fn.pad(X, widths), W, B, stride=stride, padding=0, dilation=dilation, groups=G)
    op = cs["output_padding"]
    if symmetric:
        return TORCH_TRANSPOSED[rank](X, W, B, stride=stride, padding=before, output_padding=op,
                                      dilation=dilation, groups=G)
    full = TORCH_TRANSPOSED[rank](X, W, B, stride=stride, padding=0, output_padding=op, dilation=dilation,
                                  groups=G)
    crop = (slice(None), slice(None)) + tuple(slice(b, b + o) for b, o in zip(before, out))
    return full[crop]


def save(name, suffix, arr):
    arr = np.ascontiguousarray(arr, dtype="<f8")
    np.save(os.path.join(HERE, f"{name}_{suffix}.npy"), arr, allow_pickle=False)


def main():
    torch.set_default_dtype(torch.float64)
    for f in os.listdir(HERE):
        if f.endswith(".npy"):
            os.remove(os.path.join(HERE, f))

    manifest = {"generator": "make_family_goldens.py", "torch": torch.__version__, "cases": []}
    names = set()
    for cs in CASES:
        name, op = cs["name"], cs["op"]
        assert name not in names
        names.add(name)
        rank, transposed = OPERATIONS[op]
        N, Cin, Cout, G = cs["N"], cs["Cin"], cs["Cout"], cs["groups"]
        size, kernel, stride, dilation = cs["size"], cs["kernel"], cs["stride"], cs["dilation"]
        pad, opad = cs["pad"], cs["output_padding"]
        assert all(len(v) == rank for v in (size, kernel, stride, dilation, pad, opad)), name
        assert Cin % G == 0 and Cout % G == 0
        before = tuple(p[0] for p in pad)
        if transposed:
            out = tuple(transposed_output_size(s, b, a, k, d, st, o)
                        for s, (b, a), k, d, st, o in zip(size, pad, kernel, dilation, stride, opad))
            wshape = (Cin, Cout // G) + kernel
        else:
            assert opad == (0,) * rank
            out = tuple(conv_output_size(s, b, a, k, d, st)
                        for s, (b, a), k, d, st in zip(size, pad, kernel, dilation, stride))
            wshape = (Cout, Cin // G) + kernel

        rng = np.random.default_rng(cs["seed"])
        Xn = rng.uniform(-1.0, 1.0, (N, Cin) + size)
        Wn = rng.uniform(-1.0, 1.0, wshape)
        Bn = rng.uniform(-1.0, 1.0, (Cout,))
        dOn = rng.uniform(-1.0, 1.0, (N, Cout) + out)

        X = torch.from_numpy(Xn).requires_grad_(True)
        W = torch.from_numpy(Wn).requires_grad_(True)
        B = torch.from_numpy(Bn).requires_grad_(True)
        O = torch_forward(cs, X, W, B, out)
        assert tuple(O.shape) == (N, Cout) + out, (name, tuple(O.shape), (N, Cout) + out)
        O.backward(torch.from_numpy(np.ascontiguousarray(dOn)))

        On = O.detach().numpy()
        dXn, dWn, dBn = X.grad.numpy(), W.grad.numpy(), B.grad.numpy()
        assert dXn.shape == Xn.shape and dWn.shape == Wn.shape and dBn.shape == Bn.shape

        reference = reference_transposed if transposed else reference_conv
        rO, rdX, rdW, rdB = reference(Xn, Wn, Bn, dOn, stride, before, dilation, G)
        for label, a, b in (("O", On, rO), ("dX", dXn, rdX), ("dW", dWn, rdW), ("dB", dBn, rdB)):
            err = float(np.max(np.abs(a - b))) if a.size else 0.0
            assert err <= TOL, f"{name}: {label} differs from the direct loops by {err}"

        for suffix, arr in (("X", Xn), ("W", Wn), ("B", Bn), ("dO", dOn), ("O", On),
                            ("dX", dXn), ("dW", dWn), ("dB", dBn)):
            save(name, suffix, arr)

        manifest["cases"].append({
            "name": name, "operation": op, "batch": N, "inputChannels": Cin, "outputChannels": Cout,
            "groups": G, "inputSize": list(size), "kernelSize": list(kernel), "stride": list(stride),
            "paddingBefore": list(before), "paddingAfter": [p[1] for p in pad], "dilation": list(dilation),
            "outputPadding": list(opad), "outputSize": list(out),
        })
        print(f"{name:30s} {op:16s} N={N} Cin={Cin} Cout={Cout} G={G} size={size} kernel={kernel} "
              f"stride={stride} pad={pad} dil={dilation} outpad={opad} -> {out}")

    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"wrote {len(CASES)} cases to {HERE}")


if __name__ == "__main__":
    main()
