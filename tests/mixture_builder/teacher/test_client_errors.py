"""Only transport/API failures become failed requests; a bug raises with its traceback and is not recorded."""

from __future__ import annotations

from typing import Any

import pytest

from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.testing import Fault
from mixture_builder.teacher.types import ChatRequest, ChatResult


class BuggyTransport:
    """A transport with a programming error in it."""

    async def complete(self, payload: dict[str, Any]) -> ChatResult:
        return ChatResult(text=str(payload["messages"][0]["content"][10**6]), finish_reason="stop")

    async def close(self) -> None:
        return None


class BuggyTeacher(Teacher):
    def _make_transport(self) -> Any:
        return BuggyTransport()


def _requests(n: int) -> list[ChatRequest]:
    return [ChatRequest(messages=[{"role": "user", "content": f"q{i}"}], params={}, tag="t") for i in range(n)]


def test_a_bug_raises_and_lands_in_no_failure_log(serve, make_config) -> None:
    config = make_config(serve(lambda r: "ok"))
    with BuggyTeacher(config) as teacher, pytest.raises(IndexError, match="string index out of range"):
        teacher.generate(_requests(3))
    assert not config.resolved_failed_path.exists() or config.resolved_failed_path.read_text() == ""


def test_an_api_failure_is_recorded_with_its_reason(serve, make_config) -> None:
    config = make_config(serve(lambda r: Fault.error(400)))
    with Teacher(config) as teacher:
        (result,) = teacher.generate(_requests(1))
    assert result.text is None and result.error.startswith("http_400")
    assert "http_400" in config.resolved_failed_path.read_text()
