"""Generate the golden convolution cases used by ConvEngine's tests.

What it makes
-------------
About twenty small 2-D convolution cases, each computed by PyTorch in float64:
forward output O = conv2d(X, F, B) and the gradients dX, dF, dB obtained by
autograd from a random upstream gradient dO. For every case it writes eight
flat files next to this script,

    <case>_X.npy   N x C x H x W       input
    <case>_F.npy   K x (C/G) x R x S   filters
    <case>_B.npy   K                   bias
    <case>_dO.npy  N x K x P x Q       upstream gradient
    <case>_O.npy   N x K x P x Q       forward output
    <case>_dX.npy  N x C x H x W       gradient w.r.t. the (unpadded) input
    <case>_dF.npy  K x (C/G) x R x S   gradient w.r.t. the filters
    <case>_dB.npy  K                   gradient w.r.t. the bias

(NumPy .npy, format version 1.0 as written by numpy.save, little-endian
float64 '<f8', C order), plus manifest.json describing each case's geometry:

    {"generator": "make_golden.py", "torch": "<version>", "cases": [
        {"name", "batch", "inputChannels", "inputHeight", "inputWidth",
         "outputChannels", "kernelHeight", "kernelWidth", "strideHeight",
         "strideWidth", "padTop", "padBottom", "padLeft", "padRight",
         "dilationHeight", "dilationWidth", "groups", "outputHeight",
         "outputWidth"}, ...]}

Conventions follow /work/shared/MATH.md (the project's math spec): NCHW,
cross-correlation, zero padding top/bottom/left/right, groups. Asymmetric
padding is applied with torch.nn.functional.pad before a padding-0 conv2d, so
autograd returns dX for the unpadded X. X, F, B and dO are uniform in [-1, 1]
from a fixed per-case seed, so reruns reproduce the same inputs.

Before writing a case the script asserts that O, dX, dF and dB agree to 1e-12
with an independent NumPy direct-loop evaluation of the definitions in
MATH.md, which pins down the geometry conventions (asymmetric padding above
all).

How to rerun
------------
From the repository root:

    .venv-compare/bin/python Tests/ConvEngineTests/Golden/make_golden.py

(a Python with torch (CPU build) and numpy: `make compare` sets up .venv-compare with both, see
Benchmarks/compare-venv.sh; the files were made with torch 2.13.0+cpu).
It rewrites every *.npy file and manifest.json in this folder.

CI does not need PyTorch: the tests read only the committed .npy files and
manifest.json.
"""

import json
import os

import numpy as np
import torch
import torch.nn.functional as Fn

HERE = os.path.dirname(os.path.abspath(__file__))
TOL = 1e-12


def case(name, seed, N, C, H, W, K, R, S, stride=(1, 1), pad=(0, 0, 0, 0),
         dilation=(1, 1), groups=1):
    """pad = (top, bottom, left, right)."""
    return dict(name=name, seed=seed, N=N, C=C, H=H, W=W, K=K, R=R, S=S,
                stride=stride, pad=pad, dilation=dilation, groups=groups)


