"""Tokenizer fixtures: one directory per kind, each trained by the `tokenizers` library on the
committed corpus and saved the way the Hub's files are (tokenizer.json, and where the kind has them
tokenizer_config.json, special_tokens_map.json, generation_config.json), with cases.json: every
test input, the ids `tokenizers` gives for it (special tokens added as the post-processor says)
and what it decodes them to. Where a directory has a tokenizer_config.json, transformers'
AutoTokenizer is checked to give the same ids."""

import json
import os
import shutil
from collections import Counter

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers
from tokenizers import processors, trainers
from transformers import AutoTokenizer, GenerationConfig, GPT2Tokenizer, LlamaTokenizer
from transformers import PreTrainedTokenizerFast

from common import VERSIONS, read_corpus, test_inputs, write_cases, write_json

LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
LLAMA3_SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                   "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
SENTENCEPIECE_SPECIALS = ["<unk>", "<s>", "</s>"]


def model_json(tokenizer):
    return json.loads(tokenizer.to_str())["model"]


# MARK: - Training


def train_byte_level(corpus, vocab_size, pre_tokenizer, special_tokens):
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizer
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=special_tokens,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator([corpus], trainer)
    return tokenizer


def common_characters_only(corpus, count):
    """The corpus without its rarer characters (those past the `count` most frequent, ties by code
    point), so the vocabulary lacks them and byte fallback has work to do. The trainer's own
    limit_alphabet breaks frequency ties differently from run to run."""
    frequency = Counter(corpus)
    keep = {character for character, _ in sorted(frequency.items(), key=lambda item: (-item[1], item[0]))[:count]}
    return "".join(character for character in corpus if character in keep)


def train_sentencepiece(corpus, vocab_size, split_words):
    """A Llama-style vocabulary: <unk> <s> </s>, the 256 byte-fallback tokens <0x00>...<0xFF>, then
    the trained pieces. With `split_words` training sees words ("▁word", as SentencePiece does);
    without, whole lines, so merges may cross word boundaries."""
    tokenizer = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    if split_words:
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    else:
        tokenizer.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=2, special_tokens=SENTENCEPIECE_SPECIALS,
                                  show_progress=False)
    text = common_characters_only(corpus, 120)
    tokenizer.train_from_iterator(text.split("\n") if not split_words else [text], trainer)
    trained = model_json(tokenizer)
    names = SENTENCEPIECE_SPECIALS + [f"<0x{byte:02X}>" for byte in range(256)]
    rest = [token for token, _ in sorted(trained["vocab"].items(), key=lambda item: item[1]) if token not in names]
    vocab = {token: index for index, token in enumerate(names + rest)}
    return vocab, [tuple(pair) for pair in trained["merges"]]


def sentencepiece_tokenizer(vocab, merges, normalizer, pre_tokenizer, decoder, post_processor):
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True,
                                     fuse_unk=True))
    tokenizer.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in SENTENCEPIECE_SPECIALS])
    tokenizer.normalizer = normalizer
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoder
    tokenizer.post_processor = post_processor
    return tokenizer


def sentencepiece_decoder(strip):
    steps = [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()]
    return decoders.Sequence(steps + ([decoders.Strip(content=" ", left=1)] if strip else []))


# MARK: - The fixture directories


def gpt2_byte_level(corpus, directory):
    """GPT-2: ByteLevel pre-tokenizer and decoder, <|endoftext|>; saved by transformers' GPT2Tokenizer."""
    trained = train_byte_level(corpus, 512, pre_tokenizers.ByteLevel(add_prefix_space=False), ["<|endoftext|>"])
    trained_model = model_json(trained)
    tokenizer = GPT2Tokenizer(vocab=trained_model["vocab"], merges=[tuple(pair) for pair in trained_model["merges"]])
    tokenizer.save_pretrained(directory)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    GenerationConfig(bos_token_id=eos, eos_token_id=eos).save_pretrained(directory)
    return "GPT-2 byte-level BPE (GPT2Tokenizer.save_pretrained), <|endoftext|> as BOS/EOS, no BOS added"


