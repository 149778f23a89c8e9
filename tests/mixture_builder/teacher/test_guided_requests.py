"""Guidance in requests: which field each backend gets (vLLM ``structured_outputs.regex``, SGLang ``regex``, the
embedded model's layout, nothing when off), checked on the payload a real OpenAI-compatible server receives."""

from __future__ import annotations

import re
from typing import Any

import pytest
from datatrove.data import Document

from mixture_builder.distill.checkpoint import vllm_sampling_kwargs
from mixture_builder.distill.config import DistillerConfig
from mixture_builder.distill.distiller import TeacherDistiller, distill_layout, distiller_id
from mixture_builder.distill.parse import parse_distillation
from mixture_builder.errors import ConfigError
from mixture_builder.generate.config import BuildConfig
from mixture_builder.generate.teacher_steps import WriteSamples
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.layout import PAYLOAD_KEY, Layout, think_answer_layout

REPLY = "<think>Both items ask the same.</think>\n\n<answer>Q: What is a river?\n A: Flowing water.</answer>"


def _distil(make_config, serve, **teacher: Any) -> tuple[dict[str, Any], Document]:
    server = serve(lambda request: REPLY)
    config = DistillerConfig(teacher=make_config(server, **teacher), max_new_tokens=64, think_budget=16)
    step = TeacherDistiller(config, use_cache=False)
    (doc,) = list(step.run([Document(text="Q: a\n A: b\n\nQ: a?\n A: b.", id="c0")]))
    (request,) = server.requests
    return request, doc


@pytest.mark.parametrize("client", ["aiohttp", "openai"])
def test_vllm_serve_gets_structured_outputs_regex(make_config, serve, client: str):
    request, doc = _distil(make_config, serve, guided="vllm", client=client)
    regex = request["structured_outputs"]["regex"]
    assert regex == think_answer_layout("qa", think_budget=16).regex() and re.fullmatch(regex, REPLY)
    assert "regex" not in request and PAYLOAD_KEY not in request and request["max_tokens"] == 64
    assert parse_distillation(doc.metadata["completion"]).instruction == "What is a river?"
    assert doc.metadata["teacher"].endswith("; guided:vllm)")


def test_sglang_gets_regex(make_config, serve):
    request, _ = _distil(make_config, serve, guided="sglang")
    assert re.fullmatch(request["regex"], REPLY) and "structured_outputs" not in request


def test_plain_endpoints_keep_the_hint_path(make_config, serve):
    request, doc = _distil(make_config, serve)  # guided: auto on an 'openai' endpoint = off
    assert not {"regex", "structured_outputs", PAYLOAD_KEY} & set(request)
    assert "Reply in exactly this form" in request["messages"][-1]["content"]
    assert doc.metadata["teacher"].endswith("; raw)")


def test_guidance_per_backend_and_off_switch():
    assert TeacherConfig().resolved_guided == "local"
    assert TeacherConfig(backend="vllm", model="m").resolved_guided == "vllm"
    assert TeacherConfig(backend="openai", base_url="http://x/v1").resolved_guided == "off"
    assert TeacherConfig(guided="off").resolved_guided == "off"
    with pytest.raises(ConfigError, match="guided"):
        TeacherConfig(guided="outlines")
    with pytest.raises(ConfigError, match="guided"):
        TeacherConfig(guided="vllm")  # the embedded backend is guided locally
    embedded = DistillerConfig()
    assert embedded.guidance == "local" and distill_layout(embedded) is not None
    step = TeacherDistiller(embedded, use_cache=False)
    assert Layout.from_dict(step.format_input(Document(text="Q: a\n A: b", id="x")).params[PAYLOAD_KEY])
    raw = DistillerConfig(guided=False)
    assert raw.guidance == "off" and distill_layout(raw) is None and distiller_id(raw).endswith("; raw)")
    assert PAYLOAD_KEY not in TeacherDistiller(raw, use_cache=False).format_input(Document(text="x", id="x")).params
    assert DistillerConfig(checkpoint="ckpt", engine="vllm").guidance == "vllm"
    assert DistillerConfig(checkpoint="ckpt").guidance == "local"


def test_vllm_engine_sampling_params():
    layout = think_answer_layout("qa", think_budget=8)
    assert vllm_sampling_kwargs(0.0, 64, 1, layout) == {
        "temperature": 0.0, "max_tokens": 64, "seed": 1, "structured_outputs": {"regex": layout.regex()}}
    assert "structured_outputs" not in vllm_sampling_kwargs(0.0, 64, 1, None)


def test_build_requests_carry_the_task_layout():
    doc = Document(text="A passage about rivers.", id="p0", metadata={"title": "Rivers"})
    guided = WriteSamples(BuildConfig(tasks_per_passage=None))
    for request in guided.format_input(doc):
        layout = Layout.from_dict(request.params[PAYLOAD_KEY])
        assert layout.name.startswith("write_")
    off = WriteSamples(BuildConfig(teacher=TeacherConfig(guided="off")))
    assert all(PAYLOAD_KEY not in r.params for r in off.format_input(doc))
