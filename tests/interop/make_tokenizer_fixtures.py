#!/usr/bin/env python3
"""Builds the tokenizer.json interop fixtures for tst_tokenizer (tests/engine/tst_tokenizer.cpp).

Usage: make_tokenizer_fixtures.py OUTDIR

For each family (llama3, qwen2, deepseek_v3, llama2_sp, mistral_sp, options, gpt2,
sp_split, bert_bpe) it trains a small BPE
with the Hugging Face `tokenizers` library on a built-in multilingual corpus, writes
OUTDIR/<family>/tokenizer.json and tokenizer_config.json in the shape those model families ship,
then reloads the file with `tokenizers` and records in OUTDIR/<family>/expected.json, for every
test string (a corpus different from the training text), what the library answers:
encode(add_special_tokens=False) ids and token strings, encode(add_special_tokens=True) ids and
decode(ids, skip_special_tokens=True).  Deterministic: no clocks, seeded random, sorted output.

The SentencePiece-style families are built with `tokenizers` directly (BPE with byte_fallback and
the Llama-2 normaliser, or the newer Metaspace pre-tokeniser), not through sentencepiece and the
slow->fast converter, so the script needs nothing but `tokenizers`.
"""
import collections
import hashlib
import json
import os
import random
import sys

import tokenizers
from tokenizers import Tokenizer, pre_tokenizers, trainers

# ---------------------------------------------------------------------------------------------
# Training corpus (written for this project).
ENGLISH = [
    "The quick brown fox jumps over the lazy dog while the farmer watches from the barn.",
    "Training a language model on your own data is easier when you can see what happens inside.",
    "Loss went down steadily during the first epoch, then the validation curve flattened out.",
    "She said it's the best result they've had, and we'll check it again tomorrow morning.",
    "Learning rate warmup helps stabilise the optimizer in the early steps of fine-tuning.",
    "Attention weights show which tokens the model looks at when predicting the next word.",
    "I'm not sure whether the batch size of 64 fits into memory on a single graphics card.",
    "Please write a short summary of the meeting, including decisions and open questions.",
    "The weather today is sunny with a light breeze from the west and temperatures near 21 degrees.",
    "Numbers like 3.14159, 2024, 1,000,000 and 42 appear often in technical documents.",
]
CHINESE = [
    "今天天气很好，我们一起去公园散步吧。",
    "机器学习模型需要大量的数据来进行训练和评估。",
    "这个项目的目标是让领域专家也能轻松地微调语言模型。",
    "请把会议记录整理成一份简短的摘要，包括决定和待办事项。",
    "北京是中国的首都，上海是最大的经济中心之一。",
    "注意力权重可以帮助我们理解模型在预测下一个词时关注哪些位置。",
]
JAPANESE = [
    "今日はとても良い天気ですね。散歩に行きましょう。",
    "機械学習のモデルは大量のデータで訓練されます。",
    "東京タワーからの景色はとても綺麗でした。",
    "このプログラムはテキストをトークンに分割します。",
    "カタカナとひらがなと漢字が混ざった文章です。",
]
CODE = [
    "def train(model, data, lr=3e-4):\n    for step, batch in enumerate(data):\n        loss = model(batch)\n        loss.backward()\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += values[i] * weights[i];\n}\n",
    "if __name__ == \"__main__\":\n    main(sys.argv[1:])\n",
    "#include <vector>\nstd::vector<int32_t> ids = tokenizer.encode(text);\n",
    "SELECT name, count(*) FROM runs WHERE status = 'finished' GROUP BY name;\n",
    "const result = items.map((x) => x * 2).filter((x) => x > 10);\n",
]
EMOJI = [
    "Great job! 🎉🎉 Let's celebrate 🥳 with cake 🍰.",
    "Weather: ☀️ then 🌧️, later ⛈️. Mood: 😀😃😄",
    "Family 👨‍👩‍👧 and thumbs 👍🏽 up.",
]
MISC = [
    "    indented line with four spaces",
    "tabs\there\tand\tthere",
    "multiple\n\nblank\n\n\nlines",
    "phone 555-0123, zip 90210, year 1999, pi 3.14159265358979",
    "Ünïcödé àccents: café, naïve, résumé, São Paulo, Zürich.",
    "Привет, как дела? Всё хорошо, спасибо.",
    "안녕하세요. 오늘 날씨가 좋네요.",
]