def gpt2_prefix_space(corpus, directory, gpt2_directory):
    """The GPT-2 vocabulary with ByteLevel add_prefix_space: true (every text segment gets a space)."""
    tokenizer = Tokenizer.from_file(os.path.join(gpt2_directory, "tokenizer.json"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tokenizer.post_processor = None
    tokenizer.save(os.path.join(directory, "tokenizer.json"))
    return "GPT-2 vocabulary, ByteLevel add_prefix_space true, no post-processor (tokenizers only)"


def smollm_digits(corpus, directory):
    """SmolLM's layout: Digits(individual_digits) before GPT-2's ByteLevel, so every digit is a piece;
    <|endoftext|>, <|im_start|>, <|im_end|> first. Saved as the generic fast tokenizer (the file's
    pipeline as is, as SmolLM's tokenizer.json is read by tokenizers)."""
    pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                             pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)])
    tokenizer = train_byte_level(corpus, 520, pre_tokenizer, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    tokenizer.decoder = decoders.ByteLevel()
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<|endoftext|>", eos_token="<|endoftext|>")
    fast.save_pretrained(directory)
    GenerationConfig(bos_token_id=0, eos_token_id=0).save_pretrained(directory)
    return "SmolLM-style byte-level BPE: Digits(individual_digits) then GPT-2's ByteLevel"


def llama3_byte_level(corpus, directory):
    """Llama 3: Split(the Llama 3 pattern, isolated) then ByteLevel without its regex, ignore_merges,
    special tokens after the vocabulary, <|begin_of_text|> added by TemplateProcessing."""
    split = pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False)
    pre_tokenizer = pre_tokenizers.Sequence([split, pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    trained = model_json(train_byte_level(corpus, 700, pre_tokenizer, []))
    tokenizer = Tokenizer(models.BPE(vocab=trained["vocab"], merges=[tuple(pair) for pair in trained["merges"]],
                                     ignore_merges=True))
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([AddedToken(token, special=True, normalized=False) for token in LLAMA3_SPECIALS])
    bos = tokenizer.token_to_id("<|begin_of_text|>")
    template = processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                                             special_tokens=[("<|begin_of_text|>", bos)])
    tokenizer.post_processor = processors.Sequence([processors.ByteLevel(trim_offsets=False), template])
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<|begin_of_text|>", eos_token="<|eot_id|>")
    fast.save_pretrained(directory)
    eos = [tokenizer.token_to_id("<|end_of_text|>"), tokenizer.token_to_id("<|eot_id|>")]
    GenerationConfig(bos_token_id=bos, eos_token_id=eos).save_pretrained(directory)
    return "Llama 3 byte-level BPE: Split(Llama 3 regex) + ByteLevel, ignore_merges, BOS by TemplateProcessing"


def llama2_legacy(corpus, directory):
    """TinyLlama / Llama 2 as older converters wrote them: normalizer Prepend("▁") + Replace(" ", "▁"),
    no pre-tokenizer (merges may cross words), byte fallback, BOS by add_bos_token."""
    vocab, merges = train_sentencepiece(corpus, 700, split_words=False)
    normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tokenizer = sentencepiece_tokenizer(vocab, merges, normalizer, None, sentencepiece_decoder(strip=True), None)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                   add_bos_token=True, add_eos_token=False)
    fast.save_pretrained(directory)
    # transformers 5 keeps add_bos_token / add_eos_token out of the file; Hub checkpoints made with
    # transformers 4 (TinyLlama's, say) carry them, and transformers 5 still obeys them on load.
    config_path = os.path.join(directory, "tokenizer_config.json")
    config = json.load(open(config_path, encoding="utf-8"))
    config.update({"add_bos_token": True, "add_eos_token": False, "legacy": True})
    write_json(config_path, config)
    # The layout transformers 4 wrote beside tokenizer_config.json, which Hub checkpoints still carry.
    added = {"lstrip": False, "normalized": False, "rstrip": False, "single_word": False}
    write_json(os.path.join(directory, "special_tokens_map.json"),
               {name: dict(added, content=content) for name, content in
                [("bos_token", "<s>"), ("eos_token", "</s>"), ("unk_token", "<unk>")]})
    GenerationConfig(bos_token_id=1, eos_token_id=2).save_pretrained(directory)
    return "Llama 2 legacy SentencePiece-style BPE: Prepend+Replace normalizer, byte fallback, add_bos_token"


def llama_metaspace(corpus, directory):
    """What transformers 5 writes for Llama 2 / Mistral-like models: LlamaTokenizer (Metaspace
    prepend_scheme first, split false; Replace/ByteFallback/Fuse/Strip decoder; add_bos_token)."""
    vocab, merges = train_sentencepiece(corpus, 700, split_words=True)
    tokenizer = LlamaTokenizer(vocab=vocab, merges=merges, add_bos_token=True, add_eos_token=False)
    tokenizer.save_pretrained(directory)
    GenerationConfig(bos_token_id=1, eos_token_id=2).save_pretrained(directory)
    return "SentencePiece-style BPE as transformers' LlamaTokenizer writes it: Metaspace (first), byte fallback"


