"""``TeacherStep``: the datatrove base of every LLM-backed pipeline step.

A subclass overrides two hooks, as datatrove's ``BaseFilter.filter`` or distilabel's tasks do:

- ``format_input(doc) -> ChatRequest | list[ChatRequest] | None`` — what to ask (``None``: nothing; the
  document then reaches ``format_output`` with an empty result list);
- ``format_output(doc, results) -> Iterable[Document]`` — what to emit (``results`` are in request order;
  a failed one has ``error`` set, an unparsable one ``parse_error``). Return ``self.drop(doc, reason)`` to
  drop a document with a count.

The base streams: it keeps ``teacher.reorder_window`` documents requested ahead of the one it emits next, so up
to ``max_concurrency`` requests stay in flight across the whole shard (a slot freed by one reply goes to the
oldest request waiting), and emits documents in input order as their replies arrive; memory is bounded by the
window, not the shard. Every request goes through one ``Teacher`` (cache, concurrency, rate limits, retries,
one repair attempt as soon as a reply fails to parse, failed-requests JSONL); the teacher's accounting becomes
the step's stats (``teacher_requests``, ``teacher_cache_hits``, ``teacher_failed``,
``teacher_prompt_tokens``, …) next to the ``dropped_<reason>`` counts. ``format_input`` and ``format_output``
run in the step's thread, in input order.

Why not datatrove's ``InferenceRunner``: it retries only connection errors (fixed sleeps, no ``Retry-After``,
a 429 or 500 fails at once), drives non-localhost endpoints through the ``openai`` SDK with ~40 requests in
flight, and silently writes nothing without ``aiofiles``. The steps here keep datatrove's step model (stats,
sharding, executors, resumable tasks) and put the request path in ``client.Teacher``; datatrove still starts
the vLLM server for ``backend: vllm`` (``vllm.py``).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from datatrove.data import Document, DocumentsPipeline
from datatrove.pipeline.base import PipelineStep

from mixture_builder.teacher.accounting import TeacherStats
from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.stream import RequestStream, Ticket
from mixture_builder.teacher.types import ChatRequest, ChatResult

_STAT_FIELDS = ("requests", "succeeded", "failed", "retries", "cache_hits", "prompt_tokens", "completion_tokens",
                "truncated", "repairs", "repaired_ok", "parse_failures")


class TeacherStep(PipelineStep):
    """Base class of LLM-backed steps (see the module docstring)."""

    type = "🎓 - TEACHER"
    name = "teacher step"

    def __init__(self, teacher: TeacherConfig | dict[str, Any] | None = None) -> None:
        super().__init__()
        self.teacher_config = (teacher if isinstance(teacher, TeacherConfig)
                               else TeacherConfig.from_dict(teacher or {}))
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
        from tqdm.auto import tqdm

        teacher = self.teacher
        before = teacher.stats.snapshot()
        stream = teacher.stream()
        size = self.teacher_config.resolved_reorder_window
        refill = max(1, size // 16)  # documents per submission: one hand-over to the teacher's loop each
        window: deque[tuple[Document, Ticket]] = deque()
        docs, exhausted = iter(data), False
        bar = tqdm(unit="doc", desc=self.name, dynamic_ncols=True, mininterval=0.5,
                   disable=None if self.teacher_config.progress else True)
        try:
            while True:
                while not exhausted and len(window) <= size - refill:
                    exhausted = self._fill(stream, docs, window, refill)
                if not window:
                    return
                doc, ticket = window[0]  # stays in the window (cancelled on the way out) until its results are in
                with self.track_time():
                    results = stream.results(ticket)
                window.popleft()
                bar.update()
                for out in self.format_output(doc, results):
                    self.stat_update("emitted")
                    yield out
        finally:
            stream.cancel(ticket for _, ticket in window)
            bar.close()
            teacher.close()
            self._teacher = None
            self._record(teacher.stats - before)

    def _fill(self, stream: RequestStream, docs: Iterator[Document], window: deque[tuple[Document, Ticket]],
              count: int) -> bool:
        """Pull up to ``count`` documents, submit their requests in one batch; ``True`` when the input ran out."""
        pulled: list[Document] = []
        requests: list[list[ChatRequest]] = []
        for doc in islice(docs, count):
            self.stat_update("documents")
            made = self.format_input(doc)
            pulled.append(doc)
            requests.append([] if made is None else [made] if isinstance(made, ChatRequest) else list(made))
        window.extend(zip(pulled, stream.submit(requests)))
        return len(pulled) < count

    def _record(self, delta: TeacherStats) -> None:
        for name in _STAT_FIELDS:
            value = getattr(delta, name)
            if value:
                self.stat_update(f"teacher_{name}", value=value, unit="task")
        if delta.cost_usd:
            self.stat_update("teacher_cost_micro_usd", value=round(delta.cost_usd * 1e6), unit="task")
        for reason, count in delta.failures_by_reason.items():
            self.stat_update(f"teacher_failed_{reason}", value=count, unit="task")