def training_corpus():
    rng = random.Random(1234)
    groups = [ENGLISH, CHINESE, JAPANESE, CODE, EMOJI, MISC]
    lines = []
    for group in groups:
        lines.extend(group)
    for _ in range(3000):
        group = groups[rng.randrange(len(groups))]
        k = rng.randint(1, 3)
        lines.append(" ".join(rng.choice(group) for _ in range(k)))
    return lines


# ---------------------------------------------------------------------------------------------
# Test strings (different from the training text).
COMMON_TESTS = [
    "",
    " ",
    "Hello world",
    "Hello, world! How are you doing today?",
    " leading space",
    "trailing space ",
    "It's what they'd've wanted, isn't it? I'LL GO. We'Re here.",
    "ALL CAPS SENTENCE WITH SHOUTING",
    "The model's perplexity dropped from 35.2 to 12.7 after 1500 steps.",
    "1234567890",
    "A number: 12345678901234567890 and 007.",
    "Version v2.0.1-rc3 released on 2025-11-29.",
    "你好，世界！",
    "我们正在测试分词器是否与参考实现完全一致。",
    "こんにちは、世界。テストです。",
    "ひらがなだけのぶん",
    "안녕하세요 세계",
    "Γειά σου Κόσμε",
    "مرحبا بالعالم",
    "नमस्ते दुनिया",
    "Mixed 中文 and English 和 日本語 text.",
    "def add(a, b):\n    return a + b\n",
    "int main() {\n\treturn 0;\n}\n",
    "x=[1,2,3];y={'k':v}",
    "    four spaces",
    "two  spaces   three    four",
    "tab\tseparated\tvalues",
    "\t\tdouble tab",
    "line one\nline two\r\nline three",
    "\n\n\n",
    "trailing newline\n",
    "   \n  \t \n",
    "Emoji 😀 smile",
    "🎉🎉🎉",
    "Family ZWJ: 👨‍👩‍👧‍👦 and 👩🏽‍💻",
    "Flags 🇫🇷🇯🇵 and keycap 1️⃣",
    "Combining: e\u0301 versus \u00e9",
    "Angstrom \u212b and A\u030a and \u00c5",
    "Hangul jamo \u1100\u1161\u11a8 vs \uac01",
    "ﬁ ligature and ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３",
    "Ünïcödé àccents: crème brûlée",
    "Don't stop believing!!!",
    "email@example.com https://example.org/path?q=1&r=2",
    "µ and ß and ǅ",
    "$$$ ### @@@ %%% ^^^",
    "a" * 60,
    "tokenization " * 8,
    "\u00a0non-breaking\u00a0space and\u2003em space",
    "zero\u200bwidth",
    "\u3000ideographic space",
]

INVALID_UTF8 = [
    b"abc\xff def",
    b"\xe4\xbd",
    b"\xc0\xafx",
    b"\xed\xa0\x80 surrogate",
    b"ok\xf0\x9f\x98",
    b"\xf4\x90\x80\x80 too big",
    b"mid\x80dle",
    b"\xe4\xbd\xa0\xe5\xa5",
]

# ---------------------------------------------------------------------------------------------
# Component JSON (the shape tokenizer.json stores them in).
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
DEEPSEEK_PATTERNS = [
    r"\p{N}{1,3}",
    "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+",
    "[\r\n]|\\s?[A-Za-z\u00b5\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u01ba\u0370-\u0373\u0386-\u03ff\u0400-\u0481]+"
    "|\\s?[!-/:-~\uff01-\uff0f\uff1a-\uff5e\u2018-\u201f\u3000-\u3002]+|\\s+$|[^\r\n\\s]+|\\s+(?!\\S)|\\s+",
]


def split(pattern, behavior="Isolated", invert=False, regex=True):
    return {
        "type": "Split",
        "pattern": {"Regex" if regex else "String": pattern},
        "behavior": behavior,
        "invert": invert,
    }


def byte_level(add_prefix_space=False, use_regex=False):
    return {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": True,
            "use_regex": use_regex}


