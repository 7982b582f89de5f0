"""Our contender: `gpt train --backend blas` on the same preset, with every recipe value that has a
flag passed as one (so a change of gpt's defaults cannot silently change the comparison). AdamW's
epsilon and the architecture have no flags: the config and training lines gpt prints are checked
against the recipe instead.

gpt times each step itself (log.csv's tok_per_s: from the step's start, batch already drawn, to
its end, the gradient norm read back) and evaluates only after the last step (--eval-interval =
steps), like the peers. The step times and losses come from log.csv, the validation loss from its last row.
"""

import csv
import os
import re
import shutil
import subprocess
import tempfile

from contender import parse_arguments, write_result
from recipe import GPT_CONFIG_NAMES, PRESETS


def command(gpt, recipe, data, threads, out):
    steps = recipe.steps
    flags = {
        "data": data, "config": GPT_CONFIG_NAMES[recipe.model], "backend": "blas", "threads": threads,
        "steps": steps, "batch-size": recipe.batch, "lr": recipe.learning_rate,
        "min-lr": recipe.min_learning_rate, "warmup": recipe.warmup, "weight-decay": recipe.weight_decay,
        "beta1": recipe.beta1, "beta2": recipe.beta2, "grad-clip": recipe.grad_clip, "dropout": 0,
        "seed": recipe.seed, "eval-interval": steps, "eval-batches": recipe.eval_batches,
        "out": out, "log": os.path.join(out, "log.csv"), "log-every": max(1, steps // 10),
    }
    arguments = [gpt, "train"]
    for name, value in flags.items():
        arguments += [f"--{name}", str(value)]
    return arguments


def check_printed_settings(lines, recipe):
    """Stops with a one-line error when gpt's "config:" or "training:" line disagrees with the
    recipe, e.g. after a preset or a default changed in the Swift code."""
    m = recipe.model
    expected_config = (f"config: {m.layers} layers, {m.heads} heads, {m.width} dim, ffn {m.ffn}, context {m.context}, ",
                       ", layer norm, gelu, learned positions, tied head, with bias, dropout 0.0")
    config = next((line for line in lines if line.startswith("config: ")), "")
    if not (config.startswith(expected_config[0]) and config.rstrip().endswith(expected_config[1])):
        raise SystemExit(f"ours: gpt's model is not the recipe's: {config.strip() or 'no config line'}")
    training = next((line for line in lines if line.startswith("training: ")), "")
    epsilon = re.search(r"epsilon ([-+0-9.e]+)", training)
    if not epsilon or abs(float(epsilon.group(1)) - recipe.epsilon) > 1e-6 * recipe.epsilon:
        raise SystemExit(f"ours: gpt's AdamW epsilon is not {recipe.epsilon:g}: {training.strip() or 'no training line'}")


def device_line(gpt):
    """The blas backend's device line from `gpt backends` (threads, OpenBLAS version and kernels)."""
    listing = subprocess.run([gpt, "backends"], capture_output=True, text=True).stdout
    match = re.search(r"^blas\b.*\n\s*device: (.*)$", listing, re.MULTILINE)
    return match.group(1).strip() if match else "blas backend not listed by gpt backends"


def read_log(path, tokens_per_step):
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    seconds = [tokens_per_step / float(row["tok_per_s"]) for row in rows]
    return {"step_seconds": seconds, "losses": [float(row["train_loss"]) for row in rows],
            "validation_loss": float(rows[-1]["val_loss"])}


def main():
    def extra(parser):
        parser.add_argument("--gpt", required=True, help="the gpt binary")
        parser.add_argument("--keep-log", help="copy gpt's log.csv here")
    arguments = parse_arguments(__doc__, extra)
    recipe = PRESETS[arguments.preset]
    out = tempfile.mkdtemp(prefix="peer-bench-gpt-")
    try:
        run = command(arguments.gpt, recipe, arguments.data, arguments.threads, out)
        print("  ours: " + " ".join(run[1:]), flush=True)
        printed = []
        with subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as child:
            for line in child.stdout:
                printed.append(line)
                print("  ours | " + line, end="", flush=True)
                if line.startswith("training: "):  # printed before the first step: stop early if wrong
                    try:
                        check_printed_settings(printed, recipe)
                    except SystemExit:
                        child.kill()
                        raise
        if child.returncode != 0:
            raise SystemExit(f"ours: gpt train exited with status {child.returncode}")
        result = read_log(os.path.join(out, "log.csv"), recipe.tokens_per_step)
        if arguments.keep_log:
            shutil.copyfile(os.path.join(out, "log.csv"), arguments.keep_log)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    write_result(arguments.result, contender="ours", version=device_line(arguments.gpt),
                 threads=f"--threads {arguments.threads}", warmup_seconds=None, **result)


if __name__ == "__main__":
    main()
