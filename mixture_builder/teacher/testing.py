"""``FakeOpenAIServer``: a real OpenAI-compatible chat server on 127.0.0.x with scriptable replies and faults.

For tests (ours and users'): it speaks HTTP over a real socket, so the toolkit's real client path is exercised.
``responder(request_json) -> str | Fault`` decides each reply::

    with FakeOpenAIServer(lambda req: '{"overall": 7}', latency=0.01) as server:
        cfg = TeacherConfig(backend="openai", base_url=server.base_url, model="fake")
        ...
        assert len(server.requests) == 3

Faults: ``Fault.rate_limited(retry_after)`` (429 + ``retry-after-ms`` and a whole-second ``Retry-After``), ``Fault.error(500)``, ``Fault.hang(s)``
(sleep past the client timeout), ``Fault.malformed()`` (200 with a broken JSON body), ``Fault.truncated(text)``
(``finish_reason: "length"``), ``Fault.disconnect()`` (drop the connection). ``FailFirst`` scripts "fail n
times, then answer". ``python -m mixture_builder.teacher.testing --host 127.0.0.2 --latency 0.05`` serves a
fixed reply in its own process (the throughput benchmark uses it).
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing_extensions import Self

Responder = Callable[[dict[str, Any]], "str | Fault"]


@dataclass(frozen=True)
class Fault:
    """A scripted misbehaviour of the fake server (see the module docstring)."""

    kind: str
    status: int = 500
    retry_after: float | None = None
    seconds: float = 0.0
    text: str = ""

    @classmethod
    def rate_limited(cls, retry_after: float | None = 1.0) -> Fault:
        return cls("status", status=429, retry_after=retry_after)

    @classmethod
    def error(cls, status: int = 500) -> Fault:
        return cls("status", status=status)

    @classmethod
    def hang(cls, seconds: float = 30.0) -> Fault:
        return cls("hang", seconds=seconds)

    @classmethod
    def malformed(cls) -> Fault:
        return cls("malformed")

    @classmethod
    def truncated(cls, text: str = "partial answer") -> Fault:
        return cls("truncated", text=text)

    @classmethod
    def disconnect(cls) -> Fault:
        return cls("disconnect")


def last_user_message(request_json: dict[str, Any]) -> str:
    """The content of the last user message of a request (what responders usually key on)."""
    for message in reversed(request_json.get("messages", [])):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


class FailFirst:
    """A responder that answers each distinct prompt with ``fault`` ``times`` times, then with ``reply``."""

    def __init__(self, times: int, fault: Fault, reply: str | Callable[[dict[str, Any]], str] = "ok") -> None:
        self.times, self.fault, self.reply = times, fault, reply
        self.seen: Counter[str] = Counter()

    def __call__(self, request_json: dict[str, Any]) -> str | Fault:
        prompt = json.dumps(request_json.get("messages"), sort_keys=True)
        self.seen[prompt] += 1
        if self.seen[prompt] <= self.times:
            return self.fault
        return self.reply(request_json) if callable(self.reply) else self.reply


class FakeOpenAIServer:
    """An aiohttp ``/v1/chat/completions`` (and ``/v1/models``) server in a background thread."""

    def __init__(self, responder: Responder | None = None, host: str = "127.0.0.1", port: int = 0,
                 latency: float = 0.0, model: str = "fake-model", log_requests: bool = True) -> None:
        self.responder: Responder = responder or (lambda request_json: "ok")
        self.host, self.port, self.latency, self.model = host, port, latency, model
        self.log_requests = log_requests
        self.requests: list[dict[str, Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: Any = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeOpenAIServer:
        ready = threading.Event()
        errors: list[BaseException] = []

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._start())
            except BaseException as error:  # noqa: BLE001 — re-raised in the caller of start()
                errors.append(error)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="fake-openai-server", daemon=True)
        self._thread.start()
        ready.wait(30)
        if errors:
            raise errors[0]
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=30)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._thread = None

    async def _shutdown(self) -> None:
        await self._runner.cleanup()
        current = asyncio.current_task()
        pending = [task for task in asyncio.all_tasks() if task is not current]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _start(self) -> None:
        from aiohttp import web

        app = web.Application(client_max_size=64 * 2**20)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # the bound port when port=0

    # ------------------------------------------------------------------ handlers
    async def _models(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _chat(self, request: Any) -> Any:
        from aiohttp import web

        body = await request.read()
        try:
            request_json = json.loads(body)
        except ValueError:
            return web.json_response({"error": {"message": "body is not JSON"}}, status=400)
        if self.log_requests:
            self.requests.append(request_json)
        reply = self.responder(request_json)
        if self.latency:
            await asyncio.sleep(self.latency)
        finish = "stop"
        if isinstance(reply, Fault):
            if reply.kind == "status":
                headers = {} if reply.retry_after is None else {  # as OpenAI sends them: exact ms, whole seconds
                    "retry-after-ms": f"{round(reply.retry_after * 1000)}",
                    "Retry-After": f"{math.ceil(reply.retry_after)}"}
                return web.json_response({"error": {"message": f"scripted {reply.status}"}}, status=reply.status,
                                         headers=headers)
            if reply.kind == "hang":
                await asyncio.sleep(reply.seconds)
                return web.json_response({"error": {"message": "hung"}}, status=504)
            if reply.kind == "malformed":
                return web.Response(body=b'{"id": "x", "choices": [{"message": {"content": "tru', status=200,
                                    content_type="application/json")
            if reply.kind == "disconnect":
                request.transport.close()
                raise asyncio.CancelledError  # the connection is gone; nothing is written
            reply, finish = reply.text, "length"
        text = str(reply)
        prompt_tokens = sum(len(str(m.get("content", ""))) // 4 + 4 for m in request_json.get("messages", []))
        payload = {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": request_json.get("model", self.model),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": max(1, len(text.split())),
                      "total_tokens": prompt_tokens + max(1, len(text.split()))},
        }
        return web.Response(body=json.dumps(payload).encode(), content_type="application/json")


def main(argv: list[str] | None = None) -> None:
    """Serve a fixed reply until killed; prints the base URL on the first line of stdout."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--reply", default="This is a fixed reply of the fake server.")
    args = parser.parse_args(argv)
    server = FakeOpenAIServer(lambda _: args.reply, host=args.host, port=args.port, latency=args.latency,
                              log_requests=False).start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