def metaspace_variant(directory, source, prepend_scheme, split, decoder, post_processor):
    """The llama-metaspace vocabulary with another Metaspace configuration (tokenizers only)."""
    base = json.load(open(os.path.join(source, "tokenizer.json"), encoding="utf-8"))["model"]
    tokenizer = sentencepiece_tokenizer(base["vocab"], [tuple(pair) for pair in base["merges"]], None,
                                        pre_tokenizers.Metaspace(replacement="▁", prepend_scheme=prepend_scheme, split=split),
                                        decoder, post_processor)
    tokenizer.save(os.path.join(directory, "tokenizer.json"))


def metaspace_always_split(corpus, directory, source):
    decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    metaspace_variant(directory, source, "always", True, decoder, None)
    return "llama-metaspace vocabulary, Metaspace always + split, Metaspace decoder, no post-processor"


def metaspace_never_eos(corpus, directory, source):
    template = processors.TemplateProcessing(single="$A </s>", pair="$A </s> $B:1 </s>:1", special_tokens=[("</s>", 2)])
    metaspace_variant(directory, source, "never", False, sentencepiece_decoder(strip=False), template)
    return "llama-metaspace vocabulary, Metaspace never, EOS appended by TemplateProcessing"


# MARK: - Cases


def cases_for(directory, inputs, with_pieces):
    """With `with_pieces`, each case also holds the pre-tokenizer's pieces (byte-level strings): they
    check the split pattern directly, where a small vocabulary would hide a wrong split in the ids."""
    tokenizer = Tokenizer.from_file(os.path.join(directory, "tokenizer.json"))
    cases = []
    for text in inputs:
        ids = tokenizer.encode(text).ids
        case = {"text": text, "ids": ids, "decoded": tokenizer.decode(ids, skip_special_tokens=False)}
        if with_pieces:
            case["pieces"] = [piece for piece, _ in tokenizer.pre_tokenizer.pre_tokenize_str(text)]
        cases.append(case)
    if os.path.exists(os.path.join(directory, "tokenizer_config.json")):
        auto = AutoTokenizer.from_pretrained(directory)
        for case in cases:
            theirs = auto(case["text"])["input_ids"]
            if theirs != case["ids"]:
                raise SystemExit(f"{directory}: transformers and tokenizers disagree on {case['text']!r}: "
                                 f"{theirs} vs {case['ids']}")
    return cases


def make_tokenizer_fixtures(fixtures, seed):
    corpus = read_corpus(fixtures)
    inputs = test_inputs(corpus, seed)
    root = os.path.join(fixtures, "tokenizers")
    shutil.rmtree(root, ignore_errors=True)
    paths = {name: os.path.join(root, name) for name in
             ["gpt2-byte-level", "gpt2-prefix-space", "smollm-digits", "llama3-byte-level", "llama2-legacy", "llama-metaspace",
              "metaspace-always-split", "metaspace-never-eos"]}
    for path in paths.values():
        os.makedirs(path)
    made = {
        "gpt2-byte-level": gpt2_byte_level(corpus, paths["gpt2-byte-level"]),
        "smollm-digits": smollm_digits(corpus, paths["smollm-digits"]),
        "llama3-byte-level": llama3_byte_level(corpus, paths["llama3-byte-level"]),
        "llama2-legacy": llama2_legacy(corpus, paths["llama2-legacy"]),
        "llama-metaspace": llama_metaspace(corpus, paths["llama-metaspace"]),
    }
    made["gpt2-prefix-space"] = gpt2_prefix_space(corpus, paths["gpt2-prefix-space"], paths["gpt2-byte-level"])
    made["metaspace-always-split"] = metaspace_always_split(corpus, paths["metaspace-always-split"], paths["llama-metaspace"])
    made["metaspace-never-eos"] = metaspace_never_eos(corpus, paths["metaspace-never-eos"], paths["llama-metaspace"])
    manifest = {}
    for name, description in sorted(made.items()):
        cases = cases_for(paths[name], inputs, with_pieces=name in ("gpt2-byte-level", "smollm-digits", "llama3-byte-level"))
        header = {"description": description, "seed": seed, "versions": VERSIONS,
                  "decoded": "tokenizers' decode(ids, skip_special_tokens=False)"}
        write_cases(os.path.join(paths[name], "cases.json"), header, cases)
        manifest[name] = {"description": description, "files": sorted(os.listdir(paths[name])), "cases": len(cases)}
    return manifest
