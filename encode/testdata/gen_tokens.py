#!/usr/bin/python3
"""Writes tokens.json: CLIP token ids of many strings, computed by OpenAI
CLIP's own SimpleTokenizer code (copied below from
openai/CLIP clip/simple_tokenizer.py, MIT licence) so the Go tokenizer can be
checked against the reference without Python at test time.

Differences from the original: ftfy.fix_text is left out (ftfy is not in
Debian 12), so the strings below avoid the characters ftfy would change
(curly quotes, ligatures, full-width forms, control characters).

Needs Debian's python3-regex; run with the system Python from encode/testdata:

    /usr/bin/python3 gen_tokens.py /path/to/bpe_simple_vocab_16e6.txt.gz
"""
import gzip
import html
import json
import random
import sys
from functools import lru_cache

import regex as re


@lru_cache()
def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(2**8):
        if b not in bs:
            bs.append(b)
            cs.append(2**8 + n)
            n += 1
    cs = [chr(n) for n in cs]
    return dict(zip(bs, cs))


def get_pairs(word):
    pairs = set()
    prev_char = word[0]
    for char in word[1:]:
        pairs.add((prev_char, char))
        prev_char = char
    return pairs


def basic_clean(text):
    # ftfy.fix_text(text) left out
    text = html.unescape(html.unescape(text))
    return text.strip()


def whitespace_clean(text):
    text = re.sub(r'\s+', ' ', text)
    text = text.strip()
    return text


