"""Deterministic noise functions that turn a sample into a low-quality variant.

Each function takes the text and a seeded ``random.Random`` and returns the degraded text. ``add_noise``
applies a seeded selection of them and reports which ones changed the text, so every variant records the
degradations that made it.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Callable, Sequence

_WORD = re.compile(r"[A-Za-z]{4,}")
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+")
_FILLERS = (
    "um,",
    "you know,",
    "basically,",
    "like I said,",
    "sort of",
    "I guess",
    "well,",
    "kind of",
    "to be honest,",
    "anyway,",
)


def typos(text: str, rng: random.Random, rate: float = 0.15) -> str:
    """Misspell about ``rate`` of the longer words (swapped, dropped or doubled letters)."""

    def misspell(match: re.Match[str]) -> str:
        word = match.group(0)
        if rng.random() >= rate:
            return word
        i = rng.randrange(1, len(word) - 1)
        kind = rng.randrange(3)
        if kind == 0:
            return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
        if kind == 1:
            return word[:i] + word[i + 1 :]
        return word[:i] + word[i] + word[i:]

    return _WORD.sub(misspell, text)


def repetition(text: str, rng: random.Random) -> str:
    """Repeat one sentence (or, for one-sentence texts, a run of words) right after itself."""
    sentences = _SENTENCE_SPLIT.split(text.strip())
    if len(sentences) > 1:
        i = rng.randrange(len(sentences))
        sentences.insert(i + 1, sentences[i])
        return " ".join(sentences)
    words = text.split()
    if len(words) < 2:
        return f"{text} {text}"
    start = rng.randrange(len(words) - 1)
    end = min(len(words), start + rng.randint(2, 6))
    return " ".join(words[:end] + words[start:end] + words[end:])


def truncation(text: str, rng: random.Random) -> str:
    """Cut the text at a word boundary after 40–80% of its words."""
    words = text.split(" ")
    if len(words) < 4:
        return text[: max(1, len(text) // 2)]
    keep = max(2, int(len(words) * rng.uniform(0.4, 0.8)))
    return " ".join(words[:keep])


def shuffled_sentences(text: str, rng: random.Random) -> str:
    """Shuffle the sentence order (texts of one sentence: shuffle a window of words)."""
    sentences = _SENTENCE_SPLIT.split(text.strip())
    if len(sentences) > 1:
        original = list(sentences)
        for _ in range(5):
            rng.shuffle(sentences)
            if sentences != original:
                break
        return " ".join(sentences)
    words = text.split(" ")
    if len(words) < 3:
        return text
    start = rng.randrange(max(1, len(words) - 4))
    window = words[start : start + 5]
    rng.shuffle(window)
    return " ".join(words[:start] + window + words[start + 5 :])


def filler(text: str, rng: random.Random, count: int = 3) -> str:
    """Insert ``count`` filler phrases ("um,", "you know,", …) between words."""
    words = text.split(" ")
    for _ in range(count):
        words.insert(rng.randrange(len(words) + 1), rng.choice(_FILLERS))
    return " ".join(words)


NOISE_FUNCTIONS: dict[str, Callable[[str, random.Random], str]] = {
    "typos": typos,
    "repetition": repetition,
    "truncation": truncation,
    "shuffled_sentences": shuffled_sentences,
    "filler": filler,
}
"""The noise functions by name (the names recorded in a variant's ``degradations``)."""


def stable_seed(*parts: object) -> int:
    """A seed derived from ``parts`` that is the same in every process and on every machine."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def add_noise(
    text: str, seed: int, *, functions: Sequence[str] | None = None, max_ops: int = 2
) -> tuple[str, list[str]]:
    """Apply 1–``max_ops`` noise functions chosen with ``seed``; return the text and the names that changed it.

    The same ``(text, seed, functions, max_ops)`` always gives the same result.
    """
    names = list(functions or NOISE_FUNCTIONS)
    unknown = [name for name in names if name not in NOISE_FUNCTIONS]
    if unknown:
        raise ValueError(f"unknown noise function(s) {unknown}; expected some of {sorted(NOISE_FUNCTIONS)}")
    rng = random.Random(seed)
    chosen = rng.sample(names, k=rng.randint(1, max(1, min(max_ops, len(names)))))
    applied: list[str] = []
    for name in chosen:
        noisy = NOISE_FUNCTIONS[name](text, rng)
        if noisy != text:
            text = noisy
            applied.append(name)
    if not applied:  # every chosen function was a no-op on this text: fall back to typos, then filler
        for name in ("typos", "filler"):
            noisy = NOISE_FUNCTIONS[name](text, rng) if name == "filler" else typos(text, rng, rate=1.0)
            if noisy != text:
                return noisy, [name]
    return text, applied
