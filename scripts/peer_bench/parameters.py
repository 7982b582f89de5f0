"""The parameter table and the initial values gpt train starts from, as NumPy arrays.

Names are Hugging Face GPT-2 names; shapes are ours (Sources/GPT/ParameterLayout.swift): every
linear weight (out, in), as torch.nn.Linear stores it. The output head is the token embedding
(tied), so it has no entry of its own.

Initial values follow Sources/GPT/ParameterInit.swift draw for draw: one SplitMix64 stream seeded
with the training seed, walked in table order; each 2-D tensor takes N(0, 0.02) normals (residual
output projections N(0, 0.02 / sqrt(2L))), each in row-major order; biases 0, norm gains 1.
"""

import numpy as np

from rng import normals


def table(model, vocabulary):
    """(name, shape) of every tensor, in Hugging Face order (the order ParameterInit draws in)."""
    c, f = model.width, model.ffn
    entries = [("transformer.wte.weight", (vocabulary, c)), ("transformer.wpe.weight", (model.context, c))]
    for layer in range(model.layers):
        p = f"transformer.h.{layer}."
        entries += [
            (p + "ln_1.weight", (c,)), (p + "ln_1.bias", (c,)),
            (p + "attn.c_attn.weight", (3 * c, c)), (p + "attn.c_attn.bias", (3 * c,)),
            (p + "attn.c_proj.weight", (c, c)), (p + "attn.c_proj.bias", (c,)),
            (p + "ln_2.weight", (c,)), (p + "ln_2.bias", (c,)),
            (p + "mlp.c_fc.weight", (f, c)), (p + "mlp.c_fc.bias", (f,)),
            (p + "mlp.c_proj.weight", (c, f)), (p + "mlp.c_proj.bias", (c,)),
        ]
    entries += [("transformer.ln_f.weight", (c,)), ("transformer.ln_f.bias", (c,))]
    return entries


def decays(name, shape):
    """AdamW decays the 2-D tensors only (the layout's weightDecay flag): both embeddings and every
    linear weight, never a bias or a norm gain."""
    return len(shape) == 2


def is_residual_projection(name):
    """The projections that write into the residual stream: attention out and FFN down."""
    return name.endswith("attn.c_proj.weight") or name.endswith("mlp.c_proj.weight")


def initial_values(model, vocabulary, seed):
    """name -> float32 array, equal to gpt train's initial parameters for `seed`."""
    residual_std = 0.02 / np.sqrt(2.0 * model.layers)
    values, draw = {}, 0
    for name, shape in table(model, vocabulary):
        count = int(np.prod(shape))
        if len(shape) == 2:
            std = residual_std if is_residual_projection(name) else 0.02
            values[name] = (normals(seed, draw, count) * std).astype(np.float32).reshape(shape)
            draw += 2 * count
        elif name.endswith(".weight"):
            values[name] = np.ones(shape, np.float32)
        else:
            values[name] = np.zeros(shape, np.float32)
    return values


def count(model, vocabulary):
    return sum(int(np.prod(shape)) for _, shape in table(model, vocabulary))
