"""SplitMix64 and CounterRNG.seed exactly as Sources/Compute/CounterRNG.swift computes them.

With these every contender starts from gpt train's initial weights and draws its batches, so
their first losses agree to float rounding and their curves differ only by arithmetic.
"""

import numpy as np

GOLDEN_GAMMA = 0x9E3779B97F4A7C15
MASK64 = (1 << 64) - 1


def _mix(z):
    """SplitMix64's output function; works on Python ints (masked) and on uint64 arrays (wrapping)."""
    if isinstance(z, np.ndarray):
        z = (z ^ (z >> 30)) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> 27)) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> 31)
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


class SplitMix64:
    """The generator one value at a time (batch sampling)."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + GOLDEN_GAMMA) & MASK64
        return _mix(self.state)


def splitmix64_block(seed, first, count):
    """Outputs first..first+count-1 (0-based) of SplitMix64(seed) at once: output i is
    mix(seed + (i + 1) * gamma), so a whole tensor's draws are one vector operation."""
    index = np.arange(first + 1, first + count + 1, dtype=np.uint64)
    return _mix(np.uint64(seed) + index * np.uint64(GOLDEN_GAMMA))


def normals(seed, first_draw, count):
    """`count` standard normals as SplitMix64.nextNormal gives them (Box-Muller, one normal per
    two draws, the first draw being `first_draw`), in float64."""
    bits = splitmix64_block(seed, first_draw, 2 * count)
    uniform = (bits >> np.uint64(11)).astype(np.float64) * (1.0 / 9_007_199_254_740_992.0)
    u1 = np.maximum(uniform[0::2], 1e-300)
    u2 = uniform[1::2]
    return np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)


def counter_seed(*parts):
    """CounterRNG.seed: several stream coordinates mixed into one seed."""
    state = 0x243F6A8885A308D3
    for part in parts:
        state = SplitMix64(state ^ part).next()
    return state
