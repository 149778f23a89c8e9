"""The response cache: SQLite, keyed by a content hash of model, messages and generation parameters.

Every completed request is committed as soon as it returns, so a run killed at any point and rerun re-sends
only what never completed; editing a prompt template changes the rendered messages and so the keys of that
template's requests only. The database runs in WAL mode with a busy timeout, so several worker processes
(datatrove tasks) can share one file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from mixture_builder.teacher.types import ChatResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    text TEXT NOT NULL,
    finish_reason TEXT,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    created REAL NOT NULL
)
"""


def request_key(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of what changes a reply: model, messages, generation parameters."""
    blob = json.dumps({"model": model, "messages": messages, "params": params}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


class ResponseCache:
    """A process-safe SQLite store of completed replies (``get_many`` / ``put``)."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=busy_timeout_s, check_same_thread=False,
                                   isolation_level=None)
        self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
        self._initialise(busy_timeout_s)

    def _initialise(self, busy_timeout_s: float) -> None:
        # Switching a new database to WAL takes an exclusive lock that SQLite's busy handler does not wait
        # for, so processes opening the same fresh file at once retry here.
        deadline = time.monotonic() + busy_timeout_s
        delay = 0.01
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute(_SCHEMA)
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def get_many(self, keys: list[str]) -> dict[str, ChatResult]:
        """The cached replies among ``keys`` (marked ``cached=True``)."""
        found: dict[str, ChatResult] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for start in range(0, len(unique), 500):
                chunk = unique[start:start + 500]
                rows = self._db.execute(
                    "SELECT key, text, finish_reason, prompt_tokens, completion_tokens FROM responses "
                    f"WHERE key IN ({','.join('?' * len(chunk))})", chunk).fetchall()
                for key, text, finish, p_tok, c_tok in rows:
                    found[key] = ChatResult(text=text, finish_reason=finish, prompt_tokens=p_tok,
                                            completion_tokens=c_tok, cached=True)
        return found

    def put(self, key: str, model: str, result: ChatResult) -> None:
        """Store one completed reply (committed at once)."""
        if result.text is None:
            return
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
                (key, model, result.text, result.finish_reason, result.prompt_tokens, result.completion_tokens,
                 time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
