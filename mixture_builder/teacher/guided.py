"""Guided JSON decoding for the embedded model: ``response_format: json_schema`` for flat schemas whose fields
are integers with a range (the rater's schema).

The reply is forced into ``{"a": <int>, "b": <int>, ...}``: the keys and punctuation are forced tokens, each
value may only use digits that keep it a valid number in its range, and the model chooses among those. It plugs
into ``transformers`` ``generate(prefix_allowed_tokens_fn=...)``, so the KV cache and batching are unchanged.
Other schemas are not guided (the template's parser and its repair attempt handle them).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Segment = tuple[str, Any]


def integer_fields(response_format: dict[str, Any] | None) -> dict[str, tuple[int, int]] | None:
    """``{field: (min, max)}`` when the format is a json_schema of bounded integers only, else ``None``."""
    if not response_format or response_format.get("type") != "json_schema":
        return None
    schema = (response_format.get("json_schema") or {}).get("schema") or {}
    properties = schema.get("properties") or {}
    fields: dict[str, tuple[int, int]] = {}
    for name, prop in properties.items():
        if prop.get("type") != "integer" or "minimum" not in prop or "maximum" not in prop:
            return None
        low, high = int(prop["minimum"]), int(prop["maximum"])
        if low < 0 or high - low > 1000:
            return None
        fields[name] = (low, high)
    return fields or None


def json_prefix_fn(tokenizer: Any, fields: dict[str, tuple[int, int]], prompt_length: int
                   ) -> Callable[[int, Any], list[int]]:
    """A ``prefix_allowed_tokens_fn`` producing ``{"field": value, ...}`` for ``fields``."""
    digits = {str(d): tokenizer.convert_tokens_to_ids(str(d)) for d in range(10)}
    digit_of = {token: char for char, token in digits.items()}
    segments: list[Segment] = []
    names = list(fields)
    for index, name in enumerate(names):
        opening = ("{" if index == 0 else ", ") + json.dumps(name) + ": "
        segments.append(("forced", tokenizer.encode(opening, add_special_tokens=False)))
        low, high = fields[name]
        segments.append(("value", {str(v) for v in range(low, high + 1)}))
    segments.append(("forced", tokenizer.encode("}", add_special_tokens=False)))
    next_forced = [segments[i + 1][1][0] for i in range(len(segments) - 1) if segments[i][0] == "value"]
    eos = [tokenizer.eos_token_id]

    def allowed(batch_id: int, input_ids: Any) -> list[int]:
        generated = input_ids[prompt_length:].tolist()
        position, value_index = 0, 0
        for kind, spec in segments:
            if kind == "forced":
                done = len(generated) - position
                if done < len(spec):
                    return [spec[done]]
                position += len(spec)
                continue
            prefix = ""
            while position < len(generated) and generated[position] in digit_of:
                prefix += digit_of[generated[position]]
                position += 1
            if position == len(generated):  # still writing this value
                options = {digits[c[len(prefix)]] for c in spec if c.startswith(prefix) and len(c) > len(prefix)}
                if prefix in spec:
                    options.add(next_forced[value_index])
                return sorted(options)
            value_index += 1
        return eos

    return allowed
