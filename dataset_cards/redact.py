"""Keep credentials out of cards: drop mapping keys that name one (api_key, hf_token, password, …)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SECRET_KEY_RE = re.compile(
    r"(?:^|[_\-])(?:api[_\-]?key|key|token|secret|password|authorization)(?:$|[_\-])", re.IGNORECASE
)
"""Key names treated as credentials (``hub_token``, ``api_key``; not ``max_tokens``)."""


def strip_secrets(value: Any) -> Any:
    """A copy of ``value`` without mapping keys that name credentials, at any depth."""
    if isinstance(value, Mapping):
        return {k: strip_secrets(v) for k, v in value.items() if not SECRET_KEY_RE.search(str(k))}
    if isinstance(value, (list, tuple)):
        return [strip_secrets(v) for v in value]
    return value
