"""``Teacher``: the one way the toolkit calls an LLM.

``Teacher.from_config(cfg).generate(requests)`` returns one ``ChatResult`` per request, in order. Inside:
the SQLite cache is consulted first (``cache.py``); identical requests in a batch are sent once; at most
``max_concurrency`` requests are in flight, under optional requests/min and tokens/min limits; 429/5xx/
timeouts/dropped connections/malformed bodies are retried with exponential backoff and jitter, honouring
``Retry-After``, up to ``max_retries`` times, after which the request is recorded as failed (result ``error``,
a line in the failed-requests JSONL, ``stats.failed``). A request with a template is parsed; a parse failure
is retried once with a repair instruction and then recorded in ``parse_error``. Every backend (HTTP endpoint,
vLLM on the node, embedded CPU model) sits behind the same ``Transport`` interface, so cache, accounting and
results are the same whichever answers.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mixture_builder.teacher.embedded import EmbeddedTransport
from mixture_builder.teacher.http import make_http_transport
from mixture_builder.teacher.vllm import VLLMTransport

if TYPE_CHECKING:
    from typing_extensions import Self

from mixture_builder.errors import InputError
from mixture_builder.teacher.accounting import FailureLog, TeacherStats, cost_usd
from mixture_builder.teacher.cache import ResponseCache, request_key
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.ratelimit import Backoff, RateLimiter
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
    semaphore: asyncio.Semaphore
    in_flight: int
    limiter: RateLimiter


def ping(config: TeacherConfig, prompt: str = "Say hello in five words.") -> str:
    """One request to the configured teacher: its reply, latency and token counts (or the failure)."""
    import time

    with Teacher.from_config(config) as teacher:
        start = time.perf_counter()
        (result,) = teacher.generate([ChatRequest([{"role": "user", "content": prompt}], tag="ping")])
        took = time.perf_counter() - start
    if result.error:
        return f"{config.backend} {teacher.model}: FAILED after {took:.2f}s: {result.error}"
    return (f"{config.backend} {teacher.model}: {took:.2f}s, {result.prompt_tokens} prompt + "
            f"{result.completion_tokens} completion tokens, finish {result.finish_reason}\n{result.text}")


class _LoopThread:
    """A private event loop in a daemon thread, so ``generate`` works even inside a running loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="teacher-loop", daemon=True)
        self._thread.start()

    def run(self, coroutine: Any) -> Any:
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result()
        except BaseException:  # e.g. Ctrl-C in the caller: stop the requests still in flight
            future.cancel()
            raise

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


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
        self._loop_thread: _LoopThread | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: TeacherConfig | dict[str, Any]) -> Teacher:
        return cls(config if isinstance(config, TeacherConfig) else TeacherConfig.from_dict(config))

    # ------------------------------------------------------------------ public API
    def generate(self, requests: Sequence[ChatRequest], *, desc: str | None = None) -> list[ChatResult]:
        """Results for ``requests`` in order (blocking; concurrent inside)."""
        with self._lock:
            if self._loop_thread is None:
                self._loop_thread = _LoopThread()
        return self._loop_thread.run(self.agenerate(requests, desc=desc))

    async def agenerate(self, requests: Sequence[ChatRequest], *, desc: str | None = None) -> list[ChatResult]:
        """Results for ``requests`` in order."""
        results = await self._complete_all(list(requests), desc=desc)
        await self._parse_and_repair(list(requests), results)
        return results

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
    def _loop_state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._per_loop.get(loop)
        if state is None:
            transport = self._make_transport()
            in_flight = getattr(transport, "max_in_flight", self.config.max_concurrency)
            state = _LoopState(transport, asyncio.Semaphore(in_flight), in_flight,
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
        from tqdm.auto import tqdm

        keys = [self.key(r) for r in requests]
        results: list[ChatResult | None] = [None] * len(requests)
        cached = self.cache.get_many(keys) if self.cache is not None else {}
        groups: dict[str, list[int]] = {}
        for index, key in enumerate(keys):
            if key in cached:
                results[index] = cached[key]
                self.stats.cache_hits += 1
            else:
                groups.setdefault(key, []).append(index)
        bar = tqdm(total=len(requests), initial=len(requests) - sum(map(len, groups.values())), unit="req",
                   desc=desc or f"teacher {self.model}", disable=None if self.config.progress else True,
                   dynamic_ncols=True, mininterval=0.5)

        pending = iter(groups.items())

        async def worker() -> None:  # a fixed pool of workers pulls work: memory stays flat for huge batches
            for key, indices in pending:
                result = await self._send(key, requests[indices[0]])
                for index in indices:
                    results[index] = result
                bar.update(len(indices))

        tasks = [asyncio.ensure_future(worker()) for _ in range(min(len(groups), self._loop_state().in_flight))]
        try:
            if tasks:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
                for task in done:  # a worker that raised (e.g. a ConfigError) stops the batch
                    task.result()
        finally:  # never leave sibling workers running (also on cancellation) while the caller closes up
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            bar.close()
        return results  # type: ignore[return-value]

    async def _send(self, key: str, request: ChatRequest) -> ChatResult:
        state = self._loop_state()
        transport, semaphore, limiter = state.transport, state.semaphore, state.limiter
        payload = self.payload(request)
        budget = estimate_tokens(request.messages) + int(payload.get("max_tokens") or 0)
        reason, attempts = "unknown", 0
        async with semaphore:
            self.stats.requests += 1
            while True:
                await limiter.acquire(budget)
                attempts += 1
                self.stats.attempts += 1
                try:
                    result = await transport.complete(payload)
                    break
                except TransientError as error:
                    reason = error.reason
                    if attempts > self.config.max_retries:
                        return self._fail(key, request, reason, attempts)
                    self.stats.retries += 1
                    await asyncio.sleep(self._backoff.delay(attempts - 1, error.retry_after))
                except PermanentError as error:
                    return self._fail(key, request, error.reason, attempts)
                except ValueError as error:  # a configuration problem (e.g. a missing model): stop and say so
                    if isinstance(error, InputError):
                        raise
                    return self._fail(key, request, f"unexpected: {type(error).__name__}: {error}", attempts)
                except Exception as error:  # noqa: BLE001 — an unexpected library error: record it, never lose it
                    return self._fail(key, request, f"unexpected: {type(error).__name__}: {error}", attempts)
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

    async def _parse_and_repair(self, requests: list[ChatRequest], results: list[ChatResult]) -> None:
        repair_at: list[int] = []
        repairs: list[ChatRequest] = []
        for index, (request, result) in enumerate(zip(requests, results)):
            template = request.template
            if template is None or not result.ok:
                continue
            try:
                result.parsed = template.parse(result.text)
            except OutputParseError as error:
                reason = str(error) + (" (output truncated)" if result.finish_reason == "length" else "")
                repair_at.append(index)
                repairs.append(ChatRequest(messages=template.repair_messages(request.messages, result.text, reason),
                                           params=request.params, tag=f"{request.tag}:repair"))
        if not repairs:
            return
        self.stats.repairs += len(repairs)
        repaired = await self._complete_all(repairs, desc=f"repair {self.model}")
        for index, fixed in zip(repair_at, repaired):
            original, template = results[index], requests[index].template
            if not fixed.ok:
                original.parse_error = f"repair failed: {fixed.error}"
            else:
                try:
                    parsed = template.parse(fixed.text)  # type: ignore[union-attr]
                except OutputParseError as error:
                    original.parse_error = str(error)
                else:
                    self.stats.repaired_ok += 1
                    results[index] = ChatResult(
                        text=fixed.text, finish_reason=fixed.finish_reason, parsed=parsed, repaired=True,
                        prompt_tokens=original.prompt_tokens + fixed.prompt_tokens,
                        completion_tokens=original.completion_tokens + fixed.completion_tokens,
                        cached=original.cached and fixed.cached)
                    continue
            self.stats.parse_failures += 1
