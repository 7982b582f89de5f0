"""The per-run line and the final table: tok/s, losses and our ratio to each peer."""

import statistics

LABELS = {"ours": "gpt train --backend blas", "jax": "JAX (jit)", "torch": "PyTorch eager",
          "torch-compile": "PyTorch torch.compile"}

# Losses before the first update must agree to float32 rounding: the contenders start from the same
# weights on the same batch. A larger gap means they are not computing the same model.
FIRST_LOSS_TOLERANCE = 1e-4


def tokens_per_second(result, recipe):
    """Steady-state training throughput: the steps after the first `timing_skip`."""
    timed = result["step_seconds"][recipe.timing_skip:]
    return recipe.tokens_per_step * len(timed) / sum(timed)


def run_line(result):
    head = f"{LABELS[result['contender']]}, round {result['round']}"
    if "failure" in result:
        return f"{head}: {result['failure']}"
    warmup = result.get("warmup_seconds")
    return (f"{head}: {result['tokens_per_second']:,.0f} tok/s, loss at step 1 {result['losses'][0]:.5f}, "
            f"val loss {result['validation_loss']:.4f}"
            + (f", compile/warm-up {warmup:.1f} s" if warmup is not None else "")
            + f", {result['wall_seconds']:.0f} s in all, load {result['load_before']:.1f} -> {result['load_after']:.1f}")


def summarize(results, order):
    """One row per contender: its runs' median tok/s and the losses of its first good run."""
    rows = []
    for name in order:
        runs = [r for r in results if r["contender"] == name]
        good = [r for r in runs if "failure" not in r]
        if not good:
            rows.append({"name": name, "failure": runs[0]["failure"] if runs else "not run"})
            continue
        rates = [r["tokens_per_second"] for r in good]
        warmups = [r["warmup_seconds"] for r in good if r.get("warmup_seconds") is not None]
        rows.append({"name": name, "rate": statistics.median(rates), "rates": rates,
                     "losses": good[0]["losses"], "validation_loss": good[0]["validation_loss"],
                     "warmup": statistics.median(warmups) if warmups else None,
                     "wall": statistics.median(r["wall_seconds"] for r in good),
                     "threads": good[0]["threads"], "version": good[0]["version"], "note": good[0].get("note")})
    return rows


def round_ratios(results, name):
    """Ours ÷ `name` within each round where both ran: neighbours in time share the machine's load
    more closely than two medians do."""
    rates = {(r["contender"], r["round"]): r["tokens_per_second"] for r in results if "failure" not in r}
    return [rates[("ours", n)] / rates[(name, n)] for c, n in rates if c == name and ("ours", n) in rates]


def table(rows, results):
    ours = next((row for row in rows if row["name"] == "ours" and "rate" in row), None)
    header = f"{'contender':<24} {'tok/s':>8} {'ours ÷ it':>9} {'loss@1':>8} {'val loss':>8} {'warm-up':>8} {'wall':>6}  threads"
    lines = [header, "-" * len(header)]
    for row in rows:
        label = LABELS[row["name"]]
        if "failure" in row:
            lines.append(f"{label:<24} {row['failure']}")
            continue
        ratios = [] if row is ours else round_ratios(results, row["name"])
        ratio = f"{statistics.median(ratios):.2f}x" if ratios else ""
        warmup = "" if row["warmup"] is None else f"{row['warmup']:.1f} s"
        lines.append(f"{label:<24} {row['rate']:>8,.0f} {ratio:>9} {row['losses'][0]:>8.4f} "
                     f"{row['validation_loss']:>8.4f} {warmup:>8} {row['wall']:>4.0f} s  {row['threads']}")
    return "\n".join(lines)


def agreement(rows):
    """Lines saying whether every contender computed what ours did: the same loss before the first
    update, and how far the loss curves and the final validation loss drifted apart after it."""
    ours = next((row for row in rows if row["name"] == "ours" and "rate" in row), None)
    if ours is None:
        return ["agreement: not checked (ours did not run)"]
    lines = []
    for row in rows:
        if row is ours or "failure" in row:
            continue
        gaps = [abs(a - b) for a, b in zip(row["losses"], ours["losses"])]
        widest = max(range(len(gaps)), key=gaps.__getitem__)
        verdict = "same start" if gaps[0] <= FIRST_LOSS_TOLERANCE else "DIFFERENT START: not the same model or data"
        lines.append(f"{LABELS[row['name']]} vs ours: loss at step 1 {gaps[0]:.1e} apart ({verdict}), "
                     f"at most {gaps[widest]:.1e} apart over the run (step {widest + 1}), "
                     f"final val loss {row['validation_loss'] - ours['validation_loss']:+.1e} from ours")
    return lines


def how_measured(recipe):
    return (f"tok/s: B*T tokens per step over the steps after the first {recipe.timing_skip}, each step timed until "
            f"its loss is back on the host; the median of the rounds. ours ÷ it: the median of the ratios within "
            f"a round. JAX's compile time and torch.compile's warm-up (the extra time of its first steps) are "
            f"under warm-up, not in tok/s. loss@1: the first step's loss (same weights, same batch). "
            f"wall: the whole process.")


def per_round(rows):
    """Every run's tok/s, in run order, when there was more than one round."""
    if all(len(row.get("rates", [])) <= 1 for row in rows):
        return []
    return ["tok/s of each round: " + "; ".join(
        f"{LABELS[row['name']]} " + ", ".join(f"{rate:,.0f}" for rate in row["rates"])
        for row in rows if "rates" in row)]


def versions(rows):
    return [f"{LABELS[row['name']]}: {row['version']}" + (f"; {row['note']}" if row.get("note") else "")
            for row in rows if "version" in row]
