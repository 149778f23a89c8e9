"""Run a local checkpoint folder or Hub model id (e.g. one `lm-mixup train` produced) as the distiller.

``transformers`` on CPU/GPU (the embedded teacher's batched ``generate_batch``: left padding, chat template,
greedy unless ``temperature > 0``), or vLLM on GPU (optional extra, imported lazily). Given a reply ``layout``,
generation is format-guided: a logits processor (transformers) or ``StructuredOutputsParams(regex=...)``
(vLLM, ``vllm_sampling_kwargs``). Replies are stored in the teacher layer's response cache (same keys: model, messages,
generation parameters, the model string carrying :func:`checkpoint_fingerprint`), so a killed run resumes
without generating twice and a checkpoint retrained into the same folder is asked again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mixture_builder.errors import ConfigError
from mixture_builder.teacher.cache import ResponseCache, request_key
from mixture_builder.teacher.embedded import generate_batch
from mixture_builder.teacher.layout import Layout
from mixture_builder.teacher.types import ChatResult

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


def checkpoint_fingerprint(checkpoint: str) -> str:
    """A short content hash of a checkpoint: for a local folder, sha256 over ``config.json`` and each weight
    file's name, size and mtime_ns; for a Hub id, the revision cached locally (else the id itself)."""
    path = Path(checkpoint).expanduser()
    digest = hashlib.sha256()
    if path.is_dir():
        config = path / "config.json"
        digest.update(config.read_bytes() if config.is_file() else b"")
        for weight in sorted(p for p in path.rglob("*") if p.is_file() and p.name.endswith(WEIGHT_SUFFIXES)):
            stat = weight.stat()
            digest.update(f"{weight.relative_to(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()[:16]
    if path.is_file():
        stat = path.stat()
        digest.update(f"{path.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = try_to_load_from_cache(checkpoint, "config.json")
    except ValueError:  # not a valid repo id (HFValidationError): the id stands for itself
        cached = None
    return Path(cached).parent.name if isinstance(cached, str) else checkpoint


def vllm_sampling_kwargs(temperature: float, max_tokens: int, seed: int, layout: Layout | None) -> dict[str, Any]:
    """``vllm.SamplingParams`` fields; with a layout, ``structured_outputs`` holds the
    ``StructuredOutputsParams`` fields (``regex``: the layout; vLLM >= 0.11's structured-output API)."""
    kwargs: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens, "seed": seed}
    if layout is not None:
        kwargs["structured_outputs"] = {"regex": layout.regex()}
    return kwargs


class CheckpointGenerator:
    """Chat completions from a checkpoint; ``generate(list_of_messages) -> list[ChatResult]``."""

    def __init__(
        self,
        checkpoint: str,
        *,
        engine: str = "transformers",
        max_new_tokens: int = 512,
        temperature: float = 0.0,
        batch_size: int = 4,
        cache_path: str | Path | None = None,
        seed: int = 0,
        layout: Layout | None = None,
    ) -> None:
        self.checkpoint = checkpoint
        self.engine = engine
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.batch_size = batch_size
        self.seed = seed
        self.cache_path = cache_path
        self.layout = layout
        self._model: Any = None
        self._cache: Any = None
        self._model_key: str | None = None

    @property
    def model_key(self) -> str:
        """The model string of cache keys: the checkpoint and its content fingerprint."""
        if self._model_key is None:
            self._model_key = f"{self.checkpoint}@{checkpoint_fingerprint(self.checkpoint)}"
        return self._model_key

    @property
    def params(self) -> dict[str, Any]:
        params = {"engine": self.engine, "max_tokens": self.max_new_tokens, "temperature": self.temperature,
                  "seed": self.seed}
        if self.layout is not None:  # guided and raw replies are cached apart
            params["layout"] = self.layout.to_dict()
        return params

    def generate(self, conversations: Sequence[list[dict[str, str]]]) -> list[ChatResult]:
        """One completion per conversation, in order (cached ones are not regenerated)."""
        if self.cache_path and self._cache is None:
            self._cache = ResponseCache(self.cache_path)
        keys = [request_key(self.model_key, list(m), self.params) for m in conversations]
        results: dict[int, ChatResult] = {}
        if self._cache is not None:
            cached = self._cache.get_many(keys)
            results = {i: cached[k] for i, k in enumerate(keys) if k in cached}
        todo = [i for i in range(len(conversations)) if i not in results]
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start:start + self.batch_size]
            outputs = self._generate_batch([conversations[i] for i in batch])
            for i, result in zip(batch, outputs):
                results[i] = result
                if self._cache is not None:
                    self._cache.put(keys[i], self.model_key, result)
        return [results[i] for i in range(len(conversations))]

    def _generate_batch(self, conversations: list[list[dict[str, str]]]) -> list[ChatResult]:
        if self.engine == "vllm":
            return self._generate_vllm(conversations)
        return self._generate_transformers(conversations)

    def _generate_transformers(self, conversations: list[list[dict[str, str]]]) -> list[ChatResult]:
        try:
            return generate_batch(self.checkpoint, conversations, max_tokens=self.max_new_tokens,
                                  temperature=self.temperature, seed=self.seed, layout=self.layout)
        except OSError as error:
            raise ConfigError(f"cannot load checkpoint {self.checkpoint!r} ({error})", field="distiller.checkpoint",
                              fix="give a local model folder or a Hub id present in the local cache") from error

    def _generate_vllm(self, conversations: list[list[dict[str, str]]]) -> list[ChatResult]:
        try:
            from vllm import LLM, SamplingParams
        except ImportError as error:
            raise ConfigError("engine 'vllm' needs vLLM", field="distiller.engine",
                              fix="pip install 'lm-mixup[vllm]' on a GPU machine, or use engine: transformers") from error
        if self._model is None:
            self._model = LLM(model=self.checkpoint, seed=self.seed)
        kwargs = vllm_sampling_kwargs(self.temperature, self.max_new_tokens, self.seed, self.layout)
        if "structured_outputs" in kwargs:
            from vllm.sampling_params import StructuredOutputsParams

            kwargs["structured_outputs"] = StructuredOutputsParams(**kwargs["structured_outputs"])
        params = SamplingParams(**kwargs)
        outputs = self._model.chat(conversations, params, use_tqdm=False)
        return [ChatResult(text=o.outputs[0].text, finish_reason=o.outputs[0].finish_reason,
                           prompt_tokens=len(o.prompt_token_ids or []),
                           completion_tokens=len(o.outputs[0].token_ids)) for o in outputs]

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None
