"""transformers' oracle for any checkpoint directory, in the model fixtures' format: loads DIR with
AutoModelForCausalLM.from_pretrained (float32) and AutoTokenizer, refuses a load that misses or
ignores any tensor, and writes DIR/expected.json (the prompt, its input_ids, the greedy
continuation) and DIR/expected-logits.safetensors (the prompt's logits). Used by hand to check
that a checkpoint `gpt train --init-from` wrote is one transformers loads and agrees with:

    .cache/hf-fixtures/venv/bin/python scripts/hf_fixtures/oracle.py DIR...
    GPT_HF_EXTRA_CHECKPOINTS=DIR:DIR swift test --skip-build --filter HuggingFaceImportTests

Not run in CI (it needs the fixtures' virtual environment, see scripts/make-hf-fixtures)."""

import json
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

from common import VERSIONS, write_json
from model_fixtures import NEW_TOKENS, PROMPT


def oracle(directory):
    model, info = AutoModelForCausalLM.from_pretrained(directory, dtype=torch.float32, output_loading_info=True)
    problems = {key: value for key, value in info.items() if value}
    if problems:
        raise SystemExit(f"{directory}: from_pretrained did not load every tensor exactly: {problems}")
    model.eval()
    tokenizer = AutoTokenizer.from_pretrained(directory)
    input_ids = tokenizer(PROMPT)["input_ids"]
    generation = model.generation_config  # from the directory's generation_config.json, as generate() uses it
    with torch.no_grad():
        logits = model(torch.tensor([input_ids])).logits[0].contiguous()
        output = model.generate(torch.tensor([input_ids]), attention_mask=torch.ones(1, len(input_ids), dtype=torch.long),
                                max_new_tokens=NEW_TOKENS, do_sample=False)[0].tolist()
    save_file({"logits": logits}, os.path.join(directory, "expected-logits.safetensors"))
    write_json(os.path.join(directory, "expected.json"), {
        "description": f"transformers' oracle for {os.path.basename(os.path.normpath(directory))}",
        "prompt": PROMPT,
        "input_ids": input_ids,
        "logits": {"file": "expected-logits.safetensors", "tensor": "logits", "shape": list(logits.shape),
                   "largest_magnitude": logits.abs().max().item()},
        "greedy": {"max_new_tokens": NEW_TOKENS, "ids": output, "new_ids": output[len(input_ids):],
                   "eos_token_id": generation.eos_token_id},
        "loaded_as": type(model).__name__,
        "versions": VERSIONS,
    })
    return type(model).__name__, len(input_ids), output[len(input_ids):]


def main():
    if len(sys.argv) < 2:
        raise SystemExit("usage: oracle.py CHECKPOINT_DIR...")
    for directory in sys.argv[1:]:
        name, prompt_length, new_ids = oracle(directory)
        print(f"{directory}: {name}, every tensor loaded; {prompt_length} prompt ids, greedy {json.dumps(new_ids)}")


if __name__ == "__main__":
    main()
