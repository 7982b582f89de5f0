"""The PyTorch contender: the model as a torch.nn.Module and the usual training step, eager or
with torch.compile (--compile).

What a PyTorch user would write: nn.Linear layers, F.scaled_dot_product_attention (its fused CPU
kernel), clip_grad_norm_ and torch.optim.AdamW with two parameter groups (decay on the 2-D
tensors only), fused on the CPU where this torch has it. clip_grad_norm_ scales by
clip / (norm + 1e-6) where gpt uses clip / norm: a relative difference of 1e-6, below float32
noise. torch's AdamW is gpt's update: p *= 1 - lr * wd, then p -= lr * m-hat / (sqrt(v-hat) + eps).

--compile compiles the module (forward and backward, through AOTAutograd and Inductor's C++
kernels); the optimizer stays eager. Compilation happens in the first steps; their extra time is
reported as warm-up, and tok/s leaves them out like every contender's first steps. If compilation
fails, the result says why in one line.

Threads: torch.set_num_threads(N), which Inductor's OpenMP kernels follow too.
"""

import os
import statistics
import tempfile

import torch
import torch.nn.functional as F
from torch import nn

from contender import Setup, parse_arguments, train, write_result
from parameters import decays
from recipe import PRESETS


class Block(nn.Module):
    def __init__(self, model):
        super().__init__()
        c = model.width
        self.heads, self.epsilon = model.heads, model.norm_epsilon
        self.ln_1 = nn.LayerNorm(c, eps=model.norm_epsilon)
        self.attn = nn.ModuleDict({"c_attn": nn.Linear(c, 3 * c), "c_proj": nn.Linear(c, c)})
        self.ln_2 = nn.LayerNorm(c, eps=model.norm_epsilon)
        self.mlp = nn.ModuleDict({"c_fc": nn.Linear(c, model.ffn), "c_proj": nn.Linear(model.ffn, c)})

    def forward(self, x):
        batch, length, c = x.shape
        q, k, v = self.attn["c_attn"](self.ln_1(x)).split(c, dim=-1)
        # (B, T, C) -> (B, NH, T, hs), the layout scaled_dot_product_attention takes.
        q, k, v = (t.view(batch, length, self.heads, c // self.heads).transpose(1, 2) for t in (q, k, v))
        attended = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attn["c_proj"](attended.transpose(1, 2).reshape(batch, length, c))
        hidden = F.gelu(self.mlp["c_fc"](self.ln_2(x)), approximate="tanh")
        return x + self.mlp["c_proj"](hidden)


class GPT(nn.Module):
    """Module names follow the Hugging Face parameter names, so gpt's initial values load by name."""

    def __init__(self, model, vocabulary):
        super().__init__()
        self.transformer = nn.ModuleDict({
            "wte": nn.Embedding(vocabulary, model.width),
            "wpe": nn.Embedding(model.context, model.width),
            "h": nn.ModuleList(Block(model) for _ in range(model.layers)),
            "ln_f": nn.LayerNorm(model.width, eps=model.norm_epsilon),
        })

    def forward(self, tokens, targets):
        t = self.transformer
        x = t["wte"](tokens) + t["wpe"].weight[: tokens.shape[1]]
        for block in t["h"]:
            x = block(x)
        logits = t["ln_f"](x) @ t["wte"].weight.T  # tied head
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def optimizer(model, recipe):
    named = list(model.named_parameters())
    groups = [
        {"params": [p for n, p in named if decays(n, p.shape)], "weight_decay": recipe.weight_decay},
        {"params": [p for n, p in named if not decays(n, p.shape)], "weight_decay": 0.0},
    ]
    options = dict(lr=recipe.learning_rate, betas=(recipe.beta1, recipe.beta2), eps=recipe.epsilon)
    try:
        return torch.optim.AdamW(groups, fused=True, **options), "fused AdamW"
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.AdamW(groups, **options), "AdamW (no fused CPU kernel in this torch)"


def warmup_seconds(step_seconds, skip):
    """What the first `skip` steps took beyond as many steady ones (median: robust to load spikes)."""
    return sum(step_seconds[:skip]) - skip * statistics.median(step_seconds[skip:])


def main():
    arguments = parse_arguments(__doc__, lambda p: p.add_argument("--compile", action="store_true"))
    torch.set_num_threads(arguments.threads)
    label = "torch-compile" if arguments.compile else "torch"
    common = dict(contender=label, version=f"torch {torch.__version__}",
                  threads=f"torch.set_num_threads({arguments.threads})")
    if not arguments.compile:
        result, note = run(arguments, compile_module=False)
        write_result(arguments.result, warmup_seconds=None, note=note, **common, **result)
        return
    # A cold compilation cache for every run, so that the warm-up is what compiling costs.
    with tempfile.TemporaryDirectory(prefix="peer-bench-inductor-") as cache:
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
        try:
            result, note = run(arguments, compile_module=True)
        except Exception as error:  # torch.compile fails in many types; say why in one line
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            write_result(arguments.result, failure=f"torch.compile did not work here: {reason}", **common)
            return
    warmup = warmup_seconds(result["step_seconds"], PRESETS[arguments.preset].timing_skip)
    write_result(arguments.result, warmup_seconds=warmup, note=note + ", module compiled", **common, **result)


def run(arguments, compile_module):
    """Trains the preset; returns the result fields and a note on the optimizer used."""
    setup = Setup(arguments)
    recipe = setup.recipe
    model = GPT(recipe.model, setup.corpus.vocabulary)
    model.load_state_dict({name: torch.from_numpy(value) for name, value in setup.initial.items()})
    adamw, adamw_kind = optimizer(model, recipe)
    forward = torch.compile(model) if compile_module else model

    def step(tokens, targets, learning_rate, t):
        for group in adamw.param_groups:
            group["lr"] = learning_rate
        adamw.zero_grad(set_to_none=True)
        loss = forward(torch.from_numpy(tokens), torch.from_numpy(targets).long())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe.grad_clip)
        adamw.step()
        return loss.item()

    def evaluate(tokens, targets):
        with torch.no_grad():  # the eager module: evaluation is not timed, so no second compile
            return model(torch.from_numpy(tokens), torch.from_numpy(targets).long()).item()

    label = "torch-compile" if compile_module else "torch"
    return train(setup, label, step, evaluate), adamw_kind


if __name__ == "__main__":
    main()
