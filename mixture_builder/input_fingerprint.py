"""Fingerprints of a job's inputs, so a rerun notices edited files and moved Hub datasets.

:func:`input_fingerprint` records, per input (a local file or folder, an ``hf://`` URL or an ``org/name`` Hub
dataset id): each file's size, modification time and — unless size/mtime are trusted — a streamed xxh3 hash
of its content; for a Hub dataset, the commit its revision resolves to. :func:`changed_inputs` names what
differs between two records in one short phrase per input. :func:`mixture_builder.work_dir.prepare_work_dir`
stores the record beside the settings fingerprint and compares it on every run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

import xxhash

from mixture_builder.errors import ConfigError, InputError
from mixture_builder.readers.api import is_hub_id

ContentHash = Literal["auto", "always", "never"]
CONTENT_HASH_CHOICES: tuple[str, ...] = ("auto", "always", "never")
CONTENT_HASH_HELP = (
    "Fingerprint input files by content (xxh3) on every run: 'always', 'never' (trust size and modification "
    "time), or 'auto' (content when all inputs together are at most 4 GiB, else size and time)."
)

AUTO_HASH_MAX_BYTES = 4 * 2**30
"""``content_hash="auto"`` hashes when all local input files together are at most this size. xxh3 streamed the
shared raw data (48 MB, page cache) at 0.5–2.3 GB/s on two busy shared cores (``benchmarks/input_fingerprint.py``),
so 4 GiB cost 2–9 s warm and under a minute from a 100 MB/s network disk — noise next to the teacher requests of
such a pool. Larger inputs are compared by size and modification time, which every editor, copy and download
changes; only tools that restore timestamps (``cp -p``, ``rsync -t``, ``tar``) of a same-size edit slip by,
and ``"always"`` covers them."""

_CHUNK = 1 << 20
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


def input_fingerprint(
    inputs: Mapping[str, str | os.PathLike[str]] | Iterable[str | os.PathLike[str]],
    *,
    content_hash: str = "auto",
    exclude: Iterable[str | os.PathLike[str]] = (),
) -> dict[str, dict[str, Any]]:
    """A JSON-able record of ``inputs`` (``{name: path}``, e.g. ``{"pools[0].path": …}``, or plain paths,
    each its own name): ``{name: {"kind": "file"|"folder"|"hub"|"url"|"missing", …}}``.

    Local files and folders (every non-hidden file under it, recursively, except those under ``exclude``,
    e.g. the job's own output folder) give ``files: {relative path: {size, mtime_ns[, xxh3]}}``;
    ``hf://datasets/org/name[@rev]/…`` URLs and ``org/name[:split]`` ids give the ``sha`` of the resolved
    commit (``HfApi.repo_info``); other URLs are recorded as they are (not checked)."""
    if content_hash not in CONTENT_HASH_CHOICES:
        raise ConfigError(f"unknown value {content_hash!r}", field="input_hash",
                          fix=f"use one of {', '.join(CONTENT_HASH_CHOICES)}")
    named = dict(inputs.items()) if isinstance(inputs, Mapping) else {os.fspath(p): p for p in inputs}
    skip = [Path(local_path(os.fspath(p))) for p in exclude]
    record = {name: _describe(os.fspath(path), skip) for name, path in named.items()}
    local = [(Path(r["path"]), r["files"]) for r in record.values() if r["kind"] in ("file", "folder")]
    total = sum(stat["size"] for _, files in local for stat in files.values())
    if content_hash == "always" or (content_hash == "auto" and total <= AUTO_HASH_MAX_BYTES):
        for root, files in local:
            for rel, stat in files.items():
                stat["xxh3"] = file_hash(root / rel if rel != "." else root)
    return record


def local_path(path: str) -> str:
    """``path`` resolved to an absolute local path; URLs (``scheme://``) unchanged."""
    if "://" in path:
        return path
    return str(Path(path).expanduser().resolve())


def file_hash(path: str | os.PathLike[str]) -> str:
    """xxh3-128 hex digest of a file's content, read in 1 MiB chunks."""
    digest = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _describe(path: str, exclude: list[Path]) -> dict[str, Any]:
    hub = _hub_repo(path)
    if hub is not None:
        return _hub_record(path, *hub)
    if "://" in path:
        return {"kind": "url", "path": path}
    root = Path(local_path(path))
    if root.is_file():
        return {"kind": "file", "path": str(root), "files": {".": _stat(root)}}
    if root.is_dir():
        files = {}
        for dirpath, dirnames, filenames in os.walk(root):
            here = Path(dirpath)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and here / d not in exclude)
            for name in sorted(filenames):
                if not name.startswith(".") and here / name not in exclude:
                    files[(here / name).relative_to(root).as_posix()] = _stat(here / name)
        return {"kind": "folder", "path": str(root), "files": files}
    return {"kind": "missing", "path": str(root)}


def _stat(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _hub_repo(path: str) -> tuple[str, str, str | None] | None:
    """``(repo_type, repo_id, revision)`` of an ``hf://`` URL or an ``org/name[:split]`` Hub dataset id."""
    if path.startswith("hf://"):
        parts = path[len("hf://"):].split("/")
        repo_type = "model"
        if parts[0] in ("datasets", "spaces"):
            repo_type, parts = parts[0][:-1], parts[1:]
        if len(parts) < 2:
            return None
        name, _, revision = parts[1].partition("@")
        return repo_type, f"{parts[0]}/{name}", unquote(revision) or None
    return ("dataset", path.split(":", 1)[0], None) if is_hub_id(path) else None


def _hub_record(path: str, repo_type: str, repo_id: str, revision: str | None) -> dict[str, Any]:
    record: dict[str, Any] = {"kind": "hub", "path": path, "repo": repo_id, "revision": revision or "main"}
    if revision and _COMMIT.match(revision):
        return record | {"sha": revision}
    import httpx2  # huggingface_hub's HTTP backend: its errors (and HfHubHTTPError) derive from httpx2.HTTPError
    from huggingface_hub import HfApi

    try:
        info = HfApi().repo_info(repo_id, repo_type=repo_type, revision=revision)
    except (httpx2.HTTPError, OSError, ValueError) as error:  # offline, unknown repo or revision, bad id
        first = (str(error).splitlines() or [""])[0]
        raise InputError(f"cannot resolve the Hub revision ({type(error).__name__}: {first})", path=path,
                         reason="hub_revision",
                         fix="check the repo id and the network (HF_ENDPOINT), or pin a commit with @<sha>") from None
    return record | {"sha": info.sha}


def changed_inputs(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """One phrase per input of ``new`` that differs from ``old`` (e.g. ``"pool.jsonl: content changed"``).

    A file whose both records carry a content hash is compared by content (and size), else by size and
    modification time; ``old=None`` (nothing recorded) counts every input as changed."""
    if old is None:
        return ["inputs (not recorded by an older version)"]
    out = []
    for name, record in new.items():
        before = old.get(name)
        label = name if name == record.get("path") else f"{name} {record.get('path')}"
        if not isinstance(before, dict) or before.get("path") != record.get("path"):
            out.append(f"{label}: new input")
        elif record.get("kind") == "hub":
            if before.get("sha") != record.get("sha"):
                out.append(f"{label}: Hub commit {str(before.get('sha'))[:8]} → {str(record.get('sha'))[:8]}")
        elif before.get("kind") != record.get("kind"):
            out.append(f"{label}: was a {before.get('kind')}, now a {record.get('kind')}")
        elif record.get("kind") in ("file", "folder"):
            files = _changed_files(before.get("files", {}), record["files"])
            if files:
                more = f" (+{len(files) - 3} more)" if len(files) > 3 else ""
                out.append(f"{label}: " + ", ".join(files[:3]) + more)
    out += [f"{name}: no longer an input" for name in old if name not in new]
    return out


def _changed_files(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    out = []
    for rel in sorted(set(old) | set(new)):
        shown = "content" if rel == "." else rel
        a, b = old.get(rel), new.get(rel)
        if a is None:
            out.append(f"{shown} added")
        elif b is None:
            out.append(f"{shown} removed")
        elif a["size"] != b["size"]:
            out.append(f"{shown} changed (size {a['size']} → {b['size']})" if rel != "." else "size changed")
        elif "xxh3" in a and "xxh3" in b:
            if a["xxh3"] != b["xxh3"]:
                out.append(f"{shown} changed (content)" if rel != "." else "content changed")
        elif a["mtime_ns"] != b["mtime_ns"]:
            out.append(f"{shown} changed (modified)" if rel != "." else "modified")
    return out