def template(bos, bos_id, eos=None, eos_id=None):
    single = [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]
    pair = single + [{"SpecialToken": {"id": bos, "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}]
    specials = {bos: {"id": bos, "ids": [bos_id], "tokens": [bos]}}
    if eos is not None:
        single = single + [{"SpecialToken": {"id": eos, "type_id": 0}}]
        pair = pair + [{"SpecialToken": {"id": eos, "type_id": 1}}]
        specials[eos] = {"id": eos, "ids": [eos_id], "tokens": [eos]}
    return {"type": "TemplateProcessing", "single": single, "pair": pair,
            "special_tokens": specials}


def added(content, id_, special=True, normalized=None, lstrip=False, rstrip=False,
          single_word=False):
    return {"id": id_, "content": content, "single_word": single_word, "lstrip": lstrip,
            "rstrip": rstrip, "normalized": (not special) if normalized is None else normalized,
            "special": special}


def bpe_model(vocab, merges, merges_as_strings, **options):
    model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
             "ignore_merges": False, "vocab": vocab}
    model.update(options)
    model["merges"] = [a + " " + b for a, b in merges] if merges_as_strings else [[a, b] for a, b in merges]
    return model


def corpus_with_alphabet(limit):
    """The training corpus keeping only its `limit` most frequent characters (ties by code point)
    and whitespace. BpeTrainer's own limit_alphabet breaks ties between equally frequent characters
    in hash-map order, which differs from run to run; this keeps the fixtures deterministic."""
    lines = training_corpus()
    if limit is None:
        return lines
    counts = collections.Counter(ch for line in lines for ch in line if not ch.isspace())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    keep = set(ch for ch, _ in ranked[:limit])
    return ["".join(ch for ch in line if ch in keep or ch.isspace()) for line in lines]


def train(normalizer, pre_tokenizer, vocab_size, byte_alphabet, limit_alphabet=None):
    """Trains a BPE; returns (tokens in id order, merges as (a, b) pairs)."""
    skeleton = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
                "normalizer": normalizer, "pre_tokenizer": pre_tokenizer, "post_processor": None,
                "decoder": None, "model": bpe_model({}, [], False)}
    tok = Tokenizer.from_str(json.dumps(skeleton))
    kwargs = {"vocab_size": vocab_size, "min_frequency": 2, "show_progress": False,
              "special_tokens": []}
    if byte_alphabet:
        kwargs["initial_alphabet"] = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus_with_alphabet(limit_alphabet), trainers.BpeTrainer(**kwargs))
    model = json.loads(tok.to_str())["model"]
    tokens = [t for t, _ in sorted(model["vocab"].items(), key=lambda kv: kv[1])]
    merges = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return tokens, merges


def assemble(tokens_front, trained, tokens_back, added_tokens):
    """Vocab ids: tokens_front, then the trained tokens not already placed, then tokens_back."""
    vocab = {}
    for t in tokens_front:
        vocab[t] = len(vocab)
    for t in trained:
        if t not in vocab:
            vocab[t] = len(vocab)
    for t in tokens_back:
        if t not in vocab:
            vocab[t] = len(vocab)
    return vocab


CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
          "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
LLAMA3_TEMPLATE = ("{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + "
                   "message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + "
                   "'<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}"
                   "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}")
LLAMA2_TEMPLATE = ("{% for message in messages %}{% if message['role'] == 'user' %}"
                   "{{ bos_token + '[INST] ' + message['content'] | trim + ' [/INST]' }}"
                   "{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] | trim + "
                   "' ' + eos_token }}{% endif %}{% endfor %}")
DEEPSEEK_TEMPLATE = ("{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
                     "{{ '<｜User｜>' + message['content'] }}{% else %}{{ '<｜Assistant｜>' + "
                     "message['content'] + eos_token }}{% endif %}{% endfor %}"
                     "{% if add_generation_prompt %}{{ '<｜Assistant｜>' }}{% endif %}")


