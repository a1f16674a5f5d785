#!/usr/bin/env python3
"""PyTorch peer of bench_train_throughput.

measure: trains the SAME networks (parsed from the architecture strings the
C++ benchmark wrote) on the SAME Fashion-MNIST samples with the same batch
size, optimizer (Adam, lr 1e-3) and thread count, timed the same way (every
epoch, from the first step to the last, after an untimed warm-up epoch), and
appends its results to the results file.
report: prints the side-by-side table of the medians in the results file.

The training loop is what a competent PyTorch user writes for data that fits
in memory: the subset is converted to one float tensor up front, each epoch
draws a random permutation, and batches are gathered by index (no
DataLoader, whose per-sample overhead would handicap PyTorch). PyTorch is
measured twice: as written by default (NCHW, variant "pytorch") and with the
model and data in channels_last ("pytorch-cl"), the layout the C++ worker
trains 2-D networks in when their convolutions have >= 8 channels, so the
table separates what comes from the layout from what comes from C++.
"""
import argparse
import collections
import gzip
import re
import statistics
import time

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"


def load_images(indices):
    with gzip.open(f"{DATA}/train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(f"{DATA}/train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = torch.from_numpy(images[indices].astype(np.float32) / 255.0)
    y = torch.from_numpy(labels[indices].astype(np.int64))
    return x, y


def build(arch, shape=(1, 28, 28)):
    """Builds nn.Sequential from the C++ text form, tracking the shape."""
    layers = []
    c, h, w = shape
    flat = None
    for token in arch.split():
        m = re.fullmatch(r"(\w+)(?:\((.*)\))?", token)
        kind, args = m.group(1), (m.group(2) or "").split(",")
        opts = {a[0]: int(a[1:]) for a in args if a[:1] in "ksp" and a[1:].isdigit()}
        out = next((int(a) for a in args if a.isdigit()), None)
        if kind == "CONV2D":
            k, s, p = opts["k"], opts.get("s", 1), opts.get("p", 0)
            layers.append(nn.Conv2d(c, out, k, s, p))
            c, h, w = out, (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
        elif kind == "MAXPOOL2D":
            k, s = opts["k"], opts.get("s", opts["k"])
            layers.append(nn.MaxPool2d(k, s))
            h, w = (h - k) // s + 1, (w - k) // s + 1
        elif kind == "BATCHNORM":
            layers.append(nn.BatchNorm2d(c) if flat is None else nn.BatchNorm1d(flat))
        elif kind == "RELU":
            layers.append(nn.ReLU())
        elif kind == "LINEAR":
            if flat is None:
                layers.append(nn.Flatten())
                flat = c * h * w
            layers.append(nn.Linear(flat, out))
            flat = out
        else:
            raise ValueError(f"unsupported layer {token}")
    return nn.Sequential(*layers)


def samples_per_second(arch, x, y, batch, epochs, channels_last):
    model = build(arch)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    n, seen = x.shape[0], 0
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n)
        for begin in range(0, n - 1, batch):  # A last batch of 1 is dropped, as in C++.
            idx = order[begin:begin + batch]
            inputs = x[idx]
            if channels_last:
                inputs = inputs.contiguous(memory_format=torch.channels_last)
            optimizer.zero_grad()
            loss = loss_fn(model(inputs), y[idx])
            loss.backward()
            optimizer.step()
            loss.item()
            seen += idx.numel()
    return seen / (time.perf_counter() - start), sum(p.numel() for p in model.parameters())


def read_results(path):
    """{(name, params): {variant: [rates]}} in file order, plus the archs."""
    rows = collections.OrderedDict()
    archs = collections.OrderedDict()
    for line in open(path):
        name, arch, params, variant, rate = line.rstrip("\n").split("\t")
        archs[name] = (arch, int(params))
        rows.setdefault(name, collections.defaultdict(list))[variant].append(float(rate))
    return rows, archs


def measure(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x, y = load_images(np.loadtxt(args.indices, dtype=np.int64))
    _, archs = read_results(args.results)
    with open(args.results, "a") as out:
        for name, (arch, params) in archs.items():
            for variant, channels_last in (("pytorch", False), ("pytorch-cl", True)):
                # An untimed epoch first, as on the C++ side.
                samples_per_second(arch, x, y, args.batch, 1, channels_last)
                rate, py_params = samples_per_second(arch, x, y, args.batch, args.epochs,
                                                     channels_last)
                if py_params != params:
                    raise SystemExit(f"{name}: PyTorch net has {py_params} params, C++ {params}")
                out.write(f"{name}\t{arch}\t{params}\t{variant}\t{rate}\n")


def report(args):
    rows, archs = read_results(args.results)
    runs = min(len(v) for r in rows.values() for v in r.values())
    print(f"Fashion-MNIST, {args.samples} samples x {args.epochs} epochs, batch {args.batch}, "
          f"Adam, {args.threads} thread(s), torch {torch.__version__}; training samples/s, "
          f"median of {runs} alternating runs")
    print(f"{'model':<7} {'params':>7} {'C++':>8} {'PyTorch':>8} {'ratio':>6} | "
          f"{'C++ stock':>9} {'PyTorch CL':>10} {'C++/PyTorch CL':>14}")
    for name, rates in rows.items():
        med = {variant: statistics.median(values) for variant, values in rates.items()}
        print(f"{name:<7} {archs[name][1]:>7} {med['cpp']:>8.0f} {med['pytorch']:>8.0f} "
              f"{med['cpp'] / med['pytorch']:>6.2f} | {med['cpp-stock']:>9.0f} "
              f"{med['pytorch-cl']:>10.0f} {med['cpp'] / med['pytorch-cl']:>14.2f}")
    print("C++: the worker's trainer as it runs trials (FusedOptimizer; channels-last when "
          "all convolutions have >= 8 channels; LINEAR in oneDNN's sgemm).\nPyTorch: default "
          "NCHW. C++ stock: the same trainer with torch::optim, NCHW and LibTorch's BLAS. "
          "PyTorch CL: PyTorch with channels_last.")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["measure", "report"])
    parser.add_argument("--results", required=True, help="the results TSV (appended to)")
    parser.add_argument("--indices", help="bench_train_throughput --indices_out (measure)")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    measure(args) if args.mode == "measure" else report(args)


if __name__ == "__main__":
    main()
