"""Recorded units of work: one JSON file per (candidate, task), keyed by a hash of everything it depends on.

A killed run resumes without redoing finished pairs; a changed setting changes the keys of exactly the pairs
it affects (training settings → every task of every candidate; a task's limit → that task only), and only
those are redone. Files are written to a temporary name and renamed, so a record is complete or absent.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO


def fingerprint(payload: Any) -> str:
    """Short content hash of a JSON-serialisable payload."""
    text = json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class UnitStore:
    """``{root}/units/{candidate}/{task}.json`` records: ``key``, per-example ``rows``, ``seconds``, ``meta``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "units"

    def path(self, candidate: str, task: str) -> Path:
        return self.root / candidate / f"{task}.json"

    def get(self, candidate: str, task: str, key: str) -> dict[str, Any] | None:
        """The record when it exists with this ``key`` (a stale or unreadable record counts as absent)."""
        path = self.path(candidate, task)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        return record if record.get("key") == key else None

    def put(self, candidate: str, task: str, key: str, rows: list[dict[str, Any]], seconds: float,
            meta: dict[str, Any] | None = None) -> None:
        path = self.path(candidate, task)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        record = {"candidate": candidate, "task": task, "key": key, "seconds": round(seconds, 2),
                  "meta": meta or {}, "rows": rows}
        tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
        tmp.replace(path)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class Progress:
    """One line per (candidate, task): position, what it is, time taken, and the ETA of the rest."""

    def __init__(self, total: int, done: int, stream: TextIO | None = None) -> None:
        self.total, self.done, self.computed = total, done, 0
        self.start = time.monotonic()
        self.stream = stream or sys.stderr

    def _write(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def begin(self, candidate: str, task: str) -> float:
        self._write(f"[{self.done + 1}/{self.total}] {candidate} × {task}: running")
        return time.monotonic()

    def note(self, text: str) -> None:
        """A line about work outside the units (e.g. training a candidate's model)."""
        self._write(text)

    def skip(self, candidate: str, task: str) -> None:
        self._write(f"[done] {candidate} × {task}: recorded earlier, not redone")

    def end(self, candidate: str, task: str, started: float, value: float | None) -> None:
        self.done += 1
        self.computed += 1
        elapsed = time.monotonic() - self.start
        remaining = self.total - self.done
        eta = elapsed / self.computed * remaining
        shown = "" if value is None else f" = {value:.4g}"
        self._write(f"[{self.done}/{self.total}] {candidate} × {task}{shown} in {_duration(time.monotonic() - started)}"
                    f" — {remaining} left, ETA {_duration(eta)}")
