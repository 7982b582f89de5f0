"""scripts/peer-bench's driver: runs each contender in a process of its own, alternating them
(ours, JAX, torch, torch.compile, ours, ...) so that a drift in the machine's load falls on all of
them, then prints the table. Every process is pinned to the same cores; each contender is also
told the thread count its own way (--threads, torch.set_num_threads, XLA's pool follows the pin).

Results, gpt's log.csv and the table are kept in .peer-bench/runs/DATE-TIME/.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import machine
import report
from recipe import DEFAULT_ROUNDS, PRESETS

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ORDER = ["ours", "jax", "torch", "torch-compile"]
SCRIPTS = {"ours": ["ours.py"], "jax": ["jax_gpt.py"], "torch": ["torch_gpt.py"],
           "torch-compile": ["torch_gpt.py", "--compile"]}


class UsageParser(argparse.ArgumentParser):
    """Usage errors exit 64, as the project's commands do (argparse's own status is 2)."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"peer-bench: {message}", file=sys.stderr)
        sys.exit(64)


def parse_arguments():
    parser = UsageParser(prog="scripts/peer-bench", description=__doc__)
    parser.add_argument("--gpt", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="char-baby")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--only", default=",".join(ORDER))
    parser.add_argument("--threads", type=int)
    arguments = parser.parse_args()
    available = sorted(os.sched_getaffinity(0))
    if arguments.threads is None:
        arguments.threads = len(available)
    if not 1 <= arguments.threads <= len(available):
        parser.error(f"--threads must be between 1 and the {len(available)} cores this process may use")
    arguments.cores = available[: arguments.threads]
    if arguments.rounds is None:
        arguments.rounds = DEFAULT_ROUNDS[arguments.preset]
    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    chosen = arguments.only.split(",")
    unknown = [name for name in chosen if name not in ORDER]
    if unknown:
        parser.error(f"--only: unknown contender {unknown[0]} (known: {', '.join(ORDER)})")
    arguments.contenders = [name for name in ORDER if name in chosen]
    return arguments


def run(name, round_number, arguments, folder):
    recipe = PRESETS[arguments.preset]
    result_path = os.path.join(folder, f"{name}-{round_number}.json")
    command = [sys.executable, os.path.join(HERE, SCRIPTS[name][0]), *SCRIPTS[name][1:],
               "--preset", arguments.preset, "--data", arguments.data, "--threads", str(arguments.threads),
               "--result", result_path]
    if name == "ours":
        command += ["--gpt", arguments.gpt, "--keep-log", os.path.join(folder, f"ours-{round_number}-log.csv")]
    print(f"== {report.LABELS[name]}, round {round_number} of {arguments.rounds}", flush=True)
    load_before, start = machine.load_average(), time.perf_counter()
    completed = subprocess.run(command, preexec_fn=lambda: os.sched_setaffinity(0, arguments.cores))
    wall, load_after = time.perf_counter() - start, machine.load_average()
    if completed.returncode != 0 or not os.path.exists(result_path):
        result = {"contender": name, "failure": f"exited with status {completed.returncode} (its output is above)"}
    else:
        with open(result_path) as file:
            result = json.load(file)
    result.update(round=round_number, wall_seconds=wall, load_before=load_before, load_after=load_after)
    if "failure" not in result:
        result["tokens_per_second"] = report.tokens_per_second(result, recipe)
    print(report.run_line(result), flush=True)
    return result


def describe_run(arguments, recipe):
    model = recipe.model
    return (f"peer-bench {arguments.preset}: {model.layers} layers, {model.heads} heads, width {model.width}, "
            f"context {model.context}; {recipe.steps} steps of batch {recipe.batch}, lr {recipe.learning_rate:g} "
            f"(warmup {recipe.warmup}, cosine to lr/10), AdamW {recipe.beta1}/{recipe.beta2} wd {recipe.weight_decay} "
            f"on 2-D tensors, clip {recipe.grad_clip}, dropout 0, seed {recipe.seed}; "
            f"val loss over {recipe.eval_batches} batches; {arguments.rounds} round(s)")


def main():
    arguments = parse_arguments()
    recipe = PRESETS[arguments.preset]
    folder = os.path.join(ROOT, ".peer-bench", "runs", time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(folder)
    heading = [describe_run(arguments, recipe),
               f"machine: {machine.describe(arguments.threads)}",
               f"code: gpt {machine.git_commit(ROOT)}; Python {sys.version.split()[0]}, "
               + machine.package_versions(["jax", "jaxlib", "torch", "numpy"])]
    print("\n".join(heading), flush=True)
    results, current = [], None
    try:
        for round_number in range(1, arguments.rounds + 1):
            for name in arguments.contenders:
                current = {"contender": name, "round": round_number, "failure": "interrupted"}
                results.append(run(name, round_number, arguments, folder))
    except KeyboardInterrupt:  # subprocess.run has ended the contender that was running
        if current:
            results.append(current)
        print("\ninterrupted: the table holds the runs that finished", flush=True)
    rows = report.summarize(results, arguments.contenders)
    text = "\n".join(heading + ["", report.table(rows, results), "", report.how_measured(recipe)]
                     + report.per_round(rows) + report.agreement(rows) + report.versions(rows))
    print("\n" + text)
    with open(os.path.join(folder, "table.txt"), "w") as file:
        file.write(text + "\n")
    with open(os.path.join(folder, "results.json"), "w") as file:
        json.dump(results, file, indent=1)
    print(f"\nsaved in {os.path.relpath(folder, ROOT)}/")
    if any("failure" in row and row["name"] != "torch-compile" for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
