"""Fixtures of the teacher-layer tests: a fake OpenAI-compatible server and configs pointing at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.testing import FakeOpenAIServer


@pytest.fixture
def serve() -> Iterator[Callable[..., FakeOpenAIServer]]:
    """``serve(responder, **kwargs)`` starts a ``FakeOpenAIServer`` that stops at the end of the test."""
    servers: list[FakeOpenAIServer] = []

    def start(responder: Any = None, **kwargs: Any) -> FakeOpenAIServer:
        server = FakeOpenAIServer(responder, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., TeacherConfig]:
    """``make_config(server, **overrides)``: an ``openai`` backend config on ``server`` with fast retries and a
    private cache and failure log under ``tmp_path``."""

    def make(server: FakeOpenAIServer, **overrides: Any) -> TeacherConfig:
        options: dict[str, Any] = {
            "backend": "openai", "base_url": server.base_url, "model": "fake-model", "max_retries": 3,
            "backoff_base_s": 0.01, "backoff_max_s": 2.0, "timeout_s": 2.0,
            "cache_path": str(tmp_path / "cache.sqlite"), "failed_path": str(tmp_path / "failed.jsonl"),
            "max_concurrency": 8, "progress": False}
        options.update(overrides)
        return TeacherConfig(**options)

    return make
