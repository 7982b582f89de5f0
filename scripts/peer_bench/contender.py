"""What every peer shares: its command line, the training loop that times it, and the result file.

The loop is here, not in each peer, so that every contender is measured the same way: the same
batches in the same order, the learning rate of each step from the one schedule, and each step
timed from the call to its loss being back on the host (the framework has finished the step).
Batch slicing is outside the clock, as it is in gpt train. The driver turns the step times into
tok/s; evaluation runs after the timed steps and is not in them.
"""

import argparse
import json
import math
import time

from data import Corpus, training_batches, validation_batches
from parameters import initial_values
from recipe import PRESETS


def parse_arguments(description, extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--preset", choices=sorted(PRESETS), required=True)
    parser.add_argument("--data", required=True, help="UTF-8 text (data/shakespeare.txt)")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--result", required=True, help="where to write the JSON result")
    if extra:
        extra(parser)
    return parser.parse_args()


class Setup:
    """The preset, the corpus and gpt train's initial weights, loaded once per process."""

    def __init__(self, arguments):
        self.recipe = PRESETS[arguments.preset]
        self.corpus = Corpus(arguments.data)
        self.initial = initial_values(self.recipe.model, self.corpus.vocabulary, self.recipe.seed)


def train(setup, label, step, evaluate):
    """Runs the recipe. `step(tokens, targets, learning_rate, t)` takes one optimizer step (t is
    1-based, for AdamW's bias correction) and returns the loss as a Python float, which forces the
    step to finish. `evaluate(tokens, targets)` returns one batch's mean loss. Returns the fields
    of the result."""
    recipe = setup.recipe
    batches = training_batches(setup.corpus, recipe.batch, recipe.model.context, recipe.seed)
    report_every = max(1, recipe.steps // 10)
    seconds, losses = [], []
    for index in range(recipe.steps):
        tokens, targets = next(batches)
        learning_rate = recipe.learning_rate_at(index)
        start = time.perf_counter()
        loss = step(tokens, targets, learning_rate, index + 1)
        seconds.append(time.perf_counter() - start)
        if not math.isfinite(loss):
            raise SystemExit(f"{label}: training diverged at step {index + 1} (loss {loss})")
        losses.append(loss)
        if (index + 1) % report_every == 0:
            rate = recipe.tokens_per_step * len(seconds[-report_every:]) / sum(seconds[-report_every:])
            print(f"  {label}: step {index + 1}/{recipe.steps} | loss {loss:.4f} | {rate:,.0f} tok/s", flush=True)
    batches = validation_batches(setup.corpus, recipe.batch, recipe.model.context, recipe.eval_batches)
    validation = sum(evaluate(tokens, targets) for tokens, targets in batches) / len(batches)
    return {"step_seconds": seconds, "losses": losses, "validation_loss": validation}


def write_result(path, **fields):
    """The result file the driver reads: contender, version, threads, step_seconds and losses (one
    per step), validation_loss, warmup_seconds (compile time, or None), note; or failure with a
    one-line reason."""
    with open(path, "w") as file:
        json.dump(fields, file)
