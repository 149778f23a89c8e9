"""The embedded SmolLM2 teacher answers through the same Teacher path, offline (slow: loads a 135M model)."""

from __future__ import annotations

import pytest

from mixture_builder.teacher.client import Teacher
from mixture_builder.teacher.config import TeacherConfig
from mixture_builder.teacher.rater import RATE_TEMPLATE, rating_request
from mixture_builder.teacher.templates import load_template

pytestmark = pytest.mark.slow

WRITE = """---
name: write_sentence
version: 1
output: {format: text}
---
[user]
Write one sentence about {{ topic }}.
"""


@pytest.fixture(scope="module")
def model_dir():
    pytest.importorskip("gguf")
    from mixture_builder.teacher.embedded import embedded_model_dir

    return embedded_model_dir()


def test_converted_model_folder_is_complete(model_dir):
    assert {"config.json", "model.safetensors", "tokenizer.json"} <= {p.name for p in model_dir.iterdir()}
    assert "quantization_config" not in (model_dir / "config.json").read_text()


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_embedded_teacher_rates_and_writes(model_dir, tmp_path, dtype):
    (tmp_path / "write_sentence.jinja").write_text(WRITE)
    write = load_template(str(tmp_path / "write_sentence.jinja"))
    rate = load_template(RATE_TEMPLATE)
    config = TeacherConfig(backend="embedded", cache_path=str(tmp_path / "cache.sqlite"), max_tokens=48,
                           progress=False, embedded_dtype=dtype)
    requests = [
        rating_request(rate, instruction="What is the capital of France?", output="Paris is the capital.",
                       params={"max_tokens": 40}),
        write.request(topic="the river Seine"),
    ]
    with Teacher.from_config(config) as teacher:
        rating, sentence = teacher.generate(requests)
    assert rating.error is None and rating.parse_error is None, rating
    assert set(rating.parsed) == {"rarity", "complexity", "informativeness", "overall"}
    assert all(isinstance(v, int) and 1 <= v <= 10 for v in rating.parsed.values())
    assert sentence.error is None and sentence.parsed["text"] and sentence.completion_tokens > 0
    assert teacher.stats.requests == teacher.stats.succeeded == 2
    with Teacher.from_config(config) as teacher:  # the rerun is served by the cache
        again = teacher.generate(requests)
    assert [r.text for r in again] == [rating.text, sentence.text] and all(r.cached for r in again)
    assert teacher.stats.requests == 0
