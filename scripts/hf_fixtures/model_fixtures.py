"""Model fixtures: tiny random GPT2LMHeadModel and LlamaForCausalLM checkpoints written by
transformers' save_pretrained, each with a tokenizer fixture copied beside it, transformers' logits
for a fixed prompt (expected-logits.safetensors) and its greedy continuation (expected.json).

Weights are drawn wider than transformers' own init (std 0.5 for embeddings and the output head,
1/sqrt(fan_in) elsewhere, norm gains near 1) so that logits spread out and every greedy step wins
by a clear margin, which expected.json records. The oracle is computed after a save/load round
trip, in float32 from the stored (possibly f16/bf16) weights: what a float32 implementation that
upcasts on load must reproduce."""

import json
import math
import os
import shutil

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

from common import VERSIONS, write_json

PROMPT = "ROMEO:\nBut soft, what light"
NEW_TOKENS = 16
TOKENIZER_FILES = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]

MODELS = [
    {"name": "gpt2-tied-f32", "tokenizer": "gpt2-byte-level", "dtype": torch.float32,
     "class": GPT2LMHeadModel, "config": GPT2Config,
     "fields": {"n_positions": 64, "n_embd": 32, "n_layer": 2, "n_head": 4, "activation_function": "gelu_new",
                "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True},
     "what": "GPT2LMHeadModel, tied embeddings, gelu_new, n_inner unset (4 * n_embd), float32"},
    {"name": "gpt2-untied-f16", "tokenizer": "gpt2-byte-level", "dtype": torch.float16,
     "class": GPT2LMHeadModel, "config": GPT2Config,
     "fields": {"n_positions": 64, "n_embd": 32, "n_layer": 2, "n_head": 2, "n_inner": 48,
                "activation_function": "gelu_pytorch_tanh", "layer_norm_epsilon": 1e-6, "tie_word_embeddings": False},
     "what": "GPT2LMHeadModel, untied lm_head, gelu_pytorch_tanh, n_inner 48, float16"},
    {"name": "llama-tied-f32", "tokenizer": "llama-metaspace", "dtype": torch.float32,
     "class": LlamaForCausalLM, "config": LlamaConfig,
     "fields": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                "num_key_value_heads": 4, "max_position_embeddings": 64, "rms_norm_eps": 1e-6,
                "rope_theta": 10000.0, "tie_word_embeddings": True},
     "what": "LlamaForCausalLM, multi-head attention (4 KV heads), tied embeddings, float32"},
    {"name": "llama-gqa-bf16", "tokenizer": "llama3-byte-level", "dtype": torch.bfloat16,
     "class": LlamaForCausalLM, "config": LlamaConfig,
     "fields": {"hidden_size": 32, "intermediate_size": 80, "num_hidden_layers": 2, "num_attention_heads": 4,
                "num_key_value_heads": 2, "max_position_embeddings": 64, "rms_norm_eps": 1e-5,
                "rope_theta": 500000.0, "tie_word_embeddings": False},
     "what": "LlamaForCausalLM, grouped-query attention (4 heads, 2 KV heads), untied, rope_theta 5e5, bfloat16"},
    {"name": "llama-mqa-bias-sharded", "tokenizer": "llama2-legacy", "dtype": torch.float32, "shard": "64KB",
     "class": LlamaForCausalLM, "config": LlamaConfig,
     "fields": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
                "num_key_value_heads": 1, "head_dim": 16, "attention_bias": True, "mlp_bias": True,
                "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
                "tie_word_embeddings": False},
     "what": "LlamaForCausalLM, multi-query attention (1 KV head), head_dim 16 != hidden/heads, attention and MLP "
             "biases, untied, float32, sharded with model.safetensors.index.json"},
]


