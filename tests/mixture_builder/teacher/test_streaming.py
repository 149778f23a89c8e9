"""Teacher steps stream: a bounded reorder window across the shard, in-order output, backoffs that free their
slot, a shared cool-down after 429s, repairs on arrival, complete accounting; also through the embedded
backend's in-process batching."""

from __future__ import annotations

import asyncio
import json
import random
import threading
import time
from typing import Any

import pytest
from datatrove.data import Document

from mixture_builder.records import make_instruction
from mixture_builder.teacher import embedded
from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.rater import QualityRater
from mixture_builder.teacher.steps import TeacherStep
from mixture_builder.teacher.testing import FailFirst, FakeOpenAIServer, Fault, last_user_message
from mixture_builder.teacher.types import ChatRequest, ChatResult

RATING = json.dumps({"rarity": 5, "complexity": 5, "informativeness": 6, "overall": 8})


class TimedServer(FakeOpenAIServer):
    """``FakeOpenAIServer`` with a per-request delay (``delay(request_json) -> seconds``) and a log of
    ``(arrival, prompt)`` and ``(reply sent, prompt)`` times."""

    def __init__(self, responder: Any, delay: Any = lambda request: 0.0, **kwargs: Any) -> None:
        super().__init__(responder, **kwargs)
        self.delay = delay
        self.arrivals: list[tuple[float, str]] = []
        self.replies: list[tuple[float, str]] = []

    async def _chat(self, request: Any) -> Any:
        body = json.loads(await request.read())
        prompt = last_user_message(body)
        self.arrivals.append((time.monotonic(), prompt))
        await asyncio.sleep(self.delay(body))
        try:
            return await super()._chat(request)
        finally:
            self.replies.append((time.monotonic(), prompt))


