"""Rate limits hold for requests larger than the token bucket, and a failing request stops its batch."""

from __future__ import annotations

import asyncio
import time

import pytest

from mixture_builder.errors import ConfigError
from mixture_builder.teacher import http
from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.ratelimit import RateLimiter, TokenBucket
from mixture_builder.teacher.testing import Fault, last_user_message
from mixture_builder.teacher.types import ChatRequest


async def _achieved_rate(limiter_acquire, amount: int, count: int) -> float:
    """Tokens per second granted after the first (burst) acquisition."""
    await limiter_acquire(amount)
    start = time.monotonic()
    for _ in range(count - 1):
        await limiter_acquire(amount)
    return (count - 1) * amount / (time.monotonic() - start)


def test_tokens_per_minute_holds_for_requests_larger_than_the_bucket():
    limiter = RateLimiter(None, tokens_per_minute=60_000)  # 1,000 tokens/s, a bucket of 1,000
    rate = asyncio.run(_achieved_rate(limiter.acquire, amount=2_000, count=2))
    assert rate <= 1_000 * 1.02


@pytest.mark.parametrize("amount", [1_500, 4_000])
def test_token_bucket_rate_for_amounts_beyond_its_capacity(amount):
    bucket = TokenBucket(per_minute=600_000, burst_s=0.1)  # 10,000 tokens/s, a bucket of 1,000
    rate = asyncio.run(_achieved_rate(bucket.acquire, amount=amount, count=4))
    assert 10_000 * 0.5 < rate <= 10_000 * 1.02


@pytest.mark.timeout(30)
def test_a_failing_request_cancels_the_requests_still_in_flight(serve, make_config, monkeypatch):
    server = serve(lambda r: Fault.hang(5.0) if last_user_message(r).startswith("slow") else "ok")
    cancelled: list[str] = []
    real_complete = http.AiohttpTransport.complete

    async def complete(self, payload):
        prompt = payload["messages"][-1]["content"]
        if prompt == "bad":
            await asyncio.sleep(0.3)  # the slow requests are in flight by now
            raise ConfigError("the model 'x' does not exist", fix="check teacher.model")
        try:
            return await real_complete(self, payload)
        except asyncio.CancelledError:
            cancelled.append(prompt)
            raise

    monkeypatch.setattr(http.AiohttpTransport, "complete", complete)
    config = make_config(server, max_concurrency=4, timeout_s=10.0, max_retries=0, use_cache=False)
    requests = [ChatRequest([{"role": "user", "content": p}]) for p in ("slow1", "slow2", "slow3", "bad")]
    with Teacher.from_config(config) as teacher:
        start = time.monotonic()
        with pytest.raises(ConfigError, match="does not exist"):
            teacher.generate(requests)
        assert time.monotonic() - start < 3
        assert sorted(cancelled) == ["slow1", "slow2", "slow3"]  # nothing keeps running after the error
