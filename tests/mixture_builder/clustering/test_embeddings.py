"""Embeddings with the offline MiniLM: normalised float32, cached model, configurable text."""

from __future__ import annotations

import numpy as np
import pytest

from mixture_builder.clustering.embeddings import embed_texts, embedding_text, load_embedder
from mixture_builder.errors import ConfigError
from mixture_builder.records import make_instruction, make_passage


def test_embed_texts_normalised_and_semantic() -> None:
    texts = ["How do I bake bread?", "Give me a recipe for baking a loaf of bread.", "What is the capital of Peru?"]
    vectors = embed_texts(texts, batch_size=2)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] + 0.3
    assert embed_texts([]).shape == (0, 384)


def test_a_vector_does_not_depend_on_the_texts_embedded_with_it() -> None:
    """Texts of other lengths in the same call would pad it; grouping by token length keeps every vector the same
    whatever the split, order or batch size (what makes distill's output independent of its number of tasks)."""
    texts = [f"Question {i}: " + "why is the sky blue? " * (1 + i % 9) + "Answer: " + "scattering. " * (i % 5)
             for i in range(40)]
    whole = embed_texts(texts, batch_size=16)
    split = np.concatenate([embed_texts(texts[:13], batch_size=16), embed_texts(texts[13:], batch_size=5)])
    reordered = embed_texts(texts[::-1], batch_size=3)[::-1]
    assert np.array_equal(whole, split) and np.array_equal(whole, reordered)
    assert np.array_equal(embed_texts(texts[7:8])[0], whole[7])


def test_model_is_loaded_once_per_process() -> None:
    assert load_embedder() is load_embedder(None)


def test_auto_device_is_sentence_transformers_choice() -> None:
    """'auto' lets sentence-transformers pick (a GPU when there is one; here the CPU), same vectors as 'cpu'."""
    assert load_embedder(device="auto").device.type in ("cpu", "cuda", "mps")
    texts = ["How do I bake bread?", "What is the capital of Peru?"]
    assert np.allclose(embed_texts(texts, device="auto"), embed_texts(texts), atol=1e-5)


def test_bad_model_name_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="embedding model"):
        load_embedder(str(tmp_path / "missing-model"))


def test_embedding_text_defaults_and_fields() -> None:
    doc = make_instruction(instruction="Add the numbers.", input="2 and 3", output="5", source="s",
                           license="mit", source_id=1)
    assert embedding_text(doc) == "Add the numbers.\n\n2 and 3\n\n5"
    assert embedding_text(doc, ["instruction", "output"]) == "Add the numbers.\n\n5"
    passage = make_passage("Some text.", title="T", source="wiki", license="cc", doc_id="d1")
    assert embedding_text(passage) == "Some text."
    assert embedding_text(passage, ["title", "text"]) == "T\n\nSome text."