@pytest.fixture
def timed():
    servers: list[TimedServer] = []

    def start(responder: Any, **kwargs: Any) -> TimedServer:
        servers.append(TimedServer(responder, **kwargs).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


class Echo(TeacherStep):
    name = "echo"

    def format_input(self, doc: Document) -> ChatRequest | None:
        return None if doc.text == "skip" else ChatRequest([{"role": "user", "content": doc.text}], tag="echo")

    def format_output(self, doc: Document, results: list[ChatResult]):
        doc.metadata["reply"] = results[0].text if results else None
        return [doc]


def test_window_streams_past_a_slow_document_and_keeps_input_order(timed, make_config):
    server = timed(lambda r: "re " + last_user_message(r),
                   delay=lambda r: 1.0 if last_user_message(r) == "d0" else 0.01)
    config = make_config(server, max_concurrency=4, reorder_window=16)
    pulled = 0

    def source():
        nonlocal pulled
        for i in range(60):
            pulled += 1
            yield Document(text="skip" if i == 7 else f"d{i}", id=str(i))

    ahead = []
    out = []
    for doc in Echo(config).run(source()):
        out.append(doc)
        ahead.append(pulled - len(out))
    assert [d.id for d in out] == [str(i) for i in range(60)]
    assert all(d.metadata["reply"] == ("re " + d.text if d.text != "skip" else None) for d in out)
    assert max(ahead) <= 16  # the window bounds what is held, whatever the shard size
    (slow_done,) = [t for t, prompt in server.replies if prompt == "d0"]
    before = [prompt for t, prompt in server.arrivals if t < slow_done]
    # while d0 took 1 s, the 15 documents behind it in the window were sent (4 at a time), and no more
    assert sorted(before) == sorted(f"d{i}" for i in range(16) if i != 7)


def test_a_backoff_gives_its_slot_to_other_requests(serve, make_config):
    server = serve(lambda r: (Fault.error(500) if last_user_message(r) == "a" and
                              sum(last_user_message(x) == "a" for x in server.requests) == 1 else "ok"))
    config = make_config(server, max_concurrency=1, backoff_base_s=2.0, use_cache=False)
    with Teacher.from_config(config) as teacher:
        results = teacher.generate([ChatRequest([{"role": "user", "content": p}]) for p in "abcde"])
    assert all(r.text == "ok" for r in results)
    # one slot: while "a" waited 1-2 s after its 500, b..e went through it; then "a" retried
    assert [last_user_message(r) for r in server.requests] == ["a", "b", "c", "d", "e", "a"]


def test_a_429_pauses_the_whole_client(timed, make_config):
    fail_once = FailFirst(1, Fault.rate_limited(retry_after=0.6), reply="ok")
    server = timed(lambda r: fail_once(r) if last_user_message(r) == "a" else "ok", delay=lambda r: 0.05)
    config = make_config(server, max_concurrency=2, use_cache=False)
    prompts = ["a"] + [f"q{i}" for i in range(16)]
    with Teacher.from_config(config) as teacher:
        results = teacher.generate([ChatRequest([{"role": "user", "content": p}]) for p in prompts])
    assert all(r.text == "ok" for r in results) and teacher.stats.retries == 1
    limited = next(t for t, prompt in server.replies if prompt == "a")
    quiet = [prompt for t, prompt in server.arrivals if limited + 0.15 < t < limited + 0.55]
    assert quiet == []  # nothing was sent during the cool-down, although 16 requests were waiting
    assert sum(t >= limited + 0.55 for t, _ in server.arrivals) >= 10


def test_an_unparsable_reply_is_repaired_on_arrival(timed, make_config):
    def responder(request):
        prompt = last_user_message(request)
        return RATING if "could not be used" in prompt or "Question 0?" in prompt else "prose, not JSON"

    server = timed(responder, delay=lambda r: 1.0 if "Question 0?" in last_user_message(r) else 0.01)
    docs = [make_instruction(instruction=f"Question {i}?", output="Answer.", source="s", license="l",
                             source_id=i) for i in range(2)]
    rater = QualityRater(make_config(server))
    out = list(rater.run(docs))
    assert [d.metadata["quality"] for d in out] == [4, 4]
    (slow_done,) = [t for t, prompt in server.replies if "Question 0?" in prompt]
    (repair_sent,) = [t for t, prompt in server.arrivals if "could not be used" in prompt]
    assert repair_sent < slow_done  # not after the slow document's reply
    assert rater.stats["teacher_repairs"].total == rater.stats["teacher_repaired_ok"].total == 1


def test_step_stats_account_for_every_request(serve, make_config, tmp_path):
    rng = random.Random(3)
    lock = threading.Lock()
    faults = [Fault.rate_limited(0.01), Fault.error(500), Fault.malformed(), Fault.disconnect(), Fault.error(400)]

    def responder(request):
        with lock:
            return rng.choice(faults) if rng.random() < 0.3 else "done " + last_user_message(request)

    server = serve(responder)
    config = make_config(server, max_retries=1, max_concurrency=8, reorder_window=32)
    step = Echo(config)
    out = list(step.run(Document(text=f"p{i}", id=str(i)) for i in range(150)))
    stats = {key: value.total for key, value in step.stats.stats.items()}
    assert len(out) == stats["documents"] == stats["emitted"] == 150
    assert stats["teacher_requests"] == stats["teacher_succeeded"] + stats["teacher_failed"] == 150
    assert stats["teacher_failed"] == sum(v for k, v in stats.items() if k.startswith("teacher_failed_"))
    assert stats["teacher_failed"] == sum(d.metadata["reply"] is None for d in out) > 0
    assert stats["teacher_requests"] + stats["teacher_retries"] == len(server.requests)
    assert len((tmp_path / "failed.jsonl").read_text().splitlines()) == stats["teacher_failed"]


def test_a_configuration_error_stops_the_step_at_once(tmp_path, monkeypatch):
    def broken_model_dir():
        raise RuntimeError("GGUF conversion failed")

    monkeypatch.setattr(embedded, "embedded_model_dir", broken_model_dir)
    config = TeacherConfig(backend="embedded", cache_path=str(tmp_path / "c.sqlite"), progress=False)
    with pytest.raises(ValueError, match="embedded teacher unavailable"):
        list(Echo(config).run(Document(text=f"p{i}", id=str(i)) for i in range(50)))


def test_embedded_backend_batches_across_documents(tmp_path, monkeypatch):
    batches: list[int] = []

    def fake_generate_batch(model_dir, conversations, **options):
        batches.append(len(conversations))
        time.sleep(0.02)
        return [ChatResult(text="re " + c[-1]["content"], finish_reason="stop", prompt_tokens=3,
                           completion_tokens=2) for c in conversations]

    monkeypatch.setattr(embedded, "embedded_model_dir", lambda: tmp_path)
    monkeypatch.setattr(embedded, "generate_batch", fake_generate_batch)
    config = TeacherConfig(backend="embedded", embedded_batch_size=8, cache_path=str(tmp_path / "c.sqlite"),
                           progress=False)
    out = list(Echo(config).run(Document(text=f"p{i}", id=str(i)) for i in range(64)))
    assert [d.metadata["reply"] for d in out] == [f"re p{i}" for i in range(64)]
    assert sum(batches) == 64 and max(batches) == 8 and batches.count(8) >= 6  # one document per request


def test_rate_limit_replies_to_requests_sent_before_a_pause_start_no_new_one():
    from mixture_builder.teacher.ratelimit import CoolDown

    cool_down = CoolDown()
    sent = time.monotonic()
    cool_down.extend(0.5, sent_at=sent)
    first = cool_down.until
    cool_down.extend(5.0, sent_at=sent)  # sent before the pause began: the client has paused since
    assert cool_down.until == first
    cool_down.extend(5.0, sent_at=time.monotonic())
    assert cool_down.until > first + 4


class Boom(Echo):
    """Echo whose reply for ``"bad"`` breaks a (buggy) template: the error must surface, not be recorded."""

    name = "boom"

    def format_input(self, doc: Document) -> ChatRequest:
        return ChatRequest([{"role": "user", "content": doc.text}], tag="boom", template=_Exploding())


class _Exploding:
    id = "exploding@1"

    def response_format(self, mode: str) -> None:
        return None

    def parse(self, text: str) -> dict[str, Any]:
        if text == "re bad":
            raise KeyError("a bug in the parser")
        return {"text": text}


def test_a_bug_in_any_document_stops_the_step_at_once(timed, make_config):
    server = timed(lambda r: "re " + last_user_message(r),
                   delay=lambda r: 5.0 if last_user_message(r) == "d0" else 0.01)
    config = make_config(server, max_concurrency=4, reorder_window=16)
    start = time.monotonic()
    with pytest.raises(KeyError, match="a bug in the parser"):
        list(Boom(config).run(Document(text="bad" if i == 3 else f"d{i}", id=str(i)) for i in range(10)))
    assert time.monotonic() - start < 3.0  # not held back by the 5 s head of the window


def test_closing_the_step_early_cancels_what_is_pending(timed, make_config):
    server = timed(lambda r: "re " + last_user_message(r), delay=lambda r: 0.2)
    config = make_config(server, max_concurrency=2, reorder_window=64)
    step = Echo(config)
    outputs = step.run(Document(text=f"d{i}", id=str(i)) for i in range(200))
    first = next(outputs)
    outputs.close()  # what datatrove does when a later step stops consuming
    time.sleep(0.6)
    assert first.metadata["reply"] == "re d0"
    assert len(server.arrivals) <= 6  # the 2 slots were serving the window's head; the rest was dropped
    assert step.stats["teacher_requests"].total == len(server.arrivals)


def test_identical_requests_of_different_documents_are_sent_once(timed, make_config):
    server = timed(lambda r: "re " + last_user_message(r), delay=lambda r: 0.1)
    config = make_config(server, max_concurrency=8, reorder_window=32)
    out = list(Echo(config).run(Document(text=f"d{i % 5}", id=str(i)) for i in range(40)))
    assert [d.metadata["reply"] for d in out] == [f"re d{i % 5}" for i in range(40)]
    assert sorted(prompt for _, prompt in server.arrivals) == [f"d{i}" for i in range(5)]
