#!/usr/bin/env python3
"""PyTorch side of `make compare`.

Reads the JSON that `convbench --json` has just written (same run, never an old file), runs the same layers
(the same geometries, batch and thread counts; Float32) through PyTorch on the CPU, and prints one table:
ConvEngine time, PyTorch time and their ratio per layer, pass and thread count, with geometric means.

For a strong anchor each layer and pass takes the faster of PyTorch's two CPU paths: oneDNN (the default)
and its own im2col + GEMM path (`torch.backends.mkldnn.flags(enabled=False)`). Backward computes all three
gradients with `torch.ops.aten.convolution_backward(..., output_mask=[True, True, True])`. The rows of the
convolution family (source "family" in the JSON: transposed 2-D, 1-D and 3-D convolutions) run PyTorch's
`conv_transpose2d`, `conv1d`, `conv3d` (and `conv_transpose1d`) on the same shapes, and their geometric means
are printed separately. Timing is the
median of at least 7 runs after a warm-up.

NHWC rows (convbench `--layout nhwc`: layout "nhwc" in the JSON, the layer named `<layer>/nhwc`) run PyTorch on
channels-last tensors: input, weight and dO in `memory_format=torch.channels_last` (4-D), `channels_last_3d`
(conv3d), and for 1-D, whose tensors have no channels-last memory format, (N, L, C) / (K, S, C/G) storage seen
through `permute` as PyTorch's (N, C, L) / (K, C/G, S). The same two paths are timed and the faster kept. With
torch 2.13 on the CPU both 2-D paths run channels-last without converting (oneDNN's `mkldnn_convolution` on
NHWC, and `_slow_conv2d_forward`'s channels-last im2col, which `mkldnn.flags(enabled=False)` selects), as do
both transposed 2-D paths; the 1-D and 3-D ones copy the tensors into the contiguous layout first (conv3d then
runs `slow_conv3d` on either path). Those rows get their own table and geometric means, the ConvEngine
NHWC/NCHW ratio of each layer, and the list of rows above the issue's targets. Run it (through Benchmarks/compare.sh) with
GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295 so that
PyTorch's freed buffers stay mapped and neither side pays page faults on every call.

Usage: compare.py CONVENGINE_JSON [--out MERGED_JSON] [--min-repetitions 7]
"""

import argparse
import json
import math
import os
import statistics
import sys
import time
import warnings

# torch.backends.mkldnn.flags() warns about TF32 on Intel GPUs, which has nothing to do with this CPU benchmark.
warnings.filterwarnings("ignore", message=".*TF32 acceleration on top of oneDNN.*")

try:
    import torch
except ImportError as error:  # compare.sh checks first; this is for direct use
    print(f"compare.py: PyTorch is not importable with {sys.executable}: {error}", file=sys.stderr)
    sys.exit(2)

TUNABLES = "glibc.malloc.mmap_threshold=4294967295:glibc.malloc.trim_threshold=4294967295"


def progress(message):
    print(message, file=sys.stderr, flush=True)


def time_ms(fn):
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def measure(fn, min_reps, max_reps, target_s):
    """Warm-up (1 run, more for tiny ones), then at least `min_reps` timed runs: (median, min, samples) in ms."""
    first = time_ms(fn)
    extra = 0 if first >= 50 else (1 if first >= 5 else 4)
    for _ in range(extra):
        first = time_ms(fn)
    reps = max(min_reps, min(max_reps, int(target_s * 1e3 / max(first, 1e-3))))
    samples = [time_ms(fn) for _ in range(reps)]
    return statistics.median(samples), min(samples), samples


def uniform_tensors(seed, *shapes):
    """Float32 tensors uniform in [-0.5, 1) (nonzero mean, as convbench's data), from one seeded generator."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.rand(*shape, generator=gen, dtype=torch.float32) * 1.5 - 0.5 for shape in shapes]


def channels_last(t, rank):
    """`t` (logical N, C, spatial… or K, C/G, kernel…) stored channels-last: PyTorch's channels_last (rank 2),
    channels_last_3d (rank 3), or for rank 1, which has no memory format, (N, L, C) storage seen through a permute."""
    if rank == 2:
        return t.contiguous(memory_format=torch.channels_last)
    if rank == 3:
        return t.contiguous(memory_format=torch.channels_last_3d)
    return t.transpose(1, 2).contiguous().transpose(1, 2)


def in_layout(tensors, layout, rank):
    """X, W, B, dO as `uniform_tensors` made them, with X, W and dO channels-last for an NHWC row (B is 1-D)."""
    if layout != "nhwc":
        return tensors
    x, w, b, d_o = tensors
    return channels_last(x, rank), channels_last(w, rank), b, channels_last(d_o, rank)


def base_name(name, layout):
    """The NCHW row's layer of an NHWC row (`res2.3x3/nhwc` -> `res2.3x3`)."""
    suffix = "/" + layout
    return name[:-len(suffix)] if layout != "nchw" and name.endswith(suffix) else name


