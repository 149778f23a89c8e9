"""The real client path over HTTP against FakeOpenAIServer: faults, retries, limits, cache, accounting."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from multidict import CIMultiDict

from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.testing import FailFirst, Fault, last_user_message
from mixture_builder.teacher.types import ChatRequest

FAULTS = {
    "rate_limited": Fault.rate_limited(0.05),
    "server_error": Fault.error(500),
    "bad_gateway": Fault.error(502),
    "hang": Fault.hang(3.0),
    "malformed": Fault.malformed(),
    "disconnect": Fault.disconnect(),
}


def ask(*prompts: str, **params) -> list[ChatRequest]:
    return [ChatRequest(messages=[{"role": "user", "content": p}], params=dict(params), tag="t") for p in prompts]


def failed_lines(config) -> list[dict]:
    path = config.failed_path
    try:
        return [json.loads(line) for line in open(path)]
    except FileNotFoundError:
        return []


@pytest.mark.parametrize("client", ["aiohttp", "openai"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_transient_fault_is_retried_then_succeeds(serve, make_config, fault, client):
    server = serve(FailFirst(2, FAULTS[fault], reply=lambda r: "answer to " + last_user_message(r)))
    config = make_config(server, client=client, timeout_s=1.0, use_cache=False)
    with Teacher.from_config(config) as teacher:
        results = teacher.generate(ask("a", "b"))
    assert [r.text for r in results] == ["answer to a", "answer to b"]
    assert all(r.error is None for r in results)
    assert len(server.requests) == 6  # two failures then a success, per prompt
    stats = teacher.stats
    assert (stats.requests, stats.succeeded, stats.failed, stats.retries) == (2, 2, 0, 4)
    assert failed_lines(config) == []


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_persistent_fault_is_recorded_not_lost(serve, make_config, fault):
    def responder(request):
        return FAULTS[fault] if last_user_message(request) == "bad" else "fine"

    server = serve(responder)
    config = make_config(server, max_retries=2, timeout_s=0.5, use_cache=False)
    with Teacher.from_config(config) as teacher:
        results = teacher.generate(ask("ok1", "bad", "ok2"))
    assert [r.text for r in results] == ["fine", None, "fine"]
    assert results[1].error and results[0].error is None
    stats = teacher.stats
    assert stats.requests == stats.succeeded + stats.failed == 3
    assert stats.failed == 1 and stats.attempts == 2 + 3  # the bad one: 1 try + 2 retries
    sent_bad = [r for r in server.requests if last_user_message(r) == "bad"]
    assert len(sent_bad) == 3
    (line,) = failed_lines(config)
    assert line["reason"] == results[1].error and line["attempts"] == 3
    assert line["messages"] == [{"role": "user", "content": "bad"}] and line["tag"] == "t"


def test_client_error_is_not_retried(serve, make_config):
    server = serve(lambda r: Fault.error(400))
    config = make_config(server, use_cache=False)
    with Teacher.from_config(config) as teacher:
        (result,) = teacher.generate(ask("x"))
    assert result.error.startswith("http_400") and len(server.requests) == 1
    assert teacher.stats.retries == 0 and len(failed_lines(config)) == 1


def test_retry_after_is_honoured(serve, make_config):
    server = serve(FailFirst(1, Fault.rate_limited(retry_after=0.6), reply="late"))
    config = make_config(server, backoff_base_s=0.001, use_cache=False)
    start = time.monotonic()
    with Teacher.from_config(config) as teacher:
        (result,) = teacher.generate(ask("x"))
    assert result.text == "late" and time.monotonic() - start >= 0.6


def test_backoff_grows_with_jitter():
    from mixture_builder.teacher.ratelimit import Backoff, parse_retry_after

    backoff = Backoff(base_s=1.0, max_s=8.0, seed=1)
    delays = [backoff.delay(attempt) for attempt in range(6)]
    for attempt, delay in enumerate(delays):
        ceiling = min(8.0, 2.0**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert len({round(d, 6) for d in delays}) == len(delays)  # jittered
    assert 3.0 <= backoff.delay(0, retry_after=3.0) <= 3.3 and backoff.delay(0, retry_after=100) <= 8.8
    assert parse_retry_after({"retry-after": "2"}) == 2.0 and parse_retry_after({"retry-after": "soon"}) is None
    assert 0 <= parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) <= 0.0 + 1e-9
    assert parse_retry_after({}) is None
    # OpenAI's millisecond header wins over the coarser Retry-After; headers are case-insensitive mappings
    headers = CIMultiDict({"Retry-After-Ms": "250", "Retry-After": "3"})
    assert parse_retry_after(headers) == 0.25 and parse_retry_after(CIMultiDict({"Retry-After": "3"})) == 3.0


def test_truncated_output_is_returned_and_counted(serve, make_config):
    server = serve(lambda r: Fault.truncated("cut sho"))
    with Teacher.from_config(make_config(server)) as teacher:
        (result,) = teacher.generate(ask("x"))
    assert (result.text, result.finish_reason, result.error) == ("cut sho", "length", None)
    assert teacher.stats.truncated == 1


def test_results_keep_request_order_and_identical_requests_are_sent_once(serve, make_config):
    server = serve(lambda r: last_user_message(r).upper(), latency=0.01)
    prompts = [f"p{i % 7}" for i in range(40)]
    with Teacher.from_config(make_config(server)) as teacher:
        results = teacher.generate(ask(*prompts))
    assert [r.text for r in results] == [p.upper() for p in prompts]
    assert len(server.requests) == 7


def test_cache_serves_reruns_and_can_be_bypassed(serve, make_config):
    server = serve(lambda r: "v:" + last_user_message(r))
    config = make_config(server)
    with Teacher.from_config(config) as teacher:
        first = teacher.generate(ask("a", "b"))
    with Teacher.from_config(config) as teacher:
        second = teacher.generate(ask("a", "b", "c"))
    assert len(server.requests) == 3  # only "c" was sent again
    assert [r.cached for r in second] == [True, True, False]
    assert [r.text for r in second[:2]] == [r.text for r in first]
    assert teacher.stats.cache_hits == 2 and teacher.stats.requests == 1
    with Teacher.from_config(make_config(server, use_cache=False)) as teacher:
        teacher.generate(ask("a"))
    assert len(server.requests) == 4
    # a different generation parameter is a different key
    with Teacher.from_config(config) as teacher:
        teacher.generate(ask("a", temperature=0.7))
    assert len(server.requests) == 5


def test_concurrency_limit_is_respected(serve, make_config):
    in_flight = {"now": 0, "max": 0}

    def responder(request):
        return "ok"

    server = serve(responder, latency=0.05)
    original = server._chat

    async def counting(request):
        in_flight["now"] += 1
        in_flight["max"] = max(in_flight["max"], in_flight["now"])
        try:
            return await original(request)
        finally:
            in_flight["now"] -= 1

    server._chat = counting  # handler looked up per request through the bound method below
    server.stop()
    server.start()
    with Teacher.from_config(make_config(server, max_concurrency=5, base_url=server.base_url)) as teacher:
        teacher.generate(ask(*[f"q{i}" for i in range(30)]))
    assert in_flight["max"] == 5


def test_requests_per_minute_limit(serve, make_config):
    server = serve(lambda r: "ok")
    config = make_config(server, requests_per_minute=1200, use_cache=False)  # 20/s, bursts of 20
    start = time.monotonic()
    with Teacher.from_config(config) as teacher:
        teacher.generate(ask(*[f"q{i}" for i in range(50)]))
    assert time.monotonic() - start >= 1.4  # 30 beyond the burst at 20/s


def test_tokens_per_minute_limit(serve, make_config):
    server = serve(lambda r: "ok")
    # each request budgets ~ (content/4 + 4) + max_tokens = 4 + 4 + 52 = 60 tokens; 60000/min = 1000/s
    config = make_config(server, tokens_per_minute=60_000, max_tokens=52, use_cache=False)
    start = time.monotonic()
    with Teacher.from_config(config) as teacher:
        teacher.generate(ask(*[f"q{i:03d}xxxx" for i in range(50)]))
    assert time.monotonic() - start >= 1.5  # 3000 tokens, 1000 in the first burst, then 1000/s


def test_cost_and_token_accounting(serve, make_config):
    server = serve(lambda r: "one two three")
    config = make_config(server, prices={"input": 2.0, "output": 10.0})
    with Teacher.from_config(config) as teacher:
        results = teacher.generate(ask("x" * 40, "y" * 80))
    prompt = sum(r.prompt_tokens for r in results)
    assert prompt == (10 + 4) + (20 + 4) and all(r.completion_tokens == 3 for r in results)
    assert teacher.stats.prompt_tokens == prompt and teacher.stats.completion_tokens == 6
    assert teacher.stats.cost_usd == pytest.approx((prompt * 2.0 + 6 * 10.0) / 1e6)


def test_agenerate_inside_a_running_loop_and_generate_from_a_loop(serve, make_config):
    server = serve(lambda r: "async")
    teacher = Teacher.from_config(make_config(server))

    async def main():
        awaited = await teacher.agenerate(ask("a"))
        blocking = teacher.generate(ask("b"))  # from inside a running loop: runs on the private loop
        await teacher.aclose()
        return awaited, blocking

    awaited, blocking = asyncio.run(main())
    teacher.close()
    assert awaited[0].text == blocking[0].text == "async"


def test_api_key_comes_from_the_environment(serve, make_config, monkeypatch):
    seen = []
    server = serve(lambda r: "ok")
    original = server._chat

    monkeypatch.setenv("MY_TEACHER_KEY", "sk-test-123")
    config = make_config(server, api_key_env="MY_TEACHER_KEY")
    assert "sk-test-123" not in json.dumps(config.to_dict())

    async def capture(request):
        seen.append(request.headers.get("Authorization"))
        return await original(request)

    server._chat = capture
    server.stop()
    server.start()
    with Teacher.from_config(make_config(server, api_key_env="MY_TEACHER_KEY")) as teacher:
        teacher.generate(ask("k"))
    assert seen == ["Bearer sk-test-123"]


def test_random_faults_nothing_is_lost(serve, make_config):
    import random

    rng = random.Random(7)
    faults = [Fault.rate_limited(0.01), Fault.error(500), Fault.error(503), Fault.malformed(), Fault.disconnect()]

    def responder(request):
        return rng.choice(faults) if rng.random() < 0.4 else "done " + last_user_message(request)

    server = serve(responder)
    config = make_config(server, max_retries=2, max_concurrency=16, use_cache=False)
    prompts = [f"q{i}" for i in range(300)]
    with Teacher.from_config(config) as teacher:
        results = teacher.generate(ask(*prompts))
    stats = teacher.stats
    ok = [r for r in results if r.ok]
    assert all(r.text == "done " + p for r, p in zip(results, prompts) if r.ok)
    assert stats.requests == 300 == stats.succeeded + stats.failed
    assert len(ok) == stats.succeeded and 0 < stats.failed < 60  # 0.4^3 ≈ 6% exhaust their retries
    assert stats.attempts == len(server.requests) and stats.retries == stats.attempts - stats.requests
    lines = failed_lines(config)
    assert len(lines) == stats.failed
    assert {line["messages"][0]["content"] for line in lines} == {p for r, p in zip(results, prompts) if not r.ok}
