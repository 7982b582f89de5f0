"""The model shapes and training recipe every contender runs, as `gpt train` defines them.

Each value here mirrors a default or preset of the Swift code, named beside it, so that a change
there has one obvious place to follow here:
- model shapes: Sources/GPT/ModelConfig.swift presets (char-baby, shakespeare-char);
- recipe: Sources/GPT/RunConfig.swift TrainingSettings defaults (AdamW 0.9/0.99, eps 1e-8, weight
  decay 0.1, warmup 100, clip 1.0, seed 1337, 20 evaluation batches);
- schedule: Sources/GPT/LearningRateSchedule.swift.
Dropout is 0 for every preset here (the issue's acceptance command passes --dropout 0).
"""

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Model:
    """A pre-norm GPT-2 block stack: LayerNorm with biases, GELU (tanh form), learned positions,
    output head tied to the token embedding, biases on every linear layer."""
    context: int  # T
    layers: int  # L
    heads: int  # NH
    width: int  # C
    ffn: int  # F
    norm_epsilon: float = 1e-5

    @property
    def head_size(self):
        return self.width // self.heads


@dataclass(frozen=True)
class Recipe:
    model: Model
    steps: int
    batch: int  # B
    learning_rate: float
    warmup: int = 100
    beta1: float = 0.9
    beta2: float = 0.99
    epsilon: float = 1e-8
    weight_decay: float = 0.1  # on 2-D weights only: embeddings, positions, every linear weight
    grad_clip: float = 1.0
    seed: int = 1337
    eval_batches: int = 20
    # Steps left out of tok/s at the start: allocation, first-touch page faults, caches warming.
    timing_skip: int = 10

    @property
    def min_learning_rate(self):
        return self.learning_rate / 10

    @property
    def tokens_per_step(self):
        return self.batch * self.model.context

    def learning_rate_at(self, step):
        """The rate of 0-based `step`: linear warmup, then cosine down to lr/10 at `steps`."""
        if step < self.warmup:
            return self.learning_rate * (step + 1) / self.warmup
        if step >= self.steps:
            return self.min_learning_rate
        progress = (step - self.warmup) / max(1, self.steps - self.warmup)
        cosine = 0.5 * (1 + math.cos(math.pi * progress))
        return self.min_learning_rate + cosine * (self.learning_rate - self.min_learning_rate)


CHAR_BABY = Model(context=64, layers=4, heads=4, width=128, ffn=512)
SHAKESPEARE_CHAR = Model(context=256, layers=6, heads=6, width=384, ffn=1536)

# The preset name of each model for `gpt train --config`.
GPT_CONFIG_NAMES = {CHAR_BABY: "char-baby", SHAKESPEARE_CHAR: "shakespeare-char"}

PRESETS = {
    "char-baby": Recipe(CHAR_BABY, steps=2000, batch=12, learning_rate=1e-3),
    "char-baby-short": Recipe(CHAR_BABY, steps=200, batch=12, learning_rate=1e-3),
    # A few steps for throughput only: the loss after them says nothing about the recipe, but its
    # agreement across contenders is still a check that they compute the same thing.
    "shakespeare-char": Recipe(SHAKESPEARE_CHAR, steps=6, batch=64, learning_rate=1e-3,
                               eval_batches=1, timing_skip=1),
}

DEFAULT_ROUNDS = {"char-baby": 1, "char-baby-short": 2, "shakespeare-char": 2}
