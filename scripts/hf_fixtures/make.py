"""Regenerates Tests/Fixtures/HuggingFace (all but corpus.txt, its input) and its manifest.json.
Run by scripts/make-hf-fixtures inside its pinned virtual environment."""

import argparse
import os
import sys

import torch

from common import VERSIONS, write_json
from tokenizer_fixtures import make_tokenizer_fixtures

SEED = 1234


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("fixtures", help="the fixture folder (Tests/Fixtures/HuggingFace)")
    parser.add_argument("--only", choices=["tokenizers", "models"], help="regenerate one half")
    arguments = parser.parse_args()
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    manifest_path = os.path.join(arguments.fixtures, "manifest.json")
    manifest = {"versions": VERSIONS, "seed": SEED, "python": sys.version.split()[0]}
    if arguments.only != "models":
        manifest["tokenizers"] = make_tokenizer_fixtures(arguments.fixtures, SEED)
    if arguments.only != "tokenizers":
        from model_fixtures import make_model_fixtures
        manifest["models"] = make_model_fixtures(arguments.fixtures, SEED)
    if arguments.only and os.path.exists(manifest_path):
        import json
        kept = json.load(open(manifest_path, encoding="utf-8"))
        kept.update(manifest)
        manifest = kept
    write_json(manifest_path, manifest)


if __name__ == "__main__":
    main()