class SimpleTokenizer(object):
    def __init__(self, bpe_path):
        self.byte_encoder = bytes_to_unicode()
        merges = gzip.open(bpe_path).read().decode("utf-8").split('\n')
        merges = merges[1:49152 - 256 - 2 + 1]
        merges = [tuple(merge.split()) for merge in merges]
        vocab = list(bytes_to_unicode().values())
        vocab = vocab + [v + '</w>' for v in vocab]
        for merge in merges:
            vocab.append(''.join(merge))
        vocab.extend(['<|startoftext|>', '<|endoftext|>'])
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.bpe_ranks = dict(zip(merges, range(len(merges))))
        self.cache = {'<|startoftext|>': '<|startoftext|>', '<|endoftext|>': '<|endoftext|>'}
        self.pat = re.compile(r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""", re.IGNORECASE)

    def bpe(self, token):
        if token in self.cache:
            return self.cache[token]
        word = tuple(token[:-1]) + (token[-1] + '</w>',)
        pairs = get_pairs(word)
        if not pairs:
            return token + '</w>'
        while True:
            bigram = min(pairs, key=lambda pair: self.bpe_ranks.get(pair, float('inf')))
            if bigram not in self.bpe_ranks:
                break
            first, second = bigram
            new_word = []
            i = 0
            while i < len(word):
                try:
                    j = word.index(first, i)
                    new_word.extend(word[i:j])
                    i = j
                except ValueError:
                    new_word.extend(word[i:])
                    break
                if word[i] == first and i < len(word) - 1 and word[i + 1] == second:
                    new_word.append(first + second)
                    i += 2
                else:
                    new_word.append(word[i])
                    i += 1
            word = tuple(new_word)
            if len(word) == 1:
                break
            pairs = get_pairs(word)
        word = ' '.join(word)
        self.cache[token] = word
        return word

    def encode(self, text):
        bpe_tokens = []
        text = whitespace_clean(basic_clean(text)).lower()
        for token in re.findall(self.pat, text):
            token = ''.join(self.byte_encoder[b] for b in token.encode('utf-8'))
            bpe_tokens.extend(self.encoder[bpe_token] for bpe_token in self.bpe(token).split(' '))
        return bpe_tokens


def tokenize(tok, text, context_length=77):
    """open_clip.tokenize / clip.tokenize(truncate=True), without padding."""
    tokens = [49406] + tok.encode(text) + [49407]
    if len(tokens) > context_length:
        tokens = tokens[:context_length]
        tokens[-1] = 49407
    return tokens


FIXED = [
    "Hello World!", "a photo of a cat", "beautiful", "", "   ", "Desi", "aunty", "desi aunty",
    "A PHOTO OF A DOG", "It's a dog's life, isn't it? We'll see; they'd've gone.",
    "I'M HERE", "you're, we've, I'd, she'll",
    "3.14159 is pi; 1,000,000 dollars; 2023-11-26", "covid19 h2o b2b 4k 1080p",
    "email: someone@example.com http://example.com/a/b?c=d&e=f#g",
    "&amp; &lt;b&gt; &amp;amp; &quot;quoted&quot; &#39;single&#39; &#x263a; &copy 2020 &notit; &notin;",
    "&#0; &#128; &#x80; &#150; &#xD800; &#1114112; &#65535; &#1; &#13;",
    "naïve café résumé façade Ångström", "Straße ß ẞ", "İstanbul ISTANBUL", "ΣΊΣΥΦΟΣ ΟΔΟΣ Σ", "Ελληνικά",
    "Москва — столица России", "東京タワーの写真", "中文字符测试", "한국어 텍스트",
    "हिन्दी में लिखा", "العربية نص", "עברית", "ไทย ภาษา",
    "emoji 😀😃😄 👍🏽 👩‍👩‍👧 ❤️ 🇺🇸", "★☆♥♦ → ← ≠ ≤ ∞ © ® ™ °C",
    "tabs\tand\nnewlines\r\nand   spaces\u00a0nbsp\u2003em\u3000ideo",
    "!!!???...,,,;;;:::---___***", "(parentheses) [brackets] {braces} <angles>",
    "<|startoftext|>hello<|endoftext|>", "<|STARTOFTEXT|> upper special",
    "under_score snake_case CamelCase mixedCASE", "don't stop believin'", "'s's 's 't 're",
    "x" * 300, "word " * 100, "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "½ ⅓ ² ³ ① Ⅻ ٣ ४", "𝐁𝐨𝐥𝐝 𝑖𝑡𝑎𝑙𝑖𝑐", "a\u0301 e\u0301 combining", "zero\u200bwidth",
    "Pornhub xxx adult sex hot girl", "beautiful woman in a red dress",
    "Stock Photo - Portrait of happy smiling woman", "Free shipping!!! Buy now at $19.99 (50% off)",
]

WORDS = ["the", "photo", "beautiful", "woman", "man", "cat", "dog", "indian", "desi", "aunty",
         "saree", "wedding", "Mumbai", "isn't", "NEW", "2021", "HD", "wallpaper", "3D", "#love",
         "@user", "&amp;", "—", "…", "café", "日本", "🙂", "x-ray", "e.g.", "U.S.A.", "50%", "$5",
         "t-shirt", "i'm", "O'Neil", "rock'n'roll", "&#8211;", "\t", "  ", "Ünïcödé"]


def main():
    tok = SimpleTokenizer(sys.argv[1])
    rnd = random.Random(4)
    texts = list(FIXED)
    for _ in range(300):
        n = rnd.randint(1, 30)
        sep = rnd.choice([" ", " ", " ", "", "-", ", "])
        texts.append(sep.join(rnd.choice(WORDS) for _ in range(n)))
    # Characters ftfy.fix_text would change (Latin ligatures) are left out.
    ftfy_changes = set("ĲĳĿŀŉǄǅǆǇǈǉǊǋǌǱǲǳ")
    for _ in range(60):
        n = rnd.randint(1, 40)
        chars = []
        while len(chars) < n:
            c = chr(rnd.choice([rnd.randint(0x20, 0x7e), rnd.randint(0xa0, 0x17f), rnd.randint(0x370, 0x4ff), rnd.randint(0x4e00, 0x4e80), rnd.randint(0x1f600, 0x1f64f)]))
            if c not in ftfy_changes:
                chars.append(c)
        texts.append("".join(chars))
    out = [{"text": t, "ids": tokenize(tok, t)} for t in texts]
    with open("tokens.json", "w") as f:
        f.write("[\n" + ",\n".join(json.dumps(o, ensure_ascii=False) for o in out) + "\n]\n")


if __name__ == "__main__":
    main()
