"""Push a dataset or checkpoint folder to the Hub and pull one back, with ``huggingface_hub``.

``push_folder`` mirrors a local folder into a repo (creating the repo and branch when missing):

- build/distill intermediates under ``.lm-mixup/`` are never pushed;
- it is resumable: unchanged files are skipped (the Hub reports each file's current oid at preupload and the
  client drops files whose content matches) and LFS/Xet objects the Hub already holds are not sent again;
  without Xet, big folders are also committed in batches so an interrupted push keeps what it committed
  (with Xet, ``upload_folder`` makes a single commit; a rerun re-sends only what the Hub lacks);
- transient errors (429, 5xx, dropped connections) are retried with exponential backoff;
- the token comes from ``token=``, ``HF_TOKEN`` or the cached login and is scrubbed from every error raised.

``HF_ENDPOINT`` (or ``endpoint=``) selects the Hub, e.g. a private Hub or ``lm-mixup hub serve``.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from mixture_builder.errors import ConfigError, InputError, UserError

logger = logging.getLogger(__name__)

T = TypeVar("T")

IGNORE_PATTERNS = [".lm-mixup", ".lm-mixup/*", ".lm-mixup/**"]
"""Folder-relative patterns never pushed (build/distill intermediates)."""

REPO_TYPES = ("dataset", "model", "space")
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
BATCH_MAX_FILES = 200
BATCH_MAX_BYTES = 2 * 2**30


class HubTransferError(UserError):
    """A push or pull that failed after its retries; the message never contains the token."""


# What a failed transfer raises: HTTP errors (HfHubHTTPError subclasses httpx2.HTTPError), connection and
# local I/O errors, the RuntimeError huggingface_hub wraps a failed LFS upload in, and the ValueErrors it uses
# for rejected uploads (LFS batch errors, invalid card YAML).
def _transfer_errors() -> tuple[type[BaseException], ...]:
    import httpx2

    return (httpx2.HTTPError, OSError, RuntimeError, ValueError)


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by a placeholder."""
    if not secret:
        return text
    return text.replace(secret, "<redacted-token>")


def _describe(error: BaseException, secret: str | None) -> str:
    """One line naming the error and its direct cause (huggingface_hub wraps failed uploads), token redacted."""
    text = f"{type(error).__name__}: {error}"
    cause = error.__cause__
    if cause is not None and str(cause) not in text:
        text += f" (caused by {type(cause).__name__}: {cause})"
    return redact(" ".join(text.split()), secret)


def _status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)


def _never_transient() -> tuple[type[BaseException], ...]:
    """Errors that no retry can fix even though they subclass a connection error: offline mode
    (``HF_HUB_OFFLINE=1``, a ``ConnectionError``) and a URL the client cannot speak to."""
    import httpx2
    from huggingface_hub.errors import OfflineModeIsEnabled

    return (OfflineModeIsEnabled, httpx2.UnsupportedProtocol, httpx2.LocalProtocolError)


def _is_transient(error: BaseException | None) -> bool:
    """429/5xx answers and connection errors, also when huggingface_hub wrapped them (``raise ... from``, e.g.
    ``LocalEntryNotFoundError`` from a 503 in ``snapshot_download``); never offline mode or a bad URL scheme
    anywhere in the chain, and never a wrapper without a transient cause (``LocalEntryNotFoundError`` alone)."""
    import httpx2

    never = _never_transient()
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, never):
            return False
        if _status(error) in RETRY_STATUSES or isinstance(error, (httpx2.TransportError, ConnectionError)):
            return True
        error, seen = error.__cause__, seen + 1
    return False


def with_retries(call: Callable[[], T], *, what: str, max_retries: int = 5, base_delay: float = 1.0,
                 max_delay: float = 30.0) -> T:
    """Run ``call``, retrying transient Hub errors (429, 5xx, connection errors) with exponential backoff and
    jitter, honouring ``Retry-After`` when the server sends one."""
    attempt = 0
    while True:
        try:
            return call()
        except Exception as error:
            if not _is_transient(error) or attempt >= max_retries:
                raise
            delay = min(max_delay, base_delay * 2**attempt) * (0.5 + random.random() / 2)
            retry_after = getattr(getattr(error, "response", None), "headers", {}).get("Retry-After")
            if retry_after and str(retry_after).isdigit():
                delay = min(max_delay, float(retry_after))
            attempt += 1
            logger.warning("%s failed with %s (status %s); retry %d/%d in %.1fs", what, type(error).__name__,
                           _status(error), attempt, max_retries, delay)
            time.sleep(delay)


def local_files(folder: Path) -> dict[str, Path]:
    """Repo path → local file for everything under ``folder`` that is pushed (sorted, ignores applied)."""
    from huggingface_hub.utils import filter_repo_objects
    from huggingface_hub.utils._paths import DEFAULT_IGNORE_PATTERNS

    found = {p.relative_to(folder).as_posix(): p for p in sorted(folder.glob("**/*")) if p.is_file()}
    kept = filter_repo_objects(found, ignore_patterns=IGNORE_PATTERNS + DEFAULT_IGNORE_PATTERNS)
    return {path: found[path] for path in kept}


def _batches(files: dict[str, Path], max_files: int, max_bytes: int) -> list[list[str]]:
    batches: list[list[str]] = [[]]
    size = 0
    for path, local in files.items():
        file_size = local.stat().st_size
        if batches[-1] and (len(batches[-1]) >= max_files or size + file_size > max_bytes):
            batches.append([])
            size = 0
        batches[-1].append(path)
        size += file_size
    return batches