class Layer:
    """A 2-D convolution row (convbench's suite and generated layers): conv2d."""

    def __init__(self, info):
        g = info["geometry"]
        self.name = info["name"]
        self.source = info.get("source", "suite")
        self.layout = info.get("layout", "nchw")
        self.g = g
        p = g["padding"]
        self.symmetric = p["top"] == p["bottom"] and p["left"] == p["right"]
        self.stride = [g["strideHeight"], g["strideWidth"]]
        self.padding = [p["top"], p["left"]]
        self.dilation = [g["dilationHeight"], g["dilationWidth"]]
        self.groups = g["groups"]
        self.pointwise = (g["kernelHeight"] == g["kernelWidth"] == g["strideHeight"] == g["strideWidth"] == 1
                          and not any(p.values()))

    def tensors(self, seed):
        g = self.g
        return in_layout(uniform_tensors(
            seed,
            (g["batch"], g["inputChannels"], g["inputHeight"], g["inputWidth"]),
            (g["outputChannels"], g["inputChannels"] // g["groups"], g["kernelHeight"], g["kernelWidth"]),
            (g["outputChannels"],),
            (g["batch"], g["outputChannels"], g["outputHeight"], g["outputWidth"])), self.layout, 2)

    def forward(self, x, w, b):
        return torch.nn.functional.conv2d(x, w, b, stride=self.stride, padding=self.padding,
                                          dilation=self.dilation, groups=self.groups)

    def backward(self, x, w, d_o):
        return torch.ops.aten.convolution_backward(
            d_o, x, w, [w.shape[0]], self.stride, self.padding, self.dilation, False, [0, 0], self.groups,
            [True, True, True])


class FamilyLayer:
    """A row of the convolution family (issue 13): conv_transpose2d, conv1d, conv_transpose1d or conv3d.

    Its JSON geometry ("family") lists per spatial axis inputSize, kernelSize, stride, paddingBefore,
    paddingAfter, dilation, outputPadding and outputSize; inputChannels/outputChannels are PyTorch's
    in_channels/out_channels (for a transposed convolution the weight is Cin x Cout/G x kernel)."""

    FUNCTIONS = {
        "conv1d": (torch.nn.functional.conv1d, False),
        "conv3d": (torch.nn.functional.conv3d, False),
        "conv_transpose1d": (torch.nn.functional.conv_transpose1d, True),
        "conv_transpose2d": (torch.nn.functional.conv_transpose2d, True),
    }

    def __init__(self, info):
        g = info["family"]
        self.name = info["name"]
        self.source = info.get("source", "family")
        self.layout = info.get("layout", "nchw")
        self.operation = g["operation"]
        self.function, self.transposed = self.FUNCTIONS[self.operation]
        self.g = g
        self.symmetric = g["paddingBefore"] == g["paddingAfter"]
        self.stride = g["stride"]
        self.padding = g["paddingBefore"]
        self.dilation = g["dilation"]
        self.output_padding = g["outputPadding"]
        self.groups = g["groups"]
        self.pointwise = False  # the 1×1 target is about the 2-D rows

    def tensors(self, seed):
        g = self.g
        n, cin, cout, groups = g["batch"], g["inputChannels"], g["outputChannels"], g["groups"]
        weight = (cin, cout // groups) if self.transposed else (cout, cin // groups)
        return in_layout(uniform_tensors(seed, (n, cin, *g["inputSize"]), (*weight, *g["kernelSize"]), (cout,),
                                         (n, cout, *g["outputSize"])), self.layout, len(g["inputSize"]))

    def forward(self, x, w, b):
        if self.transposed:
            return self.function(x, w, b, stride=self.stride, padding=self.padding,
                                 output_padding=self.output_padding, groups=self.groups, dilation=self.dilation)
        return self.function(x, w, b, stride=self.stride, padding=self.padding, dilation=self.dilation,
                             groups=self.groups)

    def backward(self, x, w, d_o):
        return torch.ops.aten.convolution_backward(
            d_o, x, w, [d_o.shape[1]], self.stride, self.padding, self.dilation, self.transposed,
            self.output_padding, self.groups, [True, True, True])


def make_layer(info):
    return FamilyLayer(info) if "family" in info else Layer(info)


PATHS = ("onednn", "im2col")


def run_path(path, fn):
    if path == "onednn":
        return fn()
    with torch.backends.mkldnn.flags(enabled=False):
        return fn()


def short(pass_name):
    return "fwd" if pass_name == "forward" else "bwd"


def geomean(values):
    values = [v for v in values if v and v > 0 and math.isfinite(v)]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def finite_or_none(v):
    """`v`, or None for NaN and infinities (the JSON has no NaN: convchart's decoder rejects it)."""
    return v if v is not None and math.isfinite(v) else None


def fmt_ratio(v):
    return f"{v:.2f}" if v is not None and math.isfinite(v) else "-"


def fmt_ms(v):
    if v is None or not math.isfinite(v):
        return "-"
    return f"{v:.1f}" if v >= 100 else (f"{v:.2f}" if v >= 1 else f"{v:.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("engine_json", help="the JSON convbench --json wrote in this same invocation")
    parser.add_argument("--out", help="also write PyTorch's timings and the merged rows as JSON here")
    parser.add_argument("--min-repetitions", type=int, default=7)
    parser.add_argument("--target-seconds", type=float, default=0.6,
                        help="time per layer, pass, thread count and path that decides repetitions above the minimum")
    args = parser.parse_args()

    with open(args.engine_json) as f:
        engine = json.load(f)
    options = engine["options"]
    threads = options["threads"]
    passes = options["passes"]
    layers = [make_layer(info) for info in engine["layers"]]
    if options.get("precision", "float") != "float":
        progress(f"compare.py: warning: ConvEngine ran in {options['precision']}, PyTorch runs in Float32")
    if os.environ.get("GLIBC_TUNABLES", "") != TUNABLES:
        progress("compare.py: warning: GLIBC_TUNABLES is not set as compare.sh sets it; PyTorch may pay page faults")

    config = torch.__config__.show()
    onednn = next((line.split("MKL-DNN")[1].split("(")[0].strip() for line in config.splitlines() if "MKL-DNN" in line),
                  "available" if torch.backends.mkldnn.is_available() else "not available")
    blas = next((line.split("BLAS_INFO=")[1].split(",")[0] for line in config.splitlines() if "BLAS_INFO=" in line), "?")
    print(f"PyTorch {torch.__version__}: oneDNN {onednn}, BLAS {blas}, Float32, threads "
          f"{', '.join(map(str, threads))} (torch.set_num_threads); "
          f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '(unset)')}")
    print(f"load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
          + ("  (other processes are using the CPU: PyTorch's 2-thread timings are especially noisy)"
             if os.getloadavg()[0] > 0.5 else ""))
    sys.stdout.flush()

    torch_rows = []
    with torch.no_grad():
        for i, layer in enumerate(layers):
            label = f"[{i + 1}/{len(layers)}] {layer.name}"
            if not layer.symmetric:
                progress(f"{label}: asymmetric padding, which PyTorch's padding argument cannot express: skipped")
                continue
            x, w, b, d_o = layer.tensors(seed=1234 + i)
            for t in threads:
                torch.set_num_threads(t)
                for p in passes:
                    if p == "forward":
                        fn = lambda: layer.forward(x, w, b)  # noqa: E731
                    else:
                        fn = lambda: layer.backward(x, w, d_o)  # noqa: E731
                    timings = {}
                    for path in PATHS:
                        median, minimum, samples = measure(lambda: run_path(path, fn), args.min_repetitions, 41,
                                                           args.target_seconds)
                        timings[path] = {"medianMs": median, "minMs": minimum, "samplesMs": samples}
                    best = min(PATHS, key=lambda k: timings[k]["medianMs"])
                    row = {"layer": layer.name, "source": layer.source, "pass": p, "threads": t,
                           "medianMs": timings[best]["medianMs"], "minMs": timings[best]["minMs"],
                           "path": best, "paths": timings}
                    torch_rows.append(row)
                    progress(f"{label} {short(p)} {t}t: oneDNN {fmt_ms(timings['onednn']['medianMs'])} ms, "
                             f"im2col {fmt_ms(timings['im2col']['medianMs'])} ms")

    # Merge with ConvEngine's rows.
    by_key = {(r["layer"], r["pass"], r["threads"]): r for r in engine["results"]}
    merged = []
    for p in passes:
        for t in threads:
            for layer in layers:
                e = by_key.get((layer.name, p, t))
                tr = next((r for r in torch_rows if (r["layer"], r["pass"], r["threads"]) == (layer.name, p, t)), None)
                if e is None:
                    continue
                merged.append({
                    "layer": layer.name, "source": layer.source, "layout": layer.layout, "pass": p, "threads": t,
                    "convEngineMs": e["engine"]["medianMs"],
                    "pytorchMs": tr["medianMs"] if tr else None,
                    "pytorchPath": tr["path"] if tr else None,
                    "onednnMs": tr["paths"]["onednn"]["medianMs"] if tr else None,
                    "im2colMs": tr["paths"]["im2col"]["medianMs"] if tr else None,
                    "ratio": e["engine"]["medianMs"] / tr["medianMs"] if tr else None,
                    "ceilingRatio": e["ceilingRatio"],
                    "verified": e["verification"]["passed"],
                })

    summary, nhwc_summary, layout_ratios = {}, {}, {}
    nchw = [r for r in merged if r["layout"] == "nchw"]
    if nchw:
        summary = report(nchw, passes, threads,
                         "ConvEngine vs PyTorch (median ms per call; CE/PT < 1: ConvEngine faster; PyTorch = the faster"
                         " of its oneDNN and im2col paths)", "")
        overall = geomean([r["ratio"] for r in nchw])
        print(f"  overall: {overall:.2f} over {len(nchw)} rows")
        worst, seen = [], set()
        for r in sorted((r for r in nchw if r["ratio"]), key=lambda r: -r["ratio"]):
            if r["layer"] not in seen:
                seen.add(r["layer"])
                worst.append(r)
        print("worst ConvEngine / PyTorch (three layers, each at its worst row): "
              + ", ".join(f"{r['layer']} {short(r['pass'])} {r['threads']}t {r['ratio']:.2f}" for r in worst[:3]))
    nhwc = [r for r in merged if r["layout"] == "nhwc"]
    if nhwc:
        layout_ratios = nhwc_over_nchw(nhwc, nchw)
        nhwc_summary = report(nhwc, passes, threads,
                              "NHWC rows: ConvEngine (channels-last activations, K×R×S×C/G filter) vs PyTorch with"
                              " input, weight and dO in memory_format=torch.channels_last (the faster of its oneDNN"
                              " and im2col paths); CE n/c, PT n/c: each one's NHWC time over its NCHW time on the"
                              " same layer", " (channels_last)")
        print_nhwc_targets(nhwc, passes, threads, layout_ratios, {l.name for l in layers if l.pointwise},
                           options.get("numerics", "?"))

    if args.out:
        with open(args.out, "w") as f:
            machine = engine.get("machine", {})
            document = {"schema": "convbench-compare/1", "torch": torch.__version__, "engine": args.engine_json,
                        "date": engine.get("date"),
                        "machine": f"{machine.get('cpu', '?')}, {machine.get('processors', '?')} logical processors",
                        "pytorch": torch_rows, "merged": merged, "geomean": summary}
            if nhwc:
                document["geomeanNHWC"] = nhwc_summary
                document["nhwcOverNCHW"] = layout_ratios
            json.dump(document, f, indent=1)


def report(rows, passes, threads, title, anchor):
    """Prints the merged table of `rows` (one layout) and its geometric means of ConvEngine / PyTorch per pass and
    thread count (all layers, the named ones, the family's); returns those means keyed `forward@1`, …. An NHWC
    table adds ConvEngine's and PyTorch's NHWC / NCHW ratio of the same layer (`convEngineNHWCOverNCHW`, …)."""
    layouts = "convEngineNHWCOverNCHW" in rows[0]
    width = max([len("layer")] + [len(r["layer"]) for r in rows])
    header = (f"{'layer':<{width}} pass thr {'ConvEngine':>10} {'PyTorch':>9} {'path':<6} {'CE/PT':>6}"
              f" {'oneDNN':>9} {'im2col':>9} {'eng/ceil':>8}" + (f" {'CE n/c':>6} {'PT n/c':>6}" if layouts else ""))
    print()
    print(title)
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = f"{r['ratio']:.2f}" if r["ratio"] else "-"
        line = (f"{r['layer']:<{width}} {short(r['pass']):<4} {r['threads']:>3} {fmt_ms(r['convEngineMs']):>10}"
                f" {fmt_ms(r['pytorchMs']):>9} {r['pytorchPath'] or '-':<6} {ratio:>6}"
                f" {fmt_ms(r['onednnMs']):>9} {fmt_ms(r['im2colMs']):>9} {r['ceilingRatio']:>8.2f}")
        if layouts:
            line += f" {fmt_ratio(r['convEngineNHWCOverNCHW']):>6} {fmt_ratio(r['pytorchNHWCOverNCHW']):>6}"
        print(line + ("" if r["verified"] else "  FAIL"))
    print()
    print(f"geometric mean of ConvEngine / PyTorch{anchor}:")
    summary = {}
    for p in passes:
        for t in threads:
            cell = [r for r in rows if r["pass"] == p and r["threads"] == t]
            suite = geomean([r["ratio"] for r in cell if r["source"] == "suite"])
            everything = geomean([r["ratio"] for r in cell])
            summary[f"{p}@{t}"] = {"all": finite_or_none(everything), "suite": finite_or_none(suite)}
            named = sum(1 for r in cell if r["source"] == "suite")
            print(f"  {p:<8} {t} thread{'s' if t > 1 else ' '}: {everything:.2f} (all {len(cell)} layers)"
                  + (f", {suite:.2f} ({named} named layers)" if named else ""))
    family = [r for r in rows if r["source"] == "family"]
    if family:
        print(f"geometric mean of ConvEngine / PyTorch{anchor} over the convolution family's rows"
              " (transposed, 1-D, 3-D):")
        for p in passes:
            for t in threads:
                cell = [r for r in family if r["pass"] == p and r["threads"] == t]
                ratios = [r["ratio"] for r in cell if r["ratio"]]
                mean = geomean(ratios)
                summary[f"{p}@{t}"]["family"] = finite_or_none(mean)
                highest = max(cell, key=lambda r: r["ratio"] or 0, default=None)
                print(f"  {p:<8} {t} thread{'s' if t > 1 else ' '}: {mean:.2f} ({len(ratios)} of {len(cell)} rows)"
                      + (f", highest {highest['layer']} {highest['ratio']:.2f}" if highest and highest["ratio"] else ""))
    return summary


def nhwc_over_nchw(nhwc, nchw):
    """Adds to every NHWC row ConvEngine's and PyTorch's NHWC / NCHW ratio (None without the NCHW row of the same
    layer, pass and thread count); returns ConvEngine's geometric mean of it per pass and thread count."""
    twins = {(r["layer"], r["pass"], r["threads"]): r for r in nchw}
    for r in nhwc:
        twin = twins.get((base_name(r["layer"], "nhwc"), r["pass"], r["threads"]))
        r["convEngineNHWCOverNCHW"] = r["convEngineMs"] / twin["convEngineMs"] if twin else None
        r["pytorchNHWCOverNCHW"] = (r["pytorchMs"] / twin["pytorchMs"]
                                    if twin and r["pytorchMs"] and twin["pytorchMs"] else None)
    means = {}
    for r in nhwc:
        means.setdefault(f"{r['pass']}@{r['threads']}", []).append(r["convEngineNHWCOverNCHW"])
    return {key: finite_or_none(geomean(values)) for key, values in means.items()}


def print_nhwc_targets(nhwc, passes, threads, layout_ratios, pointwise_layers, numerics):
    """The issue's targets for the NHWC rows: none above 1.3 × PyTorch (channels_last); ConvEngine's NHWC time at
    most 1.15 × its NCHW time on every row, and at most 1.0 × on the 1×1 (pointwise) rows."""
    def listing(rows, key, of):
        if not rows:
            return f"none of {len(of)}"
        return f"{len(rows)} of {len(of)}: " + ", ".join(
            f"{r['layer']} {short(r['pass'])} {r['threads']}t {r[key]:.2f}" for r in rows)

    above = [r for r in nhwc if r["ratio"] and r["ratio"] > 1.3]
    print(f"NHWC rows above 1.3 × PyTorch (channels_last): {listing(above, 'ratio', nhwc)}")
    paired = [r for r in nhwc if r["convEngineNHWCOverNCHW"]]
    if not paired:
        print("ConvEngine NHWC / NCHW: no NCHW rows in this run to compare with (convbench --layout nchw,nhwc)")
        return
    print(f"geometric mean of ConvEngine NHWC / NCHW (same layer, pass and threads; both in numerics {numerics}):"
          + "".join(f"  {p} @{t} thr: {fmt_ratio(layout_ratios.get(f'{p}@{t}'))}" for p in passes for t in threads))
    slower = [r for r in paired if r["convEngineNHWCOverNCHW"] > 1.15]
    print(f"ConvEngine NHWC rows above 1.15 × their NCHW row: {listing(slower, 'convEngineNHWCOverNCHW', paired)}")
    pointwise = [r for r in paired if r["layer"] in pointwise_layers and r["convEngineNHWCOverNCHW"] > 1.0]
    print("ConvEngine NHWC 1×1 rows above 1.0 × their NCHW row: "
          + listing(pointwise, "convEngineNHWCOverNCHW", [r for r in paired if r["layer"] in pointwise_layers]))

if __name__ == "__main__":
    main()
