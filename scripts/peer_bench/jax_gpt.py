"""The JAX contender: the model, its loss and one whole optimizer step under jax.jit.

The step (forward, backward, global-norm clipping, AdamW) is one compiled XLA program, compiled
ahead of time (lower().compile()) so that compilation is timed apart from training; parameters
and moments are donated, so XLA updates them in place. AdamW is written out rather than taken
from optax, to show it is gpt's: decoupled decay lr * wd * p on 2-D tensors only, eps added to
sqrt(v-hat).

Threads: XLA has no flag that reliably bounds its CPU thread pool; it sizes the pool from the
process's CPU affinity, which the driver sets to the cores every contender gets.
"""

import time
from importlib.metadata import version

import jax
import jax.numpy as jnp

from contender import Setup, parse_arguments, train, write_result
from parameters import decays


def layer_norm(x, weight, bias, epsilon):
    mean = x.mean(-1, keepdims=True)
    variance = jnp.square(x - mean).mean(-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(variance + epsilon) * weight + bias


def linear(x, params, name):
    return x @ params[name + ".weight"].T + params[name + ".bias"]


def logits(params, tokens, model):
    batch, length = tokens.shape
    c, heads = model.width, model.heads
    x = params["transformer.wte.weight"][tokens] + params["transformer.wpe.weight"][:length]
    for layer in range(model.layers):
        p = f"transformer.h.{layer}."
        normed = layer_norm(x, params[p + "ln_1.weight"], params[p + "ln_1.bias"], model.norm_epsilon)
        q, k, v = jnp.split(linear(normed, params, p + "attn.c_attn"), 3, axis=-1)
        shape = (batch, length, heads, model.head_size)  # the (B, T, N, H) layout JAX's attention takes
        attended = jax.nn.dot_product_attention(q.reshape(shape), k.reshape(shape), v.reshape(shape),
                                                is_causal=True)
        x = x + linear(attended.reshape(batch, length, c), params, p + "attn.c_proj")
        normed = layer_norm(x, params[p + "ln_2.weight"], params[p + "ln_2.bias"], model.norm_epsilon)
        hidden = jax.nn.gelu(linear(normed, params, p + "mlp.c_fc"), approximate=True)
        x = x + linear(hidden, params, p + "mlp.c_proj")
    x = layer_norm(x, params["transformer.ln_f.weight"], params["transformer.ln_f.bias"], model.norm_epsilon)
    return x @ params["transformer.wte.weight"].T  # tied head


def mean_loss(params, tokens, targets, model):
    log_probabilities = jax.nn.log_softmax(logits(params, tokens, model))
    picked = jnp.take_along_axis(log_probabilities, targets[..., None], axis=-1)
    return -picked.mean()


def make_step(recipe):
    model = recipe.model

    def step(params, moments, tokens, targets, learning_rate, t):
        loss, grads = jax.value_and_grad(mean_loss)(params, tokens, targets, model)
        norm = jnp.sqrt(sum(jnp.sum(jnp.square(g)) for g in jax.tree_util.tree_leaves(grads)))
        scale = jnp.where(norm > recipe.grad_clip, recipe.grad_clip / norm, 1.0)
        first, second = moments
        correction1 = 1 - recipe.beta1 ** t
        correction2 = 1 - recipe.beta2 ** t
        new_params, new_first, new_second = {}, {}, {}
        for name, p in params.items():
            g = grads[name] * scale
            m = recipe.beta1 * first[name] + (1 - recipe.beta1) * g
            v = recipe.beta2 * second[name] + (1 - recipe.beta2) * g * g
            update = (m / correction1) / (jnp.sqrt(v / correction2) + recipe.epsilon)
            decay = recipe.weight_decay if decays(name, p.shape) else 0.0
            new_params[name] = p - learning_rate * (update + decay * p)
            new_first[name], new_second[name] = m, v
        return new_params, (new_first, new_second), loss

    return jax.jit(step, donate_argnums=(0, 1))


def main():
    arguments = parse_arguments(__doc__)
    setup = Setup(arguments)
    recipe = setup.recipe
    params = {name: jnp.asarray(value) for name, value in setup.initial.items()}
    zeros = {name: jnp.zeros_like(value) for name, value in params.items()}
    moments = (zeros, {name: jnp.zeros_like(value) for name, value in params.items()})
    example = jnp.zeros((recipe.batch, recipe.model.context), jnp.int32)
    scalar = jnp.float32(0)

    compile_start = time.perf_counter()
    compiled_step = make_step(recipe).lower(params, moments, example, example, scalar, scalar).compile()
    evaluate_loss = jax.jit(mean_loss, static_argnums=3).lower(params, example, example, recipe.model).compile()
    compile_seconds = time.perf_counter() - compile_start

    state = {"params": params, "moments": moments}

    def step(tokens, targets, learning_rate, t):
        state["params"], state["moments"], loss = compiled_step(
            state["params"], state["moments"], tokens, targets, jnp.float32(learning_rate), jnp.float32(t))
        return float(loss)

    def evaluate(tokens, targets):
        return float(evaluate_loss(state["params"], tokens, targets))

    result = train(setup, "jax", step, evaluate)
    write_result(arguments.result, contender="jax", version=f"jax {jax.__version__}, jaxlib {version('jaxlib')}",
                 threads=f"CPU affinity {arguments.threads} cores", warmup_seconds=compile_seconds,
                 note=f"backend {jax.default_backend()}", **result)


if __name__ == "__main__":
    main()
