"""Sentence embeddings for the rewards: one model per process, L2-normalised float32 vectors, a small
per-process cache (the alignment and quality rewards embed the same answers in one GRPO step), and a running
count of the time spent embedding (read by the throughput benchmark)."""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mixture_builder.clustering.embeddings import embed_texts

CACHE_SIZE = 8192
"""Vectors kept per process (least recently used dropped first)."""


@dataclass
class EmbedStats:
    """Cumulative embedding work in this process."""

    calls: int = 0
    texts: int = 0
    cache_hits: int = 0
    seconds: float = 0.0

    def reset(self) -> None:
        self.calls, self.texts, self.cache_hits, self.seconds = 0, 0, 0, 0.0


stats = EmbedStats()
"""Process-wide counters, updated by :func:`embed`."""

_CACHE: OrderedDict[tuple[str | None, str], np.ndarray] = OrderedDict()


def resolve_device(device: str | None = None) -> str:
    """The device the embedding model runs on: ``device`` when given, else ``cuda:{LOCAL_RANK}`` (this
    process's GPU under ``accelerate``/``torchrun``; ``cuda:0`` without it) when CUDA is available, else ``cpu``."""
    if device:
        return device
    import torch

    if torch.cuda.is_available():
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0') or 0)}"
    return "cpu"


def embed(
    texts: Sequence[str],
    model_name: str | None = None,
    batch_size: int = 64,
    *,
    cache: bool = True,
    device: str | None = None,
) -> np.ndarray:
    """Embed ``texts`` → ``(len(texts), dim)`` float32, L2-normalised. Each distinct text is embedded once, in
    one batch; with ``cache``, recently embedded texts come from the per-process cache (bulk jobs such as
    building a library pass ``cache=False``).

    ``model_name`` is any sentence-transformers model (a local path or Hub id); ``None`` is the offline MiniLM.
    ``device`` is resolved by :func:`resolve_device` (``None``: this process's GPU when there is one).
    """
    start = time.perf_counter()
    unique = list(dict.fromkeys(texts))
    if not cache:
        vectors = _embed_unique(unique, model_name, batch_size, device) if unique else np.zeros((0, 0), np.float32)
        index = {text: i for i, text in enumerate(unique)}
        out = vectors[[index[t] for t in texts]] if texts else vectors
        stats.calls, stats.texts = stats.calls + 1, stats.texts + len(unique)
        stats.seconds += time.perf_counter() - start
        return np.ascontiguousarray(out, dtype=np.float32)
    for text in unique:  # hits become most recent, so the eviction below never drops them
        if (model_name, text) in _CACHE:
            _CACHE.move_to_end((model_name, text))
    missing = [t for t in unique if (model_name, t) not in _CACHE]
    if missing:
        for text, vector in zip(missing, _embed_unique(missing, model_name, batch_size, device)):
            _CACHE[(model_name, text)] = vector
        while len(_CACHE) > max(CACHE_SIZE, len(unique)):
            _CACHE.popitem(last=False)
    stats.calls += 1
    stats.texts += len(missing)
    stats.cache_hits += len(unique) - len(missing)
    stats.seconds += time.perf_counter() - start
    if not texts:
        return np.zeros((0, 0), dtype=np.float32)
    return np.ascontiguousarray(np.stack([_CACHE[(model_name, t)] for t in texts]), dtype=np.float32)


def _embed_unique(texts: list[str], model_name: str | None, batch_size: int, device: str | None) -> np.ndarray:
    return embed_texts(texts, model_name=model_name, batch_size=batch_size, show_progress=False,
                       device=resolve_device(device))