CASES = [
    # The lecture's example: 1x1x3x3 input, 1x1x2x2 filter, stride 1, no padding.
    case("textbook", 1, N=1, C=1, H=3, W=3, K=1, R=2, S=2),
    case("stride2", 2, N=1, C=2, H=7, W=7, K=3, R=3, S=3, stride=(2, 2)),
    case("stride3", 3, N=1, C=2, H=8, W=10, K=2, R=3, S=3, stride=(3, 3)),
    case("pad_symmetric", 4, N=1, C=3, H=5, W=5, K=2, R=3, S=3, pad=(1, 1, 1, 1)),
    case("pad_asymmetric", 5, N=1, C=2, H=5, W=6, K=3, R=3, S=3, pad=(0, 2, 1, 3)),
    # Padding wider than the dilated kernel reach: outputs on the rim read only padding.
    case("pad_wide_1x1", 6, N=1, C=2, H=4, W=4, K=3, R=1, S=1, pad=(2, 2, 2, 2)),
    case("pad_wide_asym_stride2", 7, N=1, C=2, H=5, W=4, K=2, R=2, S=1,
         stride=(2, 2), pad=(3, 1, 0, 2)),
    case("dilation2", 8, N=1, C=2, H=7, W=7, K=2, R=3, S=3, pad=(1, 1, 1, 1),
         dilation=(2, 2)),
    case("dilation3", 9, N=1, C=1, H=9, W=10, K=2, R=3, S=2, pad=(2, 2, 2, 2),
         dilation=(3, 3)),
    case("groups2", 10, N=1, C=4, H=6, W=6, K=6, R=3, S=3, pad=(1, 1, 1, 1), groups=2),
    case("groups4", 11, N=1, C=8, H=5, W=5, K=8, R=3, S=3, groups=4),
    case("depthwise", 12, N=1, C=3, H=6, W=6, K=3, R=3, S=3, pad=(1, 1, 1, 1), groups=3),
    # Depthwise with channel multiplier 2 (K = 2C).
    case("depthwise_mult2", 13, N=2, C=3, H=6, W=5, K=6, R=3, S=3, stride=(2, 2),
         pad=(1, 1, 1, 1), groups=3),
    case("rect_1x3", 14, N=1, C=2, H=5, W=6, K=3, R=1, S=3, pad=(0, 0, 1, 1)),
    case("rect_3x1", 15, N=1, C=2, H=6, W=5, K=3, R=3, S=1, pad=(1, 1, 0, 0)),
    case("rect_5x2", 16, N=1, C=2, H=8, W=6, K=2, R=5, S=2, stride=(1, 2)),
    case("batch3", 17, N=3, C=2, H=5, W=5, K=3, R=3, S=3, pad=(1, 1, 1, 1)),
    case("nonsquare_batch2", 18, N=2, C=3, H=4, W=9, K=2, R=2, S=3, stride=(1, 2)),
    # 1x1 kernel, stride 1, no padding: the im2col-free path.
    case("pointwise_1x1", 19, N=2, C=4, H=5, W=3, K=3, R=1, S=1),
    case("output_1x1", 20, N=2, C=2, H=3, W=3, K=4, R=3, S=3),
    case("mixed_stride_dilation", 21, N=1, C=2, H=8, W=8, K=3, R=3, S=3,
         stride=(2, 1), pad=(1, 1, 1, 1), dilation=(1, 2)),
    # Everything at once: batch, groups, stride, dilation, asymmetric padding, leftover rows (mh != 0).
    case("combo_grouped_strided_dilated", 22, N=2, C=4, H=9, W=8, K=4, R=3, S=2,
         stride=(2, 3), pad=(1, 0, 2, 1), dilation=(2, 2), groups=2),
]


def out_size(H, pt, pb, R, dh, sh):
    span = H + pt + pb - dh * (R - 1) - 1
    assert span >= 0, "invalid geometry"
    return span // sh + 1


def reference(X, Fw, B, dO, sh, sw, pt, pl, dh, dw, G):
    """Direct loops over the definitions in MATH.md (no torch)."""
    N, C, H, W = X.shape
    K, Cg, R, S = Fw.shape
    _, _, P, Q = dO.shape
    Kg = K // G
    O = np.zeros((N, K, P, Q))
    dX = np.zeros_like(X)
    dF = np.zeros_like(Fw)
    dB = np.zeros(K)
    for n in range(N):
        for k in range(K):
            g = k // Kg
            for p in range(P):
                for q in range(Q):
                    acc = B[k]
                    d = dO[n, k, p, q]
                    dB[k] += d
                    for c in range(Cg):
                        ci = g * Cg + c
                        for r in range(R):
                            h = p * sh - pt + r * dh
                            if h < 0 or h >= H:
                                continue
                            for s in range(S):
                                w = q * sw - pl + s * dw
                                if w < 0 or w >= W:
                                    continue
                                acc += Fw[k, c, r, s] * X[n, ci, h, w]
                                dF[k, c, r, s] += d * X[n, ci, h, w]
                                dX[n, ci, h, w] += d * Fw[k, c, r, s]
                    O[n, k, p, q] = acc
    return O, dX, dF, dB


