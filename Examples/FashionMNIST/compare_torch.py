#!/usr/bin/env python3
"""PyTorch side of the Fashion-MNIST example (`make train-compare`, and the trace behind `make test`).

The same network (conv 1→32 3×3 pad 1 + ReLU, max-pool 2, conv 32→64 3×3 pad 1 + ReLU, max-pool 2, linear
3136→10), the same loss (mean softmax cross-entropy), optimiser (SGD lr 0.01 momentum 0.9) and data
(pixels/255, then (x − 0.2860)/0.3530, float32), started from the initial weights the Swift run wrote
(`initial-weights.npz`, PyTorch state_dict names) and fed the same batches in the same order (`batch-order.txt`,
whose format Sources/FashionMNISTKit/BatchOrder.swift documents).

Two modes:

  compare (default): for each thread count T in --threads, runs the Swift binary (strict numerics, T threads),
      then PyTorch (torch.set_num_threads(T)) on that run's weights and batches, and reports both runs' per-step
      losses (the first step where they differ by more than 1e-4 relative, the largest difference over the
      first 50 steps), training time per epoch, and test accuracy; then one Swift run in default numerics for
      its accuracy. Writes everything to OUT/compare.json.

  --trace-out FILE: one Swift run (strict, 1 thread) of --epochs epochs (at most --steps steps) on the first
      --train-limit images, PyTorch
      on the same, and FILE gets PyTorch's per-step losses plus the sums of the initial weights (so the Swift
      test can tell when its initialisation changed). This is how Tests/FashionMNISTTests/Traces/ is made.

Both sides time only the training steps (gathering the batch, forward, loss, backward, optimiser step), not
loading or evaluation. Run it with GLIBC_TUNABLES=glibc.malloc.mmap_threshold=4294967295:
glibc.malloc.trim_threshold=4294967295 (the Makefile does), so that PyTorch's freed buffers stay mapped.
"""

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import time

import numpy as np

try:
    import torch
    from torch import nn
except ImportError as error:
    print(f"compare_torch.py: PyTorch is not importable with {sys.executable}: {error}", file=sys.stderr)
    sys.exit(2)

MEAN, STD = 0.2860, 0.3530
TOLERANCE = 1e-4


def progress(message):
    print(message, file=sys.stderr, flush=True)


