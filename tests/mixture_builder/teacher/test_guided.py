"""Guided JSON decoding (embedded backend): the allowed-token automaton, with a character-level tokenizer."""

from __future__ import annotations

import json

import torch

from mixture_builder.teacher.guided import integer_fields, json_prefix_fn
from mixture_builder.teacher.templates import load_template


class CharTokenizer:
    """One token per character (ids = code points); eos = 0."""

    eos_token_id = 0

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return [ord(c) for c in text]

    def convert_tokens_to_ids(self, token: str) -> int:
        return ord(token)


def decode_greedy(fields, preferences: str, prompt_length: int = 3) -> str:
    """Walk the automaton, each step taking the first allowed token in ``preferences`` order (else the first)."""
    allowed_fn = json_prefix_fn(CharTokenizer(), fields, prompt_length)
    ids = [7] * prompt_length
    while True:
        allowed = allowed_fn(0, torch.tensor(ids))
        if allowed == [0]:
            return "".join(chr(i) for i in ids[prompt_length:])
        ranked = [ord(c) for c in preferences if ord(c) in allowed]
        ids.append(ranked[0] if ranked else allowed[0])


def test_rater_schema_is_supported():
    rate = load_template("mixture_builder.teacher:rate_quality")
    fields = integer_fields(rate.response_format("json_schema"))
    assert fields == {"rarity": (1, 10), "complexity": (1, 10), "informativeness": (1, 10), "overall": (1, 10)}
    assert integer_fields(rate.response_format("json_object")) is None
    assert integer_fields({"type": "json_schema", "json_schema": {"schema": {
        "properties": {"a": {"type": "string"}}}}}) is None


def test_values_stay_in_range_and_output_is_valid_json():
    fields = {"a": (1, 10), "b": (1, 10), "c": (0, 5)}
    # a model that loves the digit 1 then 0: "10" is allowed for a/b, but c's range stops at 5
    text = decode_greedy(fields, preferences="10")
    assert json.loads(text) == {"a": 10, "b": 10, "c": 1}
    # a model that loves 9: single digits, then the separator
    assert json.loads(decode_greedy(fields, preferences="9")) == {"a": 9, "b": 9, "c": 0}


def test_after_a_complete_value_the_separator_is_allowed():
    fields = {"a": (1, 10)}
    allowed_fn = json_prefix_fn(CharTokenizer(), fields, 0)
    prefix = [ord(c) for c in '{"a": 1']
    assert set(allowed_fn(0, torch.tensor(prefix))) == {ord("0"), ord("}")}
    prefix = [ord(c) for c in '{"a": 10']
    assert allowed_fn(0, torch.tensor(prefix)) == [ord("}")]
    assert allowed_fn(0, torch.tensor([ord(c) for c in '{"a": 10}'])) == [0]
