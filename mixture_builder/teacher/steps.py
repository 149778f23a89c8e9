"""``TeacherStep``: the datatrove base of every LLM-backed pipeline step.

A subclass overrides two hooks, as datatrove's ``BaseFilter.filter`` or distilabel's tasks do:

- ``format_input(doc) -> ChatRequest | list[ChatRequest] | None`` — what to ask (``None``: nothing; the
  document then reaches ``format_output`` with an empty result list);
- ``format_output(doc, results) -> Iterable[Document]`` — what to emit (``results`` are in request order;
  a failed one has ``error`` set, an unparsable one ``parse_error``). Return ``self.drop(doc, reason)`` to
  drop a document with a count.

The base collects ``batch_size`` documents, sends all their requests through one ``Teacher`` (cache,
concurrency, rate limits, retries, one repair attempt on parse failures, failed-requests JSONL) and records the
teacher's accounting as step stats (``teacher_requests``, ``teacher_cache_hits``, ``teacher_failed``,
``teacher_prompt_tokens``, …) next to the ``dropped_<reason>`` counts.

Why not datatrove's ``InferenceRunner``: it retries only connection errors (fixed sleeps, no ``Retry-After``,
a 429 or 500 fails at once), drives non-localhost endpoints through the ``openai`` SDK with ~40 requests in
flight, and silently writes nothing without ``aiofiles``. The steps here keep datatrove's step model (stats,
sharding, executors, resumable tasks) and put the request path in ``client.Teacher``; datatrove still starts
the vLLM server for ``backend: vllm`` (``vllm.py``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from mixture_builder.teacher.accounting import TeacherStats
from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.types import ChatRequest, ChatResult

_STAT_FIELDS = ("requests", "succeeded", "failed", "retries", "cache_hits", "prompt_tokens", "completion_tokens",
                "truncated", "repairs", "repaired_ok", "parse_failures")


class TeacherStep(PipelineStep):
    """Base class of LLM-backed steps (see the module docstring)."""

    type = "🎓 - TEACHER"
    name = "teacher step"

    def __init__(self, teacher: TeacherConfig | dict[str, Any] | None = None, batch_size: int = 256) -> None:
        super().__init__()
        self.teacher_config = (teacher if isinstance(teacher, TeacherConfig)
                               else TeacherConfig.from_dict(teacher or {}))
        self.batch_size = batch_size
        self._teacher: Any = None
        self._teacher_pid = 0

    # ------------------------------------------------------------------ hooks
    def format_input(self, doc: Document) -> ChatRequest | list[ChatRequest] | None:
        raise NotImplementedError

    def format_output(self, doc: Document, results: list[ChatResult]) -> Iterable[Document]:
        raise NotImplementedError

    # ------------------------------------------------------------------ helpers for subclasses
    def drop(self, doc: Document, reason: str) -> list[Document]:
        """Count ``dropped_<reason>`` and emit nothing."""
        self.stat_update(f"dropped_{reason}")
        return []

    @property
    def teacher(self) -> Any:
        """The step's ``Teacher`` (created in the worker process on first use)."""
        if self._teacher is None or self._teacher_pid != os.getpid():  # a forked worker builds its own

            self._teacher = Teacher.from_config(self.teacher_config)
            self._teacher_pid = os.getpid()
        return self._teacher

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_teacher"] = None  # connections, threads and the SQLite handle stay in their process
        return state

    # ------------------------------------------------------------------ datatrove entry point
    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        if data is None:
            return
        iterator = iter(data)
        try:
            while batch := list(islice(iterator, self.batch_size)):
                yield from self._process(batch)
        finally:
            if self._teacher is not None:
                self._teacher.close()
                self._teacher = None

    def _process(self, batch: list[Document]) -> Iterator[Document]:
        spans: list[tuple[int, int]] = []
        requests: list[ChatRequest] = []
        for doc in batch:
            self.stat_update("documents")
            made = self.format_input(doc)
            made = [] if made is None else [made] if isinstance(made, ChatRequest) else list(made)
            spans.append((len(requests), len(requests) + len(made)))
            requests.extend(made)
        before = self.teacher.stats.snapshot()
        with self.track_time(unit="batch"):
            results = self.teacher.generate(requests, desc=self.name) if requests else []
        self._record(self.teacher.stats - before)
        for doc, (start, end) in zip(batch, spans):
            for out in self.format_output(doc, results[start:end]):
                self.stat_update("emitted")
                yield out

    def _record(self, delta: TeacherStats) -> None:
        for name in _STAT_FIELDS:
            value = getattr(delta, name)
            if value:
                self.stat_update(f"teacher_{name}", value=value, unit="batch")
        if delta.cost_usd:
            self.stat_update("teacher_cost_micro_usd", value=round(delta.cost_usd * 1e6), unit="batch")
        for reason, count in delta.failures_by_reason.items():
            self.stat_update(f"teacher_failed_{reason}", value=count, unit="batch")