def read_idx(path, dims):
    with gzip.open(path, "rb") as f:
        data = f.read()
    if data[:3] != b"\x00\x00\x08" or data[3] != dims:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes with {dims} dimensions")
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_split(directory, split, limit=None):
    prefix = "train" if split == "train" else "t10k"
    images = read_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"), 3)
    labels = read_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"), 1)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    # The same float32 operations, in the same order, as FashionMNISTDataset.swift.
    x = (images.astype(np.float32) / np.float32(255) - np.float32(MEAN)) / np.float32(STD)
    return torch.from_numpy(x.reshape(-1, 1, 28, 28).copy()), torch.from_numpy(labels.astype(np.int64))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc = nn.Linear(3136, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc(x.flatten(1))


def read_batch_order(path):
    epochs, header = [], None
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                header = line.strip()
            elif line.strip():
                epochs.append(np.array(line.split(), dtype=np.int64))
    batch = int(re.search(r"batch (\d+)", header).group(1))
    return epochs, batch


def run_swift(binary, out, threads, numerics, extra):
    command = [binary, "--numerics", numerics, "--threads", str(threads), "--output", out] + extra
    progress("compare: " + " ".join(command))
    subprocess.run(command, check=True, stdout=sys.stderr)
    with open(os.path.join(out, "losses.json")) as f:
        return json.load(f)


def run_torch(swift_dir, train, test, threads, lr, momentum, steps=None):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = Net()
    weights = np.load(os.path.join(swift_dir, "initial-weights.npz"))
    net.load_state_dict({name: torch.from_numpy(weights[name].copy()) for name in weights.files})
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    order, batch = read_batch_order(os.path.join(swift_dir, "batch-order.txt"))
    x_train, y_train = train
    losses, epochs = [], []
    for e, permutation in enumerate(order):
        index = torch.from_numpy(permutation)
        net.train()
        start = time.perf_counter()
        epoch_losses = []
        for b in range(0, len(permutation), batch):
            if steps is not None and len(losses) >= steps:
                break
            i = index[b: b + batch]
            xb, yb = x_train[i], y_train[i]
            optimizer.zero_grad()
            loss = loss_fn(net(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            epoch_losses.append(losses[-1])
            if len(losses) % 100 == 0:
                progress(f"\rPyTorch, {threads} thread(s): epoch {e + 1} step {len(epoch_losses)} loss {np.mean(epoch_losses):.4f}")
        seconds = time.perf_counter() - start
        summary = {"epoch": e + 1, "steps": len(epoch_losses), "seconds": seconds,
                   "mean_loss": float(np.mean(epoch_losses))}
        if test is not None:
            net.eval()
            with torch.no_grad():
                correct = sum(int((net(test[0][s: s + 1000]).argmax(1) == test[1][s: s + 1000]).sum())
                              for s in range(0, len(test[1]), 1000))
            summary["test_accuracy"] = correct / len(test[1])
        epochs.append(summary)
        if steps is not None and len(losses) >= steps:
            break
    return losses, epochs


def first_difference(swift, torch_losses):
    """(first 1-based step whose relative difference exceeds TOLERANCE or None, max relative difference over 50)."""
    relative = [abs(s - t) / abs(t) for s, t in zip(swift, torch_losses)]
    first = next((i + 1 for i, r in enumerate(relative) if r > TOLERANCE), None)
    return first, max(relative[:50]) if relative else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--swift-binary", default=".build/release/fashion-mnist")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--out", default="train-results/compare")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--steps", type=int, default=None, help="stop after this many steps in all")
    parser.add_argument("--train-limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--no-default-run", action="store_true", help="skip the Swift run in default numerics")
    parser.add_argument("--trace-out", help="write PyTorch's per-step losses for the Swift test (see the docstring)")
    args = parser.parse_args()

    os.makedirs(args.out, exist_ok=True)
    common = ["--seed", str(args.seed), "--epochs", str(args.epochs)]
    if args.steps is not None:
        common += ["--steps", str(args.steps)]
    if args.train_limit is not None:
        common += ["--train-limit", str(args.train_limit)]
    train = load_split(args.data, "train", args.train_limit)

    if args.trace_out:
        out = os.path.join(args.out, "swift-trace")
        swift = run_swift(args.swift_binary, out, 1, "strict", common + ["--no-evaluation"])
        losses, _ = run_torch(out, train, None, 1, args.lr, args.momentum, args.steps)
        weights = np.load(os.path.join(out, "initial-weights.npz"))
        trace = {
            "seed": args.seed, "train_images": len(train[1]), "epochs": args.epochs, "batch_size": swift["batch_size"],
            "numerics": "strict",
            "torch": torch.__version__, "losses": losses,
            "initial_weight_sums": {n: float(weights[n].astype(np.float64).sum()) for n in weights.files},
        }
        with open(args.trace_out, "w") as f:
            json.dump(trace, f, indent=1)
            f.write("\n")
        first, largest = first_difference(swift["step_losses"], losses)
        print(f"trace: {len(losses)} PyTorch losses written to {args.trace_out}; against this Swift run: "
              f"first step over {TOLERANCE:g} relative: {first or 'none'}, largest relative difference {largest:.2e}")
        return

    test = load_split(args.data, "test")
    rows, report = [], {"torch": torch.__version__, "runs": []}
    for threads in [int(t) for t in args.threads.split(",")]:
        out = os.path.join(args.out, f"swift-strict-{threads}")
        swift = run_swift(args.swift_binary, out, threads, "strict", common)
        losses, epochs = run_torch(out, train, test, threads, args.lr, args.momentum, args.steps)
        progress("")
        first, largest = first_difference(swift["step_losses"], losses)
        run = {"threads": threads, "swift": swift, "torch_losses": losses, "torch_epochs": epochs,
               "first_step_over_tolerance": first, "largest_relative_difference_first_50": largest}
        report["runs"].append(run)
        for s, t in zip(swift["epochs"], epochs):
            rows.append((threads, s["epoch"], s["seconds"], t["seconds"], s.get("test_accuracy"), t.get("test_accuracy")))
        print(f"{threads} thread(s): per-step losses over {len(losses)} steps: first step differing by more than "
              f"{TOLERANCE:g} relative: {first or 'none'}; largest relative difference over the first 50 steps: {largest:.2e}")
    if not args.no_default_run:
        swift_default = run_swift(args.swift_binary, os.path.join(args.out, "swift-default"),
                                  max(int(t) for t in args.threads.split(",")), "default", common)
        report["swift_default"] = swift_default

    print()
    print("threads  epoch  Swift s  PyTorch s  Swift/PyTorch  Swift acc  PyTorch acc")
    for threads, epoch, s, t, sa, ta in rows:
        accuracy = lambda a: f"{a * 100:8.2f}%" if a is not None else "        -"
        print(f"{threads:7d}  {epoch:5d}  {s:7.2f}  {t:9.2f}  {s / t:13.2f}  {accuracy(sa)}  {accuracy(ta)}")
    if "swift_default" in report:
        for e in report["swift_default"]["epochs"]:
            if "test_accuracy" in e:
                print(f"Swift default numerics, epoch {e['epoch']}: test accuracy {e['test_accuracy'] * 100:.2f}%, "
                      f"{e['seconds']:.2f} s")
    with open(os.path.join(args.out, "compare.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(f"compare: wrote {os.path.join(args.out, 'compare.json')}")


if __name__ == "__main__":
    main()
