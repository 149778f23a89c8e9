"""Prompt templates: front matter, rendering, tolerant parsing, repair messages, response_format."""

from __future__ import annotations

import pytest

from mixture_builder.errors import ConfigError
from mixture_builder.teacher.templates import OutputParseError, load_template

TAGGED = """---
name: write_demo
version: 3
output:
  format: tagged
  fields: {think: str, answer: str}
  optional: [think]
---
[system]
Be brief.
[user]
Write about {{ topic }}.
{% if extra %}Also: {{ extra }}{% endif %}
"""


@pytest.fixture
def rate():
    return load_template("mixture_builder.teacher:rate_quality")


def test_packaged_template_loads_by_both_spellings(rate):
    assert (rate.name, rate.version, rate.id) == ("rate_quality", "1", "rate_quality@1")
    assert load_template("mixture_builder.teacher", "rate_quality") is rate
    messages = rate.render(instruction="Add 2 and 2.", input="", output="4", kind="sample", hint="")
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Add 2 and 2." in messages[1]["content"] and "### Input" not in messages[1]["content"]


@pytest.mark.parametrize("reply", [
    '{"rarity": 3, "complexity": 4, "informativeness": 5, "overall": 6}',
    'Here is my rating:\n```json\n{"rarity": 3, "complexity": 4, "informativeness": 5, "overall": 6}\n```',
    'Sure. {"rarity": "3", "complexity": 4.0, "informativeness": 5, "overall": 6} Hope this helps {x}',
    '{"rarity": 3, "complexity": 4, "informativeness": 5, "overall": 6',  # cut off: key-value fallback
    'rarity: 3, complexity: 4, informativeness = 5, "overall": 6',
])
def test_json_parsing_is_tolerant(rate, reply):
    assert rate.parse(reply) == {"rarity": 3, "complexity": 4, "informativeness": 5, "overall": 6}


@pytest.mark.parametrize("reply, problem", [
    ("I think it is good.", "no JSON object"),
    ('{"rarity": 3, "complexity": 4, "informativeness": 5}', "missing field 'overall'"),
    ('{"rarity": 3, "complexity": 4, "informativeness": 5, "overall": 11}', "outside"),
    ('{"rarity": 3, "complexity": 4, "informativeness": 5, "overall": "high"}', "should be int"),
    ("", "empty reply"),
])
def test_json_parse_errors_name_the_problem(rate, reply, problem):
    with pytest.raises(OutputParseError, match=problem):
        rate.parse(reply)


def test_tagged_template_from_a_file(tmp_path):
    path = tmp_path / "write_demo.jinja"
    path.write_text(TAGGED)
    template = load_template(str(path))
    assert template.id == "write_demo@3"
    messages = template.render(topic="owls", extra="")
    assert messages == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Write about owls."}]
    assert template.parse("<think>hmm</think>\n<answer> Owls hunt at night. </answer>") == {
        "think": "hmm", "answer": "Owls hunt at night."}
    assert template.parse("<answer>x</answer>") == {"answer": "x"}
    with pytest.raises(OutputParseError, match="missing <answer>"):
        template.parse("<think>only thinking")
    with pytest.raises(ConfigError, match="topic"):
        template.render()
    request = template.request(topic="cats", extra="", params={"max_tokens": 9})
    assert request.template is template and request.tag == "write_demo@3" and request.params == {"max_tokens": 9}


def test_edited_file_is_reloaded(tmp_path):
    path = tmp_path / "t.jinja"
    path.write_text(TAGGED)
    assert load_template(str(path)).version == "3"
    path.write_text(TAGGED.replace("version: 3", "version: 4"))
    import os

    os.utime(path, ns=(1, 10**18))
    assert load_template(str(path)).version == "4"


def test_repair_messages_and_response_format(rate):
    messages = rate.render(instruction="i", input="", output="o", kind="k", hint="")
    repair = rate.repair_messages(messages, "bad reply", "no JSON object in the reply")
    assert repair[:2] == messages and repair[2] == {"role": "assistant", "content": "bad reply"}
    assert "no JSON object in the reply" in repair[3]["content"] and repair[3]["role"] == "user"
    assert rate.response_format("none") is None
    assert rate.response_format("json_object") == {"type": "json_object"}
    schema = rate.response_format("json_schema")["json_schema"]["schema"]
    assert schema["required"] == ["rarity", "complexity", "informativeness", "overall"]
    assert schema["properties"]["overall"] == {"type": "integer", "minimum": 1.0, "maximum": 10.0}


@pytest.mark.parametrize("text, problem", [
    ("[user]\nhi", "no YAML front matter"),
    ("---\nname: x\n---\n[user]\nhi", "version"),
    ("---\nversion: 1\nbogus: 2\n---\n[user]\nhi", "front matter"),
    ("---\nversion: 1\noutput: {format: xml}\n---\n[user]\nhi", "unknown output format"),
    ("---\nversion: 1\n---\nno role line", "must start with"),
])
def test_bad_templates_fail_with_the_file_named(tmp_path, text, problem):
    path = tmp_path / "bad.jinja"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem) as info:
        load_template(str(path))
    assert "bad.jinja" in str(info.value)


def test_unknown_packaged_template():
    with pytest.raises(ConfigError, match="no prompt template"):
        load_template("mixture_builder.teacher:nope")
