"""The data as `gpt train --data FILE` sees it (Sources/GPT/TextDataset.swift, CharTokenizer.swift).

- Vocabulary: the corpus's distinct Unicode scalars sorted by code point; token id = rank.
- Split: the last ceil(10%) of the tokens are held out for validation.
- Training batches: B random windows per step from SplitMix64(CounterRNG.seed(seed, 0xDA7A)),
  start = high 64 bits of (draw * (train tokens - T)), as RandomBatches draws them.
- Evaluation: `count` batches of windows spread evenly over the validation split, the same ones
  every time.
"""

import math

import numpy as np

from rng import SplitMix64, counter_seed

BATCH_STREAM = 0xDA7A


class Corpus:
    def __init__(self, path):
        # Bytes decoded by hand: text mode would turn \r\n into \n, and gpt keeps every scalar.
        with open(path, "rb") as file:
            text = file.read().decode("utf-8")
        if not text:
            raise SystemExit(f"{path}: the file is empty")
        scalars = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        characters = np.unique(scalars)  # sorted by code point
        self.vocabulary = len(characters)
        tokens = np.searchsorted(characters, scalars).astype(np.int32)
        held_out = math.ceil(len(tokens) * 0.1)
        self.train = tokens[: len(tokens) - held_out]
        self.validation = tokens[len(tokens) - held_out:]


def windows(split, starts, length):
    """(tokens, targets), each (len(starts), length) int32: targets are the next tokens."""
    rows = np.stack([split[start: start + length + 1] for start in starts])
    return np.ascontiguousarray(rows[:, :-1]), np.ascontiguousarray(rows[:, 1:])


def training_batches(corpus, batch, length, seed):
    """The endless stream of training batches gpt train draws for `seed`."""
    generator = SplitMix64(counter_seed(seed, BATCH_STREAM))
    start_count = len(corpus.train) - length
    while True:
        starts = [(generator.next() * start_count) >> 64 for _ in range(batch)]
        yield windows(corpus.train, starts, length)


def validation_batches(corpus, batch, length, count):
    total = batch * count
    last_start = len(corpus.validation) - length - 1
    starts = [0 if total == 1 else index * last_start // (total - 1) for index in range(total)]
    return [windows(corpus.validation, starts[i * batch: (i + 1) * batch], length) for i in range(count)]