def spread_init(model, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in sorted(model.named_parameters()):
            noise = torch.randn(parameter.shape, generator=generator)
            if parameter.dim() == 1:
                is_gain = name.endswith("weight")  # LayerNorm / RMSNorm gains; the rest are biases
                parameter.copy_(1 + 0.1 * noise if is_gain else 0.1 * noise)
            elif "wte" in name or "wpe" in name or "embed_tokens" in name or "lm_head" in name:
                parameter.copy_(0.5 * noise)
            else:
                fan_in = parameter.shape[0] if "transformer.h." in name else parameter.shape[1]  # Conv1D is (in, out)
                parameter.copy_(2 * noise / math.sqrt(fan_in))


def tensor_table(directory):
    """name -> [dtype, shape, file] for every tensor in the checkpoint's safetensors files."""
    table = {}
    for file in sorted(f for f in os.listdir(directory) if f.startswith("model") and f.endswith(".safetensors")):
        with safe_open(os.path.join(directory, file), "pt") as handle:
            for name in handle.keys():
                tensor_slice = handle.get_slice(name)
                table[name] = [tensor_slice.get_dtype(), list(tensor_slice.get_shape()), file]
    return table


def greedy_margins(model, sequence, prompt_length):
    """For each generated position: the generated id must be the argmax of the full forward's
    logits, and how far it leads the runner-up."""
    with torch.no_grad():
        logits = model(torch.tensor([sequence])).logits[0]
    margins = []
    for position in range(prompt_length - 1, len(sequence) - 1):
        top = torch.topk(logits[position], 2)
        if top.indices[0].item() != sequence[position + 1]:
            raise SystemExit(f"greedy token at {position + 1} is not the argmax of the full forward")
        margins.append((top.values[0] - top.values[1]).item())
    return margins


def make_model(spec, fixtures, seed):
    directory = os.path.join(fixtures, "models", spec["name"])
    tokenizer_directory = os.path.join(fixtures, "tokenizers", spec["tokenizer"])
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_directory)
    generation = json.load(open(os.path.join(tokenizer_directory, "generation_config.json"), encoding="utf-8"))
    fields = dict(spec["fields"], vocab_size=len(tokenizer), bos_token_id=generation["bos_token_id"],
                  eos_token_id=generation["eos_token_id"])
    torch.manual_seed(seed)
    model = spec["class"](spec["config"](**fields)).eval()
    spread_init(model, seed)
    model.to(spec["dtype"]).save_pretrained(directory, **({"max_shard_size": spec["shard"]} if "shard" in spec else {}))
    for file in TOKENIZER_FILES:
        if os.path.exists(os.path.join(tokenizer_directory, file)):
            shutil.copy(os.path.join(tokenizer_directory, file), directory)

    reloaded = spec["class"].from_pretrained(directory, dtype=torch.float32).eval()
    input_ids = tokenizer(PROMPT)["input_ids"]
    with torch.no_grad():
        logits = reloaded(torch.tensor([input_ids])).logits[0].contiguous()
        logits64 = reloaded.to(torch.float64)(torch.tensor([input_ids])).logits[0]
        reloaded.to(torch.float32)
        output = reloaded.generate(torch.tensor([input_ids]), attention_mask=torch.ones(1, len(input_ids), dtype=torch.long),
                                   max_new_tokens=NEW_TOKENS, do_sample=False)[0].tolist()
    save_file({"logits": logits}, os.path.join(directory, "expected-logits.safetensors"),
              metadata={"input_ids": json.dumps(input_ids)})
    margins = greedy_margins(reloaded, output, len(input_ids))
    largest = logits.abs().max().item()
    difference = (logits.double() - logits64).abs().max().item()
    expected = {
        "description": spec["what"],
        "prompt": PROMPT,
        "input_ids": input_ids,
        "logits": {"file": "expected-logits.safetensors", "tensor": "logits", "shape": list(logits.shape),
                   "computed": "transformers in float32 from the stored weights upcast to float32",
                   "largest_magnitude": largest, "float64_max_abs_difference": difference},
        "greedy": {"max_new_tokens": NEW_TOKENS, "ids": output, "new_ids": output[len(input_ids):],
                   "eos_token_id": generation["eos_token_id"], "smallest_margin": min(margins),
                   "computed": "generate(do_sample=False) on the float32 model, KV cache on"},
        "suggested_tolerance": "logits: |ours - expected| <= 1e-4 * max|expected| (float64 shows float32 noise of "
                               f"{difference / largest:.1e} of the largest logit); greedy ids exactly",
        "tensors": tensor_table(directory),
        "versions": VERSIONS,
        "seed": seed,
    }
    write_json(os.path.join(directory, "expected.json"), expected)
    return {"description": spec["what"], "tokenizer": spec["tokenizer"], "dtype": str(spec["dtype"]).replace("torch.", ""),
            "files": sorted(os.listdir(directory)), "smallest_greedy_margin": min(margins)}


def make_model_fixtures(fixtures, seed):
    shutil.rmtree(os.path.join(fixtures, "models"), ignore_errors=True)
    return {spec["name"]: make_model(spec, fixtures, seed + index) for index, spec in enumerate(MODELS)}
