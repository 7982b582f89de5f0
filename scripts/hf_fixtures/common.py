"""What the tokenizer and model fixture makers share: deterministic JSON writing, the test inputs
(corpus paragraphs, special-token strings, edge cases, seeded random Unicode) and the versions
every manifest line names."""

import json
import os
import random
import unicodedata

import tokenizers
import torch
import transformers

VERSIONS = {
    "tokenizers": tokenizers.__version__,
    "transformers": transformers.__version__,
    "torch": torch.__version__,
}


def write_json(path, value):
    """Sorted keys, two-space indent, UTF-8 as is: a stable diff when a fixture is regenerated."""
    with open(path, "w", encoding="utf-8", newline="\n") as file:
        json.dump(value, file, ensure_ascii=False, indent=2, sort_keys=True)
        file.write("\n")


def write_cases(path, header, cases):
    """One case per line (a list of {"text", "ids", "decoded"}), so a changed id shows as one line."""
    with open(path, "w", encoding="utf-8", newline="\n") as file:
        file.write("{\n")
        for key in sorted(header):
            file.write(f"  {json.dumps(key)}: {json.dumps(header[key], ensure_ascii=False, sort_keys=True)},\n")
        file.write('  "cases": [\n')
        lines = [json.dumps(case, ensure_ascii=False, sort_keys=True) for case in cases]
        file.write(",\n".join("    " + line for line in lines))
        file.write("\n  ]\n}\n")


def read_corpus(fixtures):
    with open(os.path.join(fixtures, "corpus.txt"), encoding="utf-8", newline="") as file:
        return file.read()


# Pieces real text is made of, and the places where tokenizers disagree when done wrong: contractions
# in every case (and the long s, which case-folds to s), whitespace of every kind, CR/LF runs,
# combining marks, digits of other scripts, emoji sequences, the SentencePiece meta symbol itself,
# byte-fallback lookalikes, and every special token used by any fixture tokenizer.
POOL = [
    "a", "b", "e", "t", "Q", "Z", "the", " the", "The", "hello", " world", " ", " ", "  ", "   ", "\n", "\n\n",
    "\r\n", "\r", "\t", " \t", "\t\n", "0", "7", "42", "1234", "12345", " 3", "'s", "'S", "'t", "'re", "'RE",
    "'Ve", "'m", "'ll", "'LL", "'d", "'D", "'ſ", "'x", "'", "’s", "!", "?", ".", ",", "--", "\"", "(", ")", "...",
    "é", "e\u0301", "ñ", "ü", "Å", "ß", "ſ", "K", "日本", "語", "中文", "한국어", "😀", "👍🏽", "👩‍👩‍👧", "🇫🇷",
    "\u0300", "\u20dd", "\u0663", "Ⅻ", "½", "²", "\u00a0", "\u3000", "\u2028", "\u2029", "\u0085", "\u200b",
    "\ufeff", "\u000b", "\u000c", "\u001f", "Ω", "ǅ", "ʰ", "ﬁ", "▁", "▁▁", "<0x41>", "<unk>", "<s>", "</s>",
    "<|endoftext|>", "<|begin_of_text|>", "<|eot_id|>", "<|end_of_text|>", "<|start_header_id|>", "<|endof",
]

# Blocks of long-assigned characters (Python 3.11 knows Unicode 14; the Swift runtime and the
# regex engine in `tokenizers` know newer versions, which agree on these): random code points drawn
# from here are classified the same by all three.
RANGES = [
    (0x20, 0x7E), (0xA0, 0x24F), (0x250, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x5FF),
    (0x600, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF), (0x1E00, 0x1EFF), (0x2000, 0x206F),
    (0x2070, 0x209F), (0x20A0, 0x20BF), (0x2100, 0x214F), (0x2150, 0x218F), (0x2190, 0x22FF),
    (0x2460, 0x24FF), (0x2500, 0x257F), (0x3000, 0x303F), (0x3040, 0x30FF), (0x4E00, 0x4FFF),
    (0xAC00, 0xAD00), (0xFB00, 0xFB4F), (0xFF00, 0xFFEF), (0x1D400, 0x1D7FF), (0x1F300, 0x1F64F),
    (0x10000, 0x1007F), (0xE000, 0xE0FF),
]


def random_code_point(rng):
    while True:
        low, high = rng.choice(RANGES)
        character = chr(rng.randint(low, high))
        if unicodedata.category(character) not in ("Cn", "Cs"):
            return character


def random_strings(count, seed, max_pieces=24):
    """`count` strings, each up to `max_pieces` pool entries and random characters, from `seed`."""
    rng = random.Random(seed)
    strings = []
    for _ in range(count):
        pieces = []
        for _ in range(rng.randrange(max_pieces)):
            pieces.append(rng.choice(POOL) if rng.random() < 0.6 else random_code_point(rng))
        strings.append("".join(pieces))
    return strings


EDGE_CASES = [
    "", " ", "  ", "\n", "\r\n", "a", " a", "a ", "▁", "▁▁a", " leading space", "trailing space ", "two  spaces",
    "'S 'ſ ſ K", "1234567890", "12 345 6789", "x1y22z333w4444", "<s>", "<s><s>", "</s>", "<s>Hello</s>",
    " <s> x", "Hello<s>world", "<unk>", "<0x41><0x0A>", "<|endoftext|>", "a<|endoftext|>b", "<|endoftext|> a",
    "<|begin_of_text|>Hi<|eot_id|>", "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", "<|endof",
    "\t\tindented\n\n\n  three blank lines\r\n\r\n", "!!!\n\nfoo", "   \n   ", "x\u00a0\u00a0y", "e\u0301\u0301",
]


def test_inputs(corpus, seed):
    """Edge cases, the corpus by paragraph and whole, and 300 random strings."""
    paragraphs = [paragraph for paragraph in corpus.split("\n\n") if paragraph]
    return EDGE_CASES + paragraphs + [corpus] + random_strings(300, seed)
