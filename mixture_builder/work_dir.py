"""Work folders of resumable jobs (``{output}/.lm-mixup/…``): the settings guard and the up-front input check.

datatrove skips the tasks its logging dirs mark complete, so rerunning a job into the same output with other
inputs or options would silently return the old results. Each job stores a fingerprint (a JSON-able dict of
everything that changes its output, including the number of tasks, which decides the sharding) in
``{work_dir}/config.json``; :func:`prepare_work_dir` compares it on every run and refuses or starts over.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal

from mixture_builder.errors import ConfigError, InputError

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


def local_path(path: str) -> str:
    """``path`` resolved to an absolute local path; URLs (``scheme://``) and Hub ids unchanged."""
    if "://" in path:
        return path
    return str(Path(path).expanduser().resolve())


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


def changed_settings(work_dir: str | Path, fingerprint: Mapping[str, Any]) -> list[str] | None:
    """Dotted names of the settings that differ from the stored fingerprint (None: nothing stored yet)."""
    marker = Path(work_dir) / MARKER
    if not marker.is_file():
        return None
    try:
        previous = json.loads(marker.read_text()).get("fingerprint")
    except (json.JSONDecodeError, AttributeError):
        previous = None
    current = json.loads(json.dumps(fingerprint, sort_keys=True, default=str))
    if not isinstance(previous, dict):
        return ["settings (stored by an older version)"]
    return _changed(previous, current)


def prepare_work_dir(
    work_dir: str | Path,
    fingerprint: Mapping[str, Any],
    *,
    on_change: Literal["refuse", "restart"] = "refuse",
    output: str | Path | None = None,
    fresh: bool = False,
) -> list[str]:
    """Create ``work_dir`` and store ``fingerprint``; on a rerun with another fingerprint refuse
    (``ConfigError`` naming ``output`` and the changed settings) or restart (delete ``work_dir``, log a
    WARNING). ``fresh`` always starts over. Returns the changed settings ([] when resuming or new)."""
    if on_change not in ("refuse", "restart"):
        raise ValueError(f"on_change must be 'refuse' or 'restart', not {on_change!r}")
    work = Path(work_dir)
    changed = changed_settings(work, fingerprint) or []
    if fresh and work.exists():
        shutil.rmtree(work)
    elif changed:
        names = ", ".join(changed[:8]) + (", …" if len(changed) > 8 else "")
        if on_change == "refuse":
            raise ConfigError(f"this output folder was built with other settings (changed: {names})",
                              path=str(output or work), fix="use another --output, or delete it to start over")
        logger.warning("%s was made with other settings (changed: %s); starting over", output or work, names)
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    (work / MARKER).write_text(json.dumps({"fingerprint": fingerprint}, indent=2, sort_keys=True, default=str))
    return changed
