"""Client-side limits of one ``Teacher``: request slots served oldest-first, a shared cool-down after rate-limit
replies, requests/min and tokens/min buckets, and retry delays with jitter."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime


class PrioritySlots:
    """At most ``slots`` holders at once; waiters are served by lowest ``priority`` (then arrival).

    ``Teacher`` gives each request the sequence number of its submission, so a request coming back from a
    backoff retakes the next free slot ahead of newer requests, and the oldest documents of a stream finish
    first (what keeps an in-order reorder window moving).
    """

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._free = slots
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrival = itertools.count()

    @property
    def in_use(self) -> int:
        return self.slots - self._free

    async def acquire(self, priority: int = 0) -> None:
        if self._free > 0:  # a free slot means no live waiter: release() hands slots to waiters directly
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._arrival), waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a slot, then cancelled: pass it on
                self.release()
            else:
                waiter.cancel()  # skipped by release()
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, waiter = heapq.heappop(self._waiters)
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


class CoolDown:
    """A pause shared by every request of a client: after a 429 (or any reply with ``Retry-After``) no request
    starts until it ends, because rate limits are per key, not per request. A rate-limit reply to a request
    sent before the latest pause began is stale (the client has paused since) and starts no new pause."""

    def __init__(self) -> None:
        self.until = 0.0
        self.started = float("-inf")

    def extend(self, seconds: float, sent_at: float) -> None:
        """Pause for ``seconds`` after a rate-limit reply to a request sent at ``sent_at`` (monotonic)."""
        if sent_at < self.started:
            return
        now = time.monotonic()
        if now >= self.until:
            self.started = now
        self.until = max(self.until, now + seconds)

    async def wait(self) -> None:
        while (left := self.until - time.monotonic()) > 0:
            await asyncio.sleep(left)


class TokenBucket:
    """An async token bucket refilled at ``per_minute / 60`` per second, holding ``burst_s`` seconds of rate.

    ``acquire(n)`` waits until ``min(n, capacity)`` tokens are available, then charges all ``n``: a request
    larger than the bucket leaves the balance negative, so the next acquirer waits until it is paid back and
    the long-run rate never exceeds the limit. Waiters are served in arrival order.
    """

    def __init__(self, per_minute: float, burst_s: float = 1.0) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_s)
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self, amount: float = 1.0) -> None:
        amount = float(amount)
        needed = min(amount, self.capacity)
        async with self._lock:
            while True:
                now = time.monotonic()
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= needed:
                    self._tokens -= amount
                    return
                await asyncio.sleep((needed - self._tokens) / self.rate)


class RateLimiter:
    """Both limits of a config; either may be ``None`` (off)."""

    def __init__(self, requests_per_minute: float | None, tokens_per_minute: float | None) -> None:
        self.requests = TokenBucket(requests_per_minute) if requests_per_minute else None
        self.tokens = TokenBucket(tokens_per_minute) if tokens_per_minute else None

    async def acquire(self, tokens: int) -> None:
        if self.requests is not None:
            await self.requests.acquire(1)
        if self.tokens is not None:
            await self.tokens.acquire(tokens)


class Backoff:
    """Exponential backoff with equal jitter; a server's ``Retry-After`` takes precedence (capped)."""

    def __init__(self, base_s: float, max_s: float, seed: int = 0) -> None:
        self.base_s, self.max_s = base_s, max_s
        self._rng = random.Random(seed)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (``attempt`` counts from 0)."""
        if retry_after is not None and retry_after >= 0:
            return min(retry_after, self.max_s) + self._rng.uniform(0, 0.1 * min(retry_after, self.max_s))
        ceiling = min(self.max_s, self.base_s * 2**attempt)
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from a reply's headers: ``retry-after-ms`` (milliseconds, sent by OpenAI and Azure) or
    ``Retry-After`` (delta-seconds or an HTTP date); ``None`` when absent or unreadable. ``headers`` is
    case-insensitive (aiohttp's and httpx's are)."""
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