def save(name, suffix, arr):
    arr = np.ascontiguousarray(arr, dtype="<f8")
    np.save(os.path.join(HERE, f"{name}_{suffix}.npy"), arr, allow_pickle=False)


def main():
    torch.set_default_dtype(torch.float64)
    for f in os.listdir(HERE):
        if f.endswith(".npy"):
            os.remove(os.path.join(HERE, f))

    manifest = {"generator": "make_golden.py", "torch": torch.__version__, "cases": []}
    names = set()
    for cs in CASES:
        name = cs["name"]
        assert name not in names
        names.add(name)
        N, C, H, W, K, R, S, G = (cs[k] for k in ("N", "C", "H", "W", "K", "R", "S", "groups"))
        sh, sw = cs["stride"]
        pt, pb, pl, pr = cs["pad"]
        dh, dw = cs["dilation"]
        assert C % G == 0 and K % G == 0
        P = out_size(H, pt, pb, R, dh, sh)
        Q = out_size(W, pl, pr, S, dw, sw)

        rng = np.random.default_rng(cs["seed"])
        Xn = rng.uniform(-1.0, 1.0, (N, C, H, W))
        Fnp = rng.uniform(-1.0, 1.0, (K, C // G, R, S))
        Bn = rng.uniform(-1.0, 1.0, (K,))
        dOn = rng.uniform(-1.0, 1.0, (N, K, P, Q))

        X = torch.from_numpy(Xn).requires_grad_(True)
        Fw = torch.from_numpy(Fnp).requires_grad_(True)
        B = torch.from_numpy(Bn).requires_grad_(True)
        if pt == pb and pl == pr:
            O = Fn.conv2d(X, Fw, B, stride=(sh, sw), padding=(pt, pl),
                          dilation=(dh, dw), groups=G)
        else:
            Xp = Fn.pad(X, (pl, pr, pt, pb))  # (left, right, top, bottom), zeros
            O = Fn.conv2d(Xp, Fw, B, stride=(sh, sw), padding=0,
                          dilation=(dh, dw), groups=G)
        assert tuple(O.shape) == (N, K, P, Q), (name, tuple(O.shape), (N, K, P, Q))
        O.backward(torch.from_numpy(dOn))

        On = O.detach().numpy()
        dXn = X.grad.numpy()
        dFn = Fw.grad.numpy()
        dBn = B.grad.numpy()
        assert dXn.shape == Xn.shape and dFn.shape == Fnp.shape and dBn.shape == Bn.shape

        rO, rdX, rdF, rdB = reference(Xn, Fnp, Bn, dOn, sh, sw, pt, pl, dh, dw, G)
        for label, a, b in (("O", On, rO), ("dX", dXn, rdX), ("dF", dFn, rdF), ("dB", dBn, rdB)):
            err = float(np.max(np.abs(a - b))) if a.size else 0.0
            assert err <= TOL, f"{name}: {label} differs from the direct loops by {err}"

        for suffix, arr in (("X", Xn), ("F", Fnp), ("B", Bn), ("dO", dOn), ("O", On),
                            ("dX", dXn), ("dF", dFn), ("dB", dBn)):
            save(name, suffix, arr)

        manifest["cases"].append({
            "name": name, "batch": N, "inputChannels": C, "inputHeight": H, "inputWidth": W,
            "outputChannels": K, "kernelHeight": R, "kernelWidth": S,
            "strideHeight": sh, "strideWidth": sw,
            "padTop": pt, "padBottom": pb, "padLeft": pl, "padRight": pr,
            "dilationHeight": dh, "dilationWidth": dw, "groups": G,
            "outputHeight": P, "outputWidth": Q,
        })
        print(f"{name:32s} N={N} C={C} H={H} W={W} K={K} R={R} S={S} stride=({sh},{sw}) "
              f"pad=({pt},{pb},{pl},{pr}) dil=({dh},{dw}) G={G} -> P={P} Q={Q}")

    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"wrote {len(CASES)} cases to {HERE}")


if __name__ == "__main__":
    main()
