#!/usr/bin/env python3
"""Compares two training runs' output directories (scripts/mpi-acceptance): the largest relative
difference of their per-step train losses (log.csv), and the largest absolute difference of each
checkpoint file's tensors (model.safetensors, optimizer.safetensors), also relative to the largest
value of its tensor, naming the tensor. Standard library only. Prints one line per figure."""

import csv
import json
import struct
import sys


def losses(directory):
    with open(directory + "/log.csv") as f:
        return {int(row["step"]): float(row["train_loss"]) for row in csv.DictReader(f)}


def tensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    body = data[8 + length:]
    result = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        result[name] = struct.unpack("<%df" % ((end - start) // 4), body[start:end])
    return result


def main(first, second):
    a, b = losses(first), losses(second)
    if set(a) != set(b):
        sys.exit("the logs hold different steps: %d and %d rows" % (len(a), len(b)))
    step = max(a, key=lambda s: abs(a[s] - b[s]) / abs(b[s]))
    print("losses: %d steps, largest relative difference %.2e (step %d: %.9g vs %.9g)"
          % (len(a), abs(a[step] - b[step]) / abs(b[step]), step, a[step], b[step]))
    for name in ["model.safetensors", "optimizer.safetensors"]:
        x, y = tensors(first + "/" + name), tensors(second + "/" + name)
        differences = {k: max(abs(p - q) for p, q in zip(x[k], y[k])) for k in y}
        scaled = {k: differences[k] / max(max(abs(q) for q in y[k]), 1e-30) for k in y}
        worst, relative = max(differences, key=differences.get), max(scaled, key=scaled.get)
        # A key projection's bias has a zero gradient in exact arithmetic (softmax ignores a shift
        # shared by all keys): AdamW turns its rounding noise into steps of the learning rate.
        others = [k for k in scaled if not k.endswith(("c_attn.bias", "k_proj.bias"))]
        other = max(others, key=scaled.get) if others else "-"
        print("%s: largest absolute difference %.2e (in %s); relative to its tensor's largest value %.2e (in %s); "
              "without the qkv biases %.2e (in %s)" % (name, differences[worst], worst, scaled[relative], relative,
                                                      scaled.get(other, 0.0), other))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: compare-runs.py RUN_DIR OTHER_RUN_DIR")
    main(sys.argv[1], sys.argv[2])
