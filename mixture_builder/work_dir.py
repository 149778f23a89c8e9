"""Work folders of resumable jobs (``{output}/.lm-mixup/…``): the settings guard and the up-front input check.

datatrove skips the tasks its logging dirs mark complete, so rerunning a job into the same output with other
inputs or options would silently return the old results. Each job stores a fingerprint (a JSON-able dict of
everything that changes its output, including the number of tasks, which decides the sharding) and a record of
its inputs (:func:`mixture_builder.input_fingerprint.input_fingerprint`) in ``{work_dir}/config.json``;
:func:`prepare_work_dir` compares both on every run and refuses or starts over.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from mixture_builder.errors import ConfigError, InputError
from mixture_builder.input_fingerprint import changed_inputs, local_path

__all__ = ["MARKER", "VOLATILE_TEACHER_FIELDS", "changed_settings", "check_inputs_exist", "local_path",
           "prepare_work_dir", "teacher_fingerprint"]

logger = logging.getLogger(__name__)

MARKER = "config.json"

VOLATILE_TEACHER_FIELDS: frozenset[str] = frozenset({
    "use_cache", "progress", "max_concurrency", "requests_per_minute", "tokens_per_minute", "max_retries",
    "backoff_base_s", "backoff_max_s", "timeout_s", "failed_path", "cache_path", "embedded_batch_size",
    "embedded_threads", "api_key_env", "client", "prices",
})
"""``TeacherConfig`` fields that only change how requests are made, never the replies (left out of fingerprints)."""


def teacher_fingerprint(teacher: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A teacher config dict without its :data:`VOLATILE_TEACHER_FIELDS`."""
    if teacher is None:
        return None
    return {k: v for k, v in teacher.items() if k not in VOLATILE_TEACHER_FIELDS}


def check_inputs_exist(paths: Iterable[tuple[str | None, str]], *, config_fields: bool = False) -> None:
    """Raise one-line ``InputError`` (``ConfigError`` with ``config_fields``) for the first missing local path.

    ``paths`` holds ``(field or None, path)``; URLs are left to the readers."""
    for name, path in paths:
        if "://" in path or Path(path).expanduser().exists():
            continue
        fix = "give an existing file or folder"
        if config_fields:
            raise ConfigError(f"{path} does not exist", field=name, fix=fix)
        raise InputError("no such file or folder", path=path, field=name, fix=fix, reason="missing_input")


def _changed(old: Any, new: Any, prefix: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        keys = sorted(set(old) | set(new))
        return [c for k in keys for c in _changed(old.get(k), new.get(k), f"{prefix}{k}.")]
    return [] if old == new else [prefix.rstrip(".") or "settings"]


def _stored(work_dir: Path) -> dict[str, Any] | None:
    marker = work_dir / MARKER
    if not marker.is_file():
        return None
    try:
        stored = json.loads(marker.read_text())
    except json.JSONDecodeError:
        stored = None
    return stored if isinstance(stored, dict) else {}


def changed_settings(work_dir: str | Path, fingerprint: Mapping[str, Any]) -> list[str] | None:
    """Dotted names of the settings that differ from the stored fingerprint (None: nothing stored yet)."""
    stored = _stored(Path(work_dir))
    if stored is None:
        return None
    previous = stored.get("fingerprint")
    current = json.loads(json.dumps(fingerprint, sort_keys=True, default=str))
    if not isinstance(previous, dict):
        return ["settings (stored by an older version)"]
    return _changed(previous, current)


def _what_changed(settings: list[str], inputs: list[str]) -> str:
    """``with other settings (changed: a, b)`` and/or ``from other inputs (x: content changed; …)``."""
    parts = []
    if settings:
        names = ", ".join(settings[:8]) + (", …" if len(settings) > 8 else "")
        parts.append(f"with other settings (changed: {names})")
    if inputs:
        parts.append("from other inputs (" + "; ".join(inputs[:4]) + ("; …" if len(inputs) > 4 else "") + ")")
    return " and ".join(parts)


def prepare_work_dir(
    work_dir: str | Path,
    fingerprint: Mapping[str, Any],
    *,
    inputs: Mapping[str, Any] | None = None,
    on_change: Literal["refuse", "restart"] = "refuse",
    output: str | Path | None = None,
    fresh: bool = False,
) -> list[str]:
    """Create ``work_dir`` and store ``fingerprint`` and ``inputs`` (an :func:`input_fingerprint` record); on
    a rerun with other settings or inputs refuse (``ConfigError`` naming ``output`` and what changed, fixed by
    rerunning with ``--fresh``) or restart (delete ``work_dir``, log one WARNING naming what changed).
    ``fresh`` always starts over. Returns what changed ([] when resuming or new)."""
    if on_change not in ("refuse", "restart"):
        raise ValueError(f"on_change must be 'refuse' or 'restart', not {on_change!r}")
    work = Path(work_dir)
    stored = _stored(work)
    settings = changed_settings(work, fingerprint) or []
    changed_in = [] if stored is None or inputs is None else changed_inputs(stored.get("inputs"), inputs)
    if fresh and work.exists():
        shutil.rmtree(work)
    elif settings or changed_in:
        what = _what_changed(settings, changed_in)
        if on_change == "refuse":
            raise ConfigError(f"this output folder was built {what}", path=str(output or work),
                              fix="rerun with --fresh (Python: fresh=True) to start over, or use another --output")
        logger.warning("%s was made %s; starting over", output or work, what)
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"fingerprint": fingerprint}
    if inputs is not None:
        record["inputs"] = inputs
    (work / MARKER).write_text(json.dumps(record, indent=2, sort_keys=True, default=str))
    return settings + changed_in
