"""``Teacher``: the one way the toolkit calls an LLM.

``Teacher.from_config(cfg).generate(requests)`` returns one ``ChatResult`` per request, in order;
``stream()`` keeps many documents' requests in flight and reads their results back in order (``stream.py``,
what ``TeacherStep`` streams a shard with). Inside: the SQLite cache is consulted first (``cache.py``); identical requests in flight at the same
time are sent once; at most ``max_concurrency`` requests are in flight, oldest submission first, under optional
requests/min and tokens/min limits; 5xx/timeouts/dropped connections/malformed bodies are retried with
exponential backoff and jitter, the request giving its slot up while it waits; a 429 or a ``Retry-After``
pauses the whole client (a shared cool-down: rate limits are per key). After ``max_retries`` retries a
request is recorded as failed (result ``error``, a line in the failed-requests JSONL, ``stats.failed``). A
request with a template is parsed as soon as its reply arrives; a parse failure is retried once with a repair
instruction and then recorded in ``parse_error``. Every backend (HTTP endpoint, vLLM on the node, embedded
CPU model) sits behind the same ``Transport`` interface, so cache, accounting and results are the same
whichever answers.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from mixture_builder.teacher.embedded import EmbeddedTransport
from mixture_builder.teacher.http import make_http_transport
from mixture_builder.teacher.vllm import VLLMTransport

if TYPE_CHECKING:
    from typing_extensions import Self

from mixture_builder.teacher.accounting import FailureLog, TeacherStats, cost_usd
from mixture_builder.teacher.aio import LoopThread, all_or_cancel
from mixture_builder.teacher.cache import ResponseCache, request_key
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.ratelimit import Backoff, CoolDown, PrioritySlots, RateLimiter
from mixture_builder.teacher.stream import RequestStream
from mixture_builder.teacher.templates import OutputParseError
from mixture_builder.teacher.types import ChatRequest, ChatResult, PermanentError, TransientError

__all__ = ["ChatRequest", "ChatResult", "Teacher", "estimate_tokens", "ping"]

logger = logging.getLogger(__name__)


def estimate_tokens(messages: list[dict[str, Any]]) -> int:
    """A cheap prompt-size estimate (≈4 characters per token, plus per-message overhead)."""
    return sum(len(str(m.get("content", ""))) // 4 + 4 for m in messages)


@dataclass
class _LoopState:
    """What a ``Teacher`` keeps per event loop (aiohttp sessions and asyncio primitives are loop-bound)."""

    transport: Any
    slots: PrioritySlots
    limiter: RateLimiter
    running: dict[str, asyncio.Future[ChatResult]] = field(default_factory=dict)  # key → reply of its sender


def ping(config: TeacherConfig, prompt: str = "Say hello in five words.") -> str:
    """One request to the configured teacher: its reply, latency and token counts (or the failure)."""
    with Teacher.from_config(config) as teacher:
        start = time.perf_counter()
        (result,) = teacher.generate([ChatRequest([{"role": "user", "content": prompt}], tag="ping")])
        took = time.perf_counter() - start
    if result.error:
        return f"{config.backend} {teacher.model}: FAILED after {took:.2f}s: {result.error}"
    return (f"{config.backend} {teacher.model}: {took:.2f}s, {result.prompt_tokens} prompt + "
            f"{result.completion_tokens} completion tokens, finish {result.finish_reason}\n{result.text}")


class Teacher:
    """Concurrent, cached, retrying chat completions against one backend (see the module docstring)."""

    def __init__(self, config: TeacherConfig) -> None:
        self.config = config
        self.model = config.model_id
        self.stats = TeacherStats()
        self.failures = FailureLog(config.resolved_failed_path)
        self.cache = ResponseCache(config.resolved_cache_path) if config.use_cache else None
        self._backoff = Backoff(config.backoff_base_s, config.backoff_max_s, seed=config.seed)
        self._per_loop: dict[asyncio.AbstractEventLoop, _LoopState] = {}
        self._loop_thread: LoopThread | None = None
        self._lock = threading.Lock()
        self._cool_down = CoolDown()
        self._order = itertools.count()  # submission order: the slot priority of a request

    @classmethod
    def from_config(cls, config: TeacherConfig | dict[str, Any]) -> Teacher:
        return cls(config if isinstance(config, TeacherConfig) else TeacherConfig.from_dict(config))

    # ------------------------------------------------------------------ public API
    def generate(self, requests: Sequence[ChatRequest], *, desc: str | None = None) -> list[ChatResult]:
        """Results for ``requests`` in order (blocking; concurrent inside)."""
        return self._private_loop().run(self.agenerate(requests, desc=desc))

    async def agenerate(self, requests: Sequence[ChatRequest], *, desc: str | None = None) -> list[ChatResult]:
        """Results for ``requests`` in order."""
        return await self._complete_all(list(requests), desc=desc)

    def stream(self) -> RequestStream:
        """A ``RequestStream`` on the private loop: documents' requests submitted in batches, results read back
        in order while later documents are still in flight (what ``TeacherStep`` streams a shard with)."""
        return RequestStream(self, self._private_loop())

    def next_priority(self) -> int:
        """The slot priority of the next submission (earlier submissions get free slots first)."""
        return next(self._order)

    def payload(self, request: ChatRequest) -> dict[str, Any]:
        """The request body: model, messages, the config's generation parameters overridden by the request's."""
        params: dict[str, Any] = {"temperature": self.config.temperature, "max_tokens": self.config.max_tokens}
        template = request.template
        if template is not None and "response_format" not in request.params:
            response_format = template.response_format(self.config.resolved_response_format)
            if response_format is not None:
                params["response_format"] = response_format
        params.update(request.params)
        return {"model": self.model, "messages": request.messages, **params}

    def key(self, request: ChatRequest) -> str:
        """The cache key of a request."""
        payload = self.payload(request)
        return request_key(payload.pop("model"), payload.pop("messages"), payload)

    def provenance(self, *templates: Any) -> str:
        """``model|template@version,...``: what output records name as their teacher."""
        names = ",".join(t.id for t in templates)
        return f"{self.model}|{names}" if names else self.model

    def close(self) -> None:
        """Close connections, the cache and the private loop (and log the run's accounting)."""
        if self.stats.requests or self.stats.cache_hits:
            logger.info("teacher %s: %s", self.model, self.stats.as_dict())
        if self._loop_thread is not None:
            self._loop_thread.run(self._close_loop_state())
            self._loop_thread.stop()
            self._loop_thread = None
        if self.cache is not None:
            self.cache.close()
            self.cache = None

    async def aclose(self) -> None:
        await self._close_loop_state()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ internals
    def _private_loop(self) -> LoopThread:
        with self._lock:
            if self._loop_thread is None:
                self._loop_thread = LoopThread()
            return self._loop_thread

    def _loop_state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._per_loop.get(loop)
        if state is None:
            transport = self._make_transport()
            in_flight = getattr(transport, "max_in_flight", self.config.max_concurrency)
            state = _LoopState(transport, PrioritySlots(in_flight),
                               RateLimiter(self.config.requests_per_minute, self.config.tokens_per_minute))
            self._per_loop[loop] = state
        return state

    async def _close_loop_state(self) -> None:
        state = self._per_loop.pop(asyncio.get_running_loop(), None)
        if state is not None:
            await state.transport.close()

    def _make_transport(self) -> Any:
        backend = self.config.backend
        if backend == "embedded":
            return EmbeddedTransport(self.config)
        if backend == "vllm":
            return VLLMTransport(self.config)

        return make_http_transport(self.config)

    async def _complete_all(self, requests: list[ChatRequest], desc: str | None) -> list[ChatResult]:
        """``generate``: a bounded pool of workers pulls distinct requests, so memory stays flat for huge lists."""
        from tqdm.auto import tqdm

        keys = [self.key(r) for r in requests]
        results: list[ChatResult | None] = [None] * len(requests)
        cached = self.cache.get_many(keys) if self.cache is not None else {}
        groups: dict[str, list[int]] = {}
        for index, key in enumerate(keys):
            groups.setdefault(key, []).append(index)
        bar = tqdm(total=len(requests), unit="req", desc=desc or f"teacher {self.model}", dynamic_ncols=True,
                   disable=None if self.config.progress else True, mininterval=0.5)
        pending = iter(groups.items())

        async def worker() -> None:
            for key, indices in pending:
                result = await self._complete_one(key, requests[indices[0]], cached.get(key), len(indices),
                                                  self._claim(key) if key not in cached else None,
                                                  self.next_priority())
                for n, index in enumerate(indices):
                    results[index] = replace(result) if n else result
                bar.update(len(indices))

        try:
            # more workers than slots (as many as a step's reorder window): a request backing off holds none
            await all_or_cancel([worker() for _ in range(min(len(groups), self.config.resolved_reorder_window))])
        finally:
            bar.close()
        return results  # type: ignore[return-value]

    def _drop_claims(self, claims: dict[str, tuple[asyncio.Future[ChatResult], bool]]) -> None:
        """Release the claims of a task cancelled before it sent them, so later twins do not wait forever."""
        state = self._per_loop.get(asyncio.get_running_loop())  # None once the teacher is closing
        running = state.running if state is not None else {}
        for key, (future, owner) in claims.items():
            if owner and not future.done():
                future.cancel()
                if running.get(key) is future:
                    del running[key]

    async def _complete_group(self, requests: list[ChatRequest], keys: list[str], cached: dict[str, ChatResult],
                              claims: dict[str, tuple[asyncio.Future[ChatResult], bool]],
                              priority: int) -> list[ChatResult]:
        """One submitted document: its distinct requests concurrently; copies for repeated ones."""
        if len(keys) == 1:  # the common case (a rater, a distiller), kept lean
            return [await self._complete_one(keys[0], requests[0], cached.get(keys[0]), 1, claims.get(keys[0]),
                                             priority)]
        unique = dict.fromkeys(keys)
        work = [self._complete_one(key, requests[keys.index(key)], cached.get(key), keys.count(key),
                                   claims.get(key), priority) for key in unique]
        done = [await work[0]] if len(work) == 1 else await all_or_cancel(work)
        by_key = dict(zip(unique, done))
        return [by_key[key] if keys.index(key) == index else replace(by_key[key]) for index, key in enumerate(keys)]

    async def _complete_one(self, key: str, request: ChatRequest, hit: ChatResult | None, copies: int,
                            claim: tuple[asyncio.Future[ChatResult], bool] | None, priority: int) -> ChatResult:
        """A cached reply (counted ``copies`` times) or a fetched one, parsed and repaired as it arrives."""
        if hit is not None:
            self.stats.cache_hits += copies
            result = replace(hit)  # a document's own copy: parsing writes into it
        else:
            result = await self._fetch(key, request, claim, priority)  # type: ignore[arg-type]
        return await self._parse_or_repair(request, result, priority)

    def _claim(self, key: str) -> tuple[asyncio.Future[ChatResult], bool]:
        """Join the request with this key already in flight (``False``), or become its sender (``True``)."""
        running = self._loop_state().running
        if key in running:
            return running[key], False
        running[key] = asyncio.get_running_loop().create_future()
        return running[key], True

    async def _fetch(self, key: str, request: ChatRequest, claim: tuple[asyncio.Future[ChatResult], bool],
                     priority: int) -> ChatResult:
        future, owner = claim
        if not owner:
            return replace(await asyncio.shield(future))
        try:
            result = await self._send(key, request, priority)
        except BaseException:
            future.cancel()  # joiners see a cancellation; the error itself goes to the sender's caller
            raise
        finally:
            self._loop_state().running.pop(key, None)
        future.set_result(result)
        return result

    async def _send(self, key: str, request: ChatRequest, priority: int) -> ChatResult:
        state = self._loop_state()
        payload = self.payload(request)
        budget = estimate_tokens(request.messages) + int(payload.get("max_tokens") or 0)
        attempts = 0
        while True:
            await state.slots.acquire(priority)
            try:
                await self._cool_down.wait()
                await state.limiter.acquire(budget)
                attempts += 1
                self.stats.attempts += 1
                if attempts == 1:  # counted once sent: requests == succeeded + failed
                    self.stats.requests += 1
                sent_at = time.monotonic()
                result = await state.transport.complete(payload)
                break
            except TransientError as error:
                transient = error
            except PermanentError as error:
                return self._fail(key, request, error.reason, attempts)
            # Only transport/API failures (the two above) are recorded as failed requests; anything else (a bad
            # setting, a bug) propagates with its traceback and stops the run.
            finally:
                state.slots.release()
            if attempts > self.config.max_retries:
                return self._fail(key, request, transient.reason, attempts)
            self.stats.retries += 1
            delay = self._backoff.delay(attempts - 1, transient.retry_after)
            if transient.retry_after is not None or transient.reason == "http_429":
                self._cool_down.extend(delay, sent_at)  # the whole client waits, this request included
            else:
                await asyncio.sleep(delay)  # only this request waits; its slot serves others meanwhile
        return self._succeed(key, request, result, attempts)

    def _succeed(self, key: str, request: ChatRequest, result: ChatResult, attempts: int) -> ChatResult:
        if result.text is None:
            return self._fail(key, request, f"empty_content (finish_reason={result.finish_reason})", attempts)
        self.stats.succeeded += 1
        self.stats.prompt_tokens += result.prompt_tokens
        self.stats.completion_tokens += result.completion_tokens
        self.stats.cost_usd += cost_usd(self.config.prices, result.prompt_tokens, result.completion_tokens)
        if result.finish_reason == "length":
            self.stats.truncated += 1
        if self.cache is not None:
            self.cache.put(key, self.model, result)
        return result

    def _fail(self, key: str, request: ChatRequest, reason: str, attempts: int) -> ChatResult:
        self.stats.failed += 1
        self.stats.failures_by_reason[reason.split(":")[0]] += 1
        self.failures.record(key=key, tag=request.tag, model=self.model, reason=reason, attempts=attempts,
                             messages=request.messages)
        return ChatResult(text=None, finish_reason=None, error=reason)

    async def _parse_or_repair(self, request: ChatRequest, result: ChatResult, priority: int) -> ChatResult:
        """Parse a templated reply; on failure ask once for a repair (same slot priority) and parse that."""
        template = request.template
        if template is None or not result.ok:
            return result
        try:
            result.parsed = template.parse(result.text)
            return result
        except OutputParseError as error:
            reason = str(error) + (" (output truncated)" if result.finish_reason == "length" else "")
        self.stats.repairs += 1
        repair = ChatRequest(messages=template.repair_messages(request.messages, result.text, reason),
                             params=request.params, tag=f"{request.tag}:repair")
        key = self.key(repair)
        hit = self.cache.get_many([key]).get(key) if self.cache is not None else None
        if hit is not None:
            self.stats.cache_hits += 1
        fixed = hit or await self._fetch(key, repair, self._claim(key), priority)
        if not fixed.ok:
            result.parse_error = f"repair failed: {fixed.error}"
        else:
            try:
                parsed = template.parse(fixed.text)  # type: ignore[arg-type]
            except OutputParseError as error:
                result.parse_error = str(error)
            else:
                self.stats.repaired_ok += 1
                return ChatResult(text=fixed.text, finish_reason=fixed.finish_reason, parsed=parsed, repaired=True,
                                  prompt_tokens=result.prompt_tokens + fixed.prompt_tokens,
                                  completion_tokens=result.completion_tokens + fixed.completion_tokens,
                                  cached=result.cached and fixed.cached)
        self.stats.parse_failures += 1
        return result

