"""The rewards' embedding helper: dedup, cache, eviction, bulk mode."""

from __future__ import annotations

import numpy as np

from lm_mixup_train import embedding


def test_embed_dedups_caches_and_evicts(monkeypatch) -> None:
    calls: list[list[str]] = []

    def fake_model(texts, model_name, batch_size, device):  # stands in for sentence-transformers: counts what is embedded
        calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    monkeypatch.setattr(embedding, "_embed_unique", fake_model)
    monkeypatch.setattr(embedding, "CACHE_SIZE", 3)
    monkeypatch.setattr(embedding, "_CACHE", type(embedding._CACHE)())
    out = embedding.embed(["a", "bb", "a"])
    assert calls == [["a", "bb"]] and out.tolist() == [[1, 1], [2, 1], [1, 1]]
    embedding.embed(["bb", "ccc"])  # "bb" from the cache
    assert calls[-1] == ["ccc"]
    embedding.embed(["a", "dddd", "eeeee"])  # "a" is a hit; cache of 3 drops the oldest others
    assert calls[-1] == ["dddd", "eeeee"] and {t for _, t in embedding._CACHE} == {"a", "dddd", "eeeee"}
    embedding.embed(["a", "bb"], cache=False)
    assert calls[-1] == ["a", "bb"]
    assert embedding.embed([]).shape[0] == 0


def test_real_model_vectors_are_normalised() -> None:
    vectors = embedding.embed(["The river is long.", "Paris is in France.", "The river is long."])
    assert vectors.dtype == np.float32 and vectors.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(vectors[0], vectors[2])
