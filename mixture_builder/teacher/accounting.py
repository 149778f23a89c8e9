"""Accounting of teacher calls (tokens, requests, retries, failures, cache hits, cost) and the failed-requests
JSONL."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass
class TeacherStats:
    """Counters of one ``Teacher`` (per run); subtract two snapshots for one step's share.

    Invariant: ``requests == succeeded + failed`` — every request sent over the wire ends in one of the two.
    """

    requests: int = 0
    succeeded: int = 0
    failed: int = 0
    attempts: int = 0
    retries: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    truncated: int = 0
    parse_failures: int = 0
    repairs: int = 0
    repaired_ok: int = 0
    cost_usd: float = 0.0
    failures_by_reason: Counter = field(default_factory=Counter)

    def snapshot(self) -> TeacherStats:
        copy = TeacherStats(**{f.name: getattr(self, f.name) for f in fields(self)})
        copy.failures_by_reason = Counter(self.failures_by_reason)
        return copy

    def __sub__(self, other: TeacherStats) -> TeacherStats:
        diff = TeacherStats(**{f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(self)
                               if f.name != "failures_by_reason"})
        diff.failures_by_reason = self.failures_by_reason - other.failures_by_reason
        return diff

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["failures_by_reason"] = dict(self.failures_by_reason)
        data["cost_usd"] = round(self.cost_usd, 6)
        return data


def cost_usd(prices: dict[str, float] | None, prompt_tokens: int, completion_tokens: int) -> float:
    """Cost from prices in USD per million tokens (0 when no prices are configured)."""
    if not prices:
        return 0.0
    return (prompt_tokens * prices.get("input", 0.0) + completion_tokens * prices.get("output", 0.0)) / 1e6


class FailureLog:
    """Appends one JSON line per failed request (one ``write`` per line, safe across processes)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, *, key: str, tag: str, model: str, reason: str, attempts: int,
               messages: list[dict[str, Any]]) -> None:
        line = json.dumps({"time": time.time(), "key": key, "tag": tag, "model": model, "reason": reason,
                           "attempts": attempts, "messages": messages}, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            try:
                os.write(fd, line.encode())
            finally:
                os.close(fd)