def family_llama3():
    normalizer = None
    pre = {"type": "Sequence", "pretokenizers": [split(LLAMA3_PATTERN), byte_level()]}
    tokens, merges = train(normalizer, pre, 1800, True)
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>",
                "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    vocab = assemble([], tokens, [], [])
    added_tokens = [added(s, len(vocab) + i) for i, s in enumerate(specials)]
    bos_id = len(vocab)
    tj = {"normalizer": normalizer, "pre_tokenizer": pre,
          "post_processor": {"type": "Sequence", "processors": [
              {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
               "use_regex": True}, template("<|begin_of_text|>", bos_id)]},
          "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                      "use_regex": True},
          "model": bpe_model(vocab, merges, False, ignore_merges=True),
          "added_tokens": added_tokens}
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<|begin_of_text|>",
              "eos_token": "<|eot_id|>", "chat_template": LLAMA3_TEMPLATE}
    extra = ["<|begin_of_text|>Hello<|eot_id|>",
             "<|start_header_id|>user<|end_header_id|>\n\nWhat is 2+2?<|eot_id|>",
             "text <|reserved_special_token_0|> more", "<|eot_id|><|eot_id|>",
             "<|begin_of_text", "x<|end_of_text|>y"]
    return tj, config, extra


def family_qwen2():
    normalizer = {"type": "NFC"}
    pre = {"type": "Sequence", "pretokenizers": [split(QWEN2_PATTERN), byte_level()]}
    tokens, merges = train(normalizer, pre, 2000, True)
    vocab = assemble([], tokens, [], [])
    n = len(vocab)
    added_tokens = [added("<|endoftext|>", n), added("<|im_start|>", n + 1),
                    added("<|im_end|>", n + 2),
                    added("<tool_call>", n + 3, special=False, normalized=False),
                    added("</tool_call>", n + 4, special=False, normalized=False)]
    tj = {"normalizer": normalizer, "pre_tokenizer": pre,
          "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                             "use_regex": False},
          "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False,
                      "use_regex": False},
          "model": bpe_model(vocab, merges, True),
          "added_tokens": added_tokens}
    config = {"add_bos_token": False, "add_prefix_space": False, "bos_token": None,
              "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "chat_template": CHATML}
    extra = ["<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n你好<|im_end|>\n",
             "<tool_call>{\"name\": \"f\"}</tool_call>", "a<|endoftext|>b", "<|im_start|><|im_end|>",
             "<|im_start", "caf\u0065\u0301 and cafe\u0301"]
    return tj, config, extra


def family_deepseek_v3():
    normalizer = None
    pre = {"type": "Sequence",
           "pretokenizers": [split(p) for p in DEEPSEEK_PATTERNS] + [byte_level()]}
    tokens, merges = train(normalizer, pre, 2200, True)
    specials = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜▁pad▁｜>"]
    vocab = assemble(specials, tokens, [], [])
    n = len(vocab)
    added_tokens = [added(s, i) for i, s in enumerate(specials)]
    added_tokens += [added("<｜User｜>", n, special=False), added("<｜Assistant｜>", n + 1, special=False)]
    tj = {"normalizer": normalizer, "pre_tokenizer": pre,
          "post_processor": template("<｜begin▁of▁sentence｜>", 0),
          "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                      "use_regex": True},
          "model": bpe_model(vocab, merges, False),
          "added_tokens": added_tokens}
    config = {"add_bos_token": True, "add_eos_token": False,
              "bos_token": {"__type": "AddedToken", "content": "<｜begin▁of▁sentence｜>",
                            "lstrip": False, "normalized": True, "rstrip": False,
                            "single_word": False},
              "eos_token": {"__type": "AddedToken", "content": "<｜end▁of▁sentence｜>",
                            "lstrip": False, "normalized": True, "rstrip": False,
                            "single_word": False},
              "pad_token": {"__type": "AddedToken", "content": "<｜end▁of▁sentence｜>",
                            "lstrip": False, "normalized": True, "rstrip": False,
                            "single_word": False},
              "chat_template": DEEPSEEK_TEMPLATE}
    extra = ["<｜User｜>1+1=?<｜Assistant｜>2<｜end▁of▁sentence｜>",
             "<｜begin▁of▁sentence｜>hi", "数字12345和汉字混合"]
    return tj, config, extra


BYTE_TOKENS = ["<0x%02X>" % b for b in range(256)]


def sp_vocab(limit_alphabet):
    pre = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    tokens, merges = train(None, pre, 1600, False, limit_alphabet=limit_alphabet)
    vocab = assemble(["<unk>", "<s>", "</s>"] + BYTE_TOKENS, tokens, [], [])
    added_tokens = [added("<unk>", 0), added("<s>", 1), added("</s>", 2)]
    return vocab, merges, added_tokens


def family_llama2_sp():
    vocab, merges, added_tokens = sp_vocab(300)
    tj = {"normalizer": {"type": "Sequence", "normalizers": [
              {"type": "Prepend", "prepend": "\u2581"},
              {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
          "pre_tokenizer": None,
          "post_processor": template("<s>", 1),
          "decoder": {"type": "Sequence", "decoders": [
              {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
              {"type": "ByteFallback"}, {"type": "Fuse"},
              {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
          "model": bpe_model(vocab, merges, True, unk_token="<unk>", fuse_unk=True,
                             byte_fallback=True),
          "added_tokens": added_tokens}
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>",
              "eos_token": "</s>", "unk_token": "<unk>", "pad_token": None,
              "chat_template": LLAMA2_TEMPLATE, "legacy": True}
    extra = ["<s>[INST] Hello [/INST] Hi</s>", "</s>", " <s> spaced ", "▁already▁metaspace"]
    return tj, config, extra


def family_mistral_sp():
    vocab, merges, added_tokens = sp_vocab(250)
    n = len(vocab)
    added_tokens = added_tokens + [added("[INST]", n), added("[/INST]", n + 1)]
    meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False}
    tj = {"normalizer": None, "pre_tokenizer": meta,
          "post_processor": template("<s>", 1),
          "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}, meta]},
          "model": bpe_model(vocab, merges, False, unk_token="<unk>", fuse_unk=True,
                             byte_fallback=True),
          "added_tokens": added_tokens}
    config = {"add_bos_token": True, "add_eos_token": False, "bos_token": "<s>",
              "eos_token": "</s>", "unk_token": "<unk>",
              "chat_template": [{"name": "tool_use", "template": "{{ 'tools' }}"},
                                {"name": "default", "template": LLAMA2_TEMPLATE}]}
    extra = ["[INST] What is AI? [/INST] A field.</s>", "[INST]x[/INST]", "<s> after bos",
             "Hello [INST]  two spaces"]
    return tj, config, extra


def family_options():
    """Everything else tokenizer.json allows and the real families do not show: the NFKC,
    Lowercase, Strip and regex Replace normalisers, Split's other behaviours and `invert`, Digits,
    a character-level BPE with an unknown token (fused), added tokens with lstrip / rstrip /
    single_word / normalized, an [CLS] $A [SEP] template and no decoder (tokens joined by spaces)."""
    normalizer = {"type": "Sequence", "normalizers": [
        {"type": "NFKC"}, {"type": "Lowercase"},
        {"type": "Strip", "strip_left": True, "strip_right": True},
        {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]}
    pre = {"type": "Sequence", "pretokenizers": [
        split(" ", "Removed", regex=False),
        split("[,;]", "MergedWithPrevious"),
        split("-", "MergedWithNext", regex=False),
        split("[!?.]", "Contiguous"),
        {"type": "Digits", "individual_digits": True},
        split(r"\p{L}+|[^\p{L}]+", "Removed", invert=True),
    ]}
    tokens, merges = train(normalizer, pre, 900, False, limit_alphabet=120)
    vocab = assemble(["[UNK]", "[CLS]", "[SEP]"], tokens, [], [])
    n = len(vocab)
    added_tokens = [added("[UNK]", 0), added("[CLS]", 1), added("[SEP]", 2),
                    added("<mask>", n, lstrip=True),
                    added("<sep>", n + 1, rstrip=True),
                    added("ok", n + 2, special=False, single_word=True),
                    added("<RAW>", n + 3, special=False, normalized=False),
                    added("Hello There", n + 4, special=False, normalized=True),
                    added("<both>", n + 5, special=False, normalized=False, lstrip=True, rstrip=True),
                    added("<both>x", n + 6, special=False, normalized=False)]
    tj = {"normalizer": normalizer, "pre_tokenizer": pre,
          "post_processor": {"type": "TemplateProcessing",
                             "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                                        {"Sequence": {"id": "A", "type_id": 0}},
                                        {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                             "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                                      {"Sequence": {"id": "B", "type_id": 1}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                             "special_tokens": {
                                 "[CLS]": {"id": "[CLS]", "ids": [1], "tokens": ["[CLS]"]},
                                 "[SEP]": {"id": "[SEP]", "ids": [2], "tokens": ["[SEP]"]}}},
          "decoder": None,
          "model": bpe_model(vocab, merges, True, unk_token="[UNK]", fuse_unk=True),
          "added_tokens": added_tokens}
    config = {"add_bos_token": False, "add_eos_token": False, "cls_token": "[CLS]",
              "sep_token": "[SEP]", "unk_token": "[UNK]", "chat_template": "{{ messages }}"}
    extra = ["the <mask> is here", "a    <mask>   b", "x<sep>   y", "ok then", "okay ok, ok!",
             "bok ok", "ok", "<RAW> and <raw>", "HELLO THERE friend", "hello   there",
             "  <both>  <both>x  ", "well-known, state-of-the-art; yes!!! no?? 2024-11-29",
             "Über Straße", "[CLS] inside [SEP]"]
    return tj, config, extra


def family_gpt2():
    """GPT-2 style: ByteLevel pre-tokenizer doing the splitting itself (use_regex) with
    add_prefix_space, ByteLevel post-processor and decoder, <|endoftext|> as BOS and EOS."""
    pre = byte_level(add_prefix_space=True, use_regex=True)
    tokens, merges = train(None, pre, 1500, True)
    vocab = assemble([], tokens, [], [])
    n = len(vocab)
    tj = {"normalizer": None, "pre_tokenizer": pre,
          "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                             "use_regex": True},
          "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                      "use_regex": True},
          "model": bpe_model(vocab, merges, True),
          "added_tokens": [added("<|endoftext|>", n)]}
    config = {"add_bos_token": False, "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
              "chat_template": CHATML}
    extra = ["<|endoftext|>Once upon a time<|endoftext|>", "x <|endoftext|> y"]
    return tj, config, extra


def family_sp_split():
    """Older SentencePiece-style conversions: Metaspace splitting at every replacement character
    with prepend_scheme "always", accents stripped (NFKD, then a regex Replace of the Mn category),
    no byte fallback: unknown characters become <unk>, not fused; <s> $A </s> with add_eos_token."""
    normalizer = {"type": "Sequence", "normalizers": [
        {"type": "NFKD"},
        {"type": "Replace", "pattern": {"Regex": r"\p{Mn}"}, "content": ""}]}
    meta = {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}
    tokens, merges = train(normalizer, meta, 1000, False, limit_alphabet=150)
    vocab = assemble(["<unk>", "<s>", "</s>"], tokens, [], [])
    tj = {"normalizer": normalizer, "pre_tokenizer": meta,
          "post_processor": template("<s>", 1, "</s>", 2),
          "decoder": meta,
          "model": bpe_model(vocab, merges, False, unk_token="<unk>", fuse_unk=False),
          "added_tokens": [added("<unk>", 0), added("<s>", 1), added("</s>", 2)]}
    config = {"add_bos_token": True, "add_eos_token": True, "bos_token": "<s>",
              "eos_token": "</s>", "unk_token": "<unk>", "chat_template": LLAMA2_TEMPLATE}
    extra = ["Crème brûlée à la carte", "<s>inside</s>", "\u2581\u2581double"]
    return tj, config, extra


def family_bert_bpe():
    """A character BPE with a continuing-subword prefix ("##"), split on Oniguruma's Unicode word
    class (letters, marks, numbers, connector punctuation), lowercased, BertProcessing, no
    decoder (tokens joined by spaces). BpeTrainer's own continuing_subword_prefix numbers the
    "##" characters in hash-map order (not deterministic), so the model is trained without it and
    given a "##" twin of every token and merge: merge (a, b) becomes (a, ##b) and (##a, ##b)."""
    normalizer = {"type": "Lowercase"}
    pre = split(r"\w+|[^\w\s]+", "Removed", invert=True)
    tokens, merges = train(normalizer, pre, 600, False, limit_alphabet=150)
    vocab = assemble(["[UNK]", "[CLS]", "[SEP]"], tokens + ["##" + t for t in tokens], [], [])
    prefixed = []
    for a, b in merges:
        prefixed += [(a, "##" + b), ("##" + a, "##" + b)]
    tj = {"normalizer": normalizer, "pre_tokenizer": pre,
          "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
          "decoder": None,
          "model": bpe_model(vocab, prefixed, True, unk_token="[UNK]", fuse_unk=False,
                             continuing_subword_prefix="##"),
          "added_tokens": [added("[UNK]", 0), added("[CLS]", 1), added("[SEP]", 2)]}
    config = {"cls_token": "[CLS]", "sep_token": "[SEP]", "unk_token": "[UNK]",
              "chat_template": "{{ messages }}"}
    extra = ["snake_case_name and under\u203ftie", "\u00bd and \u00b2 and \u216b numbers"]
    return tj, config, extra


FAMILIES = [("llama3", family_llama3), ("qwen2", family_qwen2),
            ("deepseek_v3", family_deepseek_v3), ("llama2_sp", family_llama2_sp),
            ("mistral_sp", family_mistral_sp), ("options", family_options),
            ("gpt2", family_gpt2), ("sp_split", family_sp_split), ("bert_bpe", family_bert_bpe)]


def write_json(path, value):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(value, f, ensure_ascii=False, indent=1, sort_keys=False)
        f.write("\n")


def expected_cases(tok, extra):
    cases = []
    inputs = [(s, None) for s in COMMON_TESTS + extra]
    inputs += [(b.decode("utf-8", "replace"), list(b)) for b in INVALID_UTF8]
    for text, raw in inputs:
        plain = tok.encode(text, add_special_tokens=False)
        with_specials = tok.encode(text, add_special_tokens=True)
        case = {"text": text}
        if raw is not None:
            case["bytes"] = raw
        case["ids"] = plain.ids
        case["tokens"] = plain.tokens
        case["ids_with_specials"] = with_specials.ids
        case["decoded"] = tok.decode(plain.ids, skip_special_tokens=True)
        case["decoded_with_specials"] = tok.decode(with_specials.ids, skip_special_tokens=True)
        cases.append(case)
    return cases


def write_family(out, name, build):
    tj, config, extra = build()
    # Trained twice: fixtures that change from run to run would churn the repository.
    if json.dumps(build()[0], sort_keys=True) != json.dumps(tj, sort_keys=True):
        raise RuntimeError("training is not deterministic for this family")
    document = {"version": "1.0", "truncation": None, "padding": None,
                "added_tokens": tj["added_tokens"], "normalizer": tj["normalizer"],
                "pre_tokenizer": tj["pre_tokenizer"], "post_processor": tj["post_processor"],
                "decoder": tj["decoder"], "model": tj["model"]}
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "tokenizer.json")
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
        f.write("\n")
    write_json(os.path.join(folder, "tokenizer_config.json"), config)
    tok = Tokenizer.from_file(path)  # what the C++ reads is what the library answered on
    cases = expected_cases(tok, extra)
    write_json(os.path.join(folder, "expected.json"),
               {"family": name, "tokenizers_version": tokenizers.__version__,
                "vocab_size": tok.get_vocab_size(with_added_tokens=True), "cases": cases})
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    print("%s: vocab %d, merges %d, added %d, %d cases, tokenizer.json %d bytes sha256 %s"
          % (name, tok.get_vocab_size(with_added_tokens=True), len(tj["model"]["merges"]),
             len(tj["added_tokens"]), len(cases), len(text.encode("utf-8")), digest))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_tokenizer_fixtures.py OUTDIR")
    out = sys.argv[1]
    failed = []
    for name, build in FAMILIES:
        try:
            write_family(out, name, build)
        except Exception as e:  # one family's failure must not cost the others their fixtures
            failed.append(name)
            print("%s: FAILED: %s: %s" % (name, type(e).__name__, e))
    if failed:
        sys.exit("failed families: " + ", ".join(failed))


if __name__ == "__main__":
    main()