def _check_args(repo_id: str, repo_type: str) -> None:
    if repo_type not in REPO_TYPES:
        raise ConfigError(f"unknown repo type {repo_type!r}", field="repo_type",
                          fix=f"use one of {', '.join(REPO_TYPES)}")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ConfigError(f"invalid repo id {repo_id!r}", field="repo_id", fix="use 'namespace/name'")


def push_folder(
    folder: str | Path,
    repo_id: str,
    *,
    repo_type: str = "dataset",
    private: bool = False,
    revision: str | None = None,
    message: str | None = None,
    delete_missing: bool = True,
    token: str | None = None,
    endpoint: str | None = None,
    max_retries: int = 5,
    batch_max_files: int = BATCH_MAX_FILES,
    batch_max_bytes: int = BATCH_MAX_BYTES,
) -> str:
    """Push ``folder`` to ``repo_id`` (on branch ``revision``, default ``main``, created when missing) and
    return the commit id the branch points to afterwards.

    With ``delete_missing`` the repo mirrors the folder: remote files absent locally (e.g. shards of an older
    build) are deleted in the same push, except ``.gitattributes``."""
    from huggingface_hub import HfApi, get_token

    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("not a folder", path=str(folder), fix="pass the folder written by build/distill/train")
    _check_args(repo_id, repo_type)
    if revision is not None and COMMIT_SHA.match(revision):
        raise ConfigError(f"cannot push to commit {revision}", field="revision", fix="pass a branch name")
    secret = token or get_token()
    api = HfApi(endpoint=endpoint, token=token)
    message = message or f"Upload {folder.resolve().name} with lm-mixup"
    try:
        with_retries(lambda: api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True),
                     what=f"create {repo_type} repo {repo_id}", max_retries=max_retries)
        if revision not in (None, "main"):
            with_retries(lambda: api.create_branch(repo_id, branch=revision, repo_type=repo_type, exist_ok=True),
                         what=f"create branch {revision}", max_retries=max_retries)
        files = local_files(folder)
        if not files:
            raise InputError("nothing to push (the folder is empty or only holds ignored files)", path=str(folder))
        return _upload(api, folder, files, repo_id, repo_type=repo_type, revision=revision, message=message,
                       delete_missing=delete_missing, max_retries=max_retries,
                       batch_max_files=batch_max_files, batch_max_bytes=batch_max_bytes)
    except (InputError, ConfigError):
        raise
    except _transfer_errors() as error:
        detail = _describe(error, secret)
        raise HubTransferError(f"push of {folder} to {repo_type} repo {repo_id} failed: {detail} — rerun the "
                               "same command to resume (finished files are not sent again)") from None


def _upload(api, folder: Path, files: dict[str, Path], repo_id: str, *, repo_type: str, revision: str | None,
            message: str, delete_missing: bool, max_retries: int, batch_max_files: int,
            batch_max_bytes: int) -> str:
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete
    from huggingface_hub.utils._runtime import is_xet_available

    if is_xet_available():
        # The client's own upload: one commit for the whole folder. Xet deduplicates content, so a rerun
        # after an interruption only sends chunks the Hub does not hold yet.
        info = with_retries(
            lambda: api.upload_folder(repo_id=repo_id, folder_path=folder, repo_type=repo_type,
                                      revision=revision, commit_message=message,
                                      ignore_patterns=list(IGNORE_PATTERNS),
                                      delete_patterns=["*"] if delete_missing else None),
            what=f"upload {folder}", max_retries=max_retries)
        return info.oid

    deletions: list[CommitOperationDelete] = []
    if delete_missing:
        remote = with_retries(
            lambda: [f.path for f in api.list_repo_tree(repo_id, repo_type=repo_type, revision=revision,
                                                        recursive=True) if hasattr(f, "blob_id")],
            what=f"list {repo_id}", max_retries=max_retries)
        deletions = [CommitOperationDelete(path_in_repo=p) for p in remote
                     if p not in files and p != ".gitattributes"]
    batches = _batches(files, batch_max_files, batch_max_bytes)
    head = ""
    for index, batch in enumerate(batches):
        operations: list = [CommitOperationAdd(path_in_repo=path, path_or_fileobj=str(files[path])) for path in batch]
        if index == len(batches) - 1:
            operations += deletions
        part = f" (part {index + 1} of {len(batches)})" if len(batches) > 1 else ""
        logger.info("pushing %d files to %s%s", len(batch), repo_id, part)
        info = with_retries(
            lambda ops=operations, msg=message + part: api.create_commit(
                repo_id, operations=ops, commit_message=msg, repo_type=repo_type, revision=revision),
            what=f"commit to {repo_id}{part}", max_retries=max_retries)
        head = info.oid
    return head


def pull(
    repo_id: str,
    folder: str | Path,
    *,
    repo_type: str = "dataset",
    revision: str | None = None,
    token: str | None = None,
    endpoint: str | None = None,
    max_retries: int = 5,
) -> Path:
    """Download ``repo_id`` at ``revision`` (branch or commit id; default ``main``) into ``folder``."""
    from huggingface_hub import get_token, snapshot_download

    _check_args(repo_id, repo_type)
    secret = token or get_token()
    try:
        path = with_retries(
            lambda: snapshot_download(repo_id, repo_type=repo_type, revision=revision, local_dir=str(folder),
                                      token=token, endpoint=endpoint),
            what=f"download {repo_id}", max_retries=max_retries)
    except _transfer_errors() as error:
        detail = _describe(error, secret)
        raise HubTransferError(f"pull of {repo_type} repo {repo_id} into {folder} failed: {detail}") from None
    return Path(path)
