"""Tokenizers, from scratch (07_attention_transformers): characters and byte-pair encoding (BPE).

``CharTokenizer`` maps each distinct character of a corpus to an id. ``train_bpe`` learns a
byte-level BPE the way GPT-2's does, small enough to read: start from the 256 byte values,
count adjacent pairs inside words, merge the most frequent pair into a new token, repeat.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from typing import Iterable, Sequence

# Pre-tokenisation: words with their leading space, runs of punctuation, runs of whitespace
# (a simplified GPT-2 pattern); merges never cross these boundaries.
WORD_RE = re.compile(r" ?\w+| ?[^\w\s]+|\s+")


class CharTokenizer:
    """One id per distinct character of the corpus; unknown characters raise (or map to ``unk``)."""

    def __init__(self, vocab: Iterable[str] | str, unk: str | None = None) -> None:
        chars = list(vocab)
        if not chars or any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError("CharTokenizer needs a non-empty sequence of single characters; "
                             "use CharTokenizer.from_text(corpus).")
        if len(set(chars)) != len(chars):
            raise ValueError("The vocabulary has repeated characters; pass sorted(set(text)).")
        if unk is not None and unk not in chars:
            raise ValueError(f"unk={unk!r} is not in the vocabulary.")
        self.chars = chars
        self.stoi = {c: i for i, c in enumerate(chars)}
        self.unk = unk

    @classmethod
    def from_text(cls, text: str) -> "CharTokenizer":
        """The tokenizer whose vocabulary is ``sorted(set(text))``."""
        if not isinstance(text, str) or not text:
            raise ValueError("from_text needs a non-empty string.")
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        """Number of distinct tokens."""
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        """Characters → ids."""
        if not isinstance(text, str):
            raise TypeError(f"encode takes a str, got {type(text).__name__}.")
        if self.unk is not None:
            u = self.stoi[self.unk]
            return [self.stoi.get(c, u) for c in text]
        try:
            return [self.stoi[c] for c in text]
        except KeyError as exc:
            raise ValueError(f"Character {exc.args[0]!r} is not in the vocabulary; drop it first "
                             "(e.g. ''.join(c for c in text if c in tok.stoi)).") from None

    def decode(self, ids: Iterable[int]) -> str:
        """Ids → characters."""
        return "".join(self.chars[int(i)] for i in ids)

    def to_json(self) -> str:
        """A JSON string to store next to the model."""
        return json.dumps({"type": "char", "chars": "".join(self.chars), "unk": self.unk}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "CharTokenizer":
        """Re-create from :meth:`to_json`."""
        d = json.loads(text)
        return cls(list(d["chars"]), unk=d.get("unk"))


# ------------------------------------------------------------------ BPE
def count_pairs(words: dict[tuple[int, ...], int]) -> Counter:
    """Counts of adjacent token pairs over a {word-as-token-tuple: frequency} table."""
    pairs: Counter = Counter()
    for w, n in words.items():
        for a, b in zip(w, w[1:]):
            pairs[a, b] += n
    return pairs


def merge_pair(ids: Sequence[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every non-overlapping occurrence of ``pair`` in ``ids`` (left to right) by ``new_id``."""
    out, i, a, b = [], 0, pair[0], pair[1]
    n = len(ids)
    while i < n:
        if i + 1 < n and ids[i] == a and ids[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


class BPETokenizer:
    """A byte-level BPE: ids 0–255 are bytes, id 256 + r is the r-th learned merge."""

    def __init__(self, merges: Sequence[tuple[int, int]]) -> None:
        self.merges = [tuple(map(int, m)) for m in merges]
        self.ranks = {m: r for r, m in enumerate(self.merges)}
        self.vocab: list[bytes] = [bytes([i]) for i in range(256)]
        for r, (a, b) in enumerate(self.merges):
            if not (a < 256 + r and b < 256 + r):
                raise ValueError(f"Merge {r} ({a}, {b}) uses a token that does not exist yet.")
            self.vocab.append(self.vocab[a] + self.vocab[b])
        self._cache: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        """256 bytes + one token per merge."""
        return len(self.vocab)

    def _encode_word(self, word: str) -> list[int]:
        ids = list(word.encode("utf-8"))
        while len(ids) > 1:  # apply the earliest-learned merge present, as training did
            best = min(zip(ids, ids[1:]), key=lambda p: self.ranks.get(p, 1 << 30))
            if best not in self.ranks:
                break
            ids = merge_pair(ids, best, 256 + self.ranks[best])
        return ids

    def encode(self, text: str) -> list[int]:
        """Text → token ids (UTF-8 bytes, merged word by word)."""
        if not isinstance(text, str):
            raise TypeError(f"encode takes a str, got {type(text).__name__}.")
        out: list[int] = []
        for w in WORD_RE.findall(text):
            ids = self._cache.get(w)
            if ids is None:
                ids = self._cache[w] = self._encode_word(w)
            out.extend(ids)
        return out

    def decode(self, ids: Iterable[int]) -> str:
        """Token ids → text (invalid UTF-8 from a partial sequence shows as �)."""
        return b"".join(self.vocab[int(i)] for i in ids).decode("utf-8", errors="replace")

    def token_strings(self, ids: Iterable[int]) -> list[str]:
        """Each token's bytes shown as text (for looking at what BPE learned)."""
        return [self.vocab[int(i)].decode("utf-8", errors="replace") for i in ids]

    def to_json(self) -> str:
        """A JSON string of the merges."""
        return json.dumps({"type": "bpe", "merges": self.merges})

    @classmethod
    def from_json(cls, text: str) -> "BPETokenizer":
        """Re-create from :meth:`to_json`."""
        return cls(json.loads(text)["merges"])


def train_bpe(text: str, vocab_size: int, verbose: bool = False) -> BPETokenizer:
    """Learn ``vocab_size − 256`` merges from ``text``: count pairs within words, merge the most frequent.

    Ties go to the pair seen first in the pair counts (deterministic). Pure Python, about
    100 merges per second on the course corpus; ``tokenizers`` does the same in Rust.
    """
    if not isinstance(text, str) or not text:
        raise ValueError("train_bpe needs a non-empty string.")
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 256:
        raise ValueError(f"vocab_size must be an int >= 256 (the 256 byte tokens), got {vocab_size!r}.")
    words: dict[tuple[int, ...], int] = Counter(tuple(w.encode("utf-8")) for w in WORD_RE.findall(text))
    merges: list[tuple[int, int]] = []
    for r in range(vocab_size - 256):
        pairs = count_pairs(words)
        if not pairs:
            break
        best = max(pairs, key=pairs.__getitem__)  # first maximum in insertion order
        new_id = 256 + r
        merges.append(best)
        words = {tuple(merge_pair(w, best, new_id)) if len(w) > 1 else w: n for w, n in words.items()}
        if verbose and r % 50 == 0:
            print(f"merge {r}: {best} ×{pairs[best]}")
    return BPETokenizer(merges)
