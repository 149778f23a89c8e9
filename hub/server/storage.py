"""On-disk storage of the local Hub: content-addressed blobs and per-commit manifests.

Layout under the server root::

    blobs/ab/cd/<sha256>                         file contents (regular and LFS), content-addressed
    repos/<type>s/<namespace>/<name>/repo.json   repo settings (private, creation date)
    repos/<type>s/<namespace>/<name>/refs.json   branch name -> commit id
    repos/<type>s/<namespace>/<name>/commits/<id>.json
                                                 one immutable manifest per commit (every file's path,
                                                 sha256, size, git oid and whether it is stored as LFS)

A commit never changes once written, so every old revision stays loadable.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

LFS_POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n"


def git_blob_oid(data: bytes) -> str:
    """The git object id (sha1 of ``blob {len}\\0{data}``) of ``data``."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file that stands for an LFS object in git."""
    return LFS_POINTER.format(oid=sha256, size=size).encode()


def utc_now() -> str:
    """The current time as the ISO-8601 string the Hub API uses."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON to ``path`` through a temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
    os.replace(tmp, path)


@dataclass(frozen=True)
class FileEntry:
    """One file of a commit: its content address and how git stores it."""

    sha256: str
    size: int
    git_oid: str  # git blob id: of the content (regular) or of the LFS pointer (LFS)
    lfs: bool

    @property
    def etag(self) -> str:
        """The ETag the Hub serves: the sha256 for LFS files, the git blob id otherwise."""
        return self.sha256 if self.lfs else self.git_oid

    @property
    def pointer_size(self) -> int:
        return len(lfs_pointer(self.sha256, self.size))

    def to_list(self) -> list:
        return [self.sha256, self.size, self.git_oid, self.lfs]

    @classmethod
    def from_list(cls, item: list) -> FileEntry:
        return cls(sha256=item[0], size=int(item[1]), git_oid=item[2], lfs=bool(item[3]))


@dataclass(frozen=True)
class Commit:
    """An immutable snapshot of a repo."""

    id: str
    parents: tuple[str, ...]
    title: str
    message: str
    date: str
    author: str
    files: dict[str, FileEntry]

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "parents": list(self.parents),
            "title": self.title,
            "message": self.message,
            "date": self.date,
            "author": self.author,
            "files": {path: entry.to_list() for path, entry in sorted(self.files.items())},
        }

    @classmethod
    def from_json(cls, data: dict) -> Commit:
        return cls(
            id=data["id"],
            parents=tuple(data["parents"]),
            title=data["title"],
            message=data["message"],
            date=data["date"],
            author=data["author"],
            files={path: FileEntry.from_list(item) for path, item in data["files"].items()},
        )


class BlobStore:
    """Content-addressed file contents, keyed by sha256."""

    def __init__(self, root: Path) -> None:
        self.root = root / "blobs"
        self.tmp = root / "tmp"
        self.root.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def has(self, sha256: str, size: int | None = None) -> bool:
        path = self.path(sha256)
        return path.is_file() and (size is None or path.stat().st_size == size)

    def put_bytes(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.has(sha256):
            fd, tmp = tempfile.mkstemp(dir=self.tmp)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            self.adopt(Path(tmp), sha256)
        return sha256

    def new_temp(self) -> Path:
        """A fresh temporary file path (same filesystem as the blobs, for atomic adoption)."""
        return self.tmp / uuid.uuid4().hex

    def adopt(self, tmp: Path, sha256: str) -> None:
        """Move a fully written temporary file into the store under its sha256."""
        target = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, target)


class RepoStore:
    """Repos, their branches and their commits under ``root/repos``."""

    def __init__(self, root: Path) -> None:
        self.root = root / "repos"
        self.root.mkdir(parents=True, exist_ok=True)

    def repo_dir(self, repo_type: str, repo_id: str) -> Path:
        return self.root / f"{repo_type}s" / repo_id

    def exists(self, repo_type: str, repo_id: str) -> bool:
        return (self.repo_dir(repo_type, repo_id) / "repo.json").is_file()

    def create(self, repo_type: str, repo_id: str, *, private: bool) -> None:
        write_json_atomic(
            self.repo_dir(repo_type, repo_id) / "repo.json",
            {"private": private, "createdAt": utc_now(), "type": repo_type, "id": repo_id},
        )

    def delete(self, repo_type: str, repo_id: str) -> None:
        shutil.rmtree(self.repo_dir(repo_type, repo_id))

    def settings(self, repo_type: str, repo_id: str) -> dict:
        return json.loads((self.repo_dir(repo_type, repo_id) / "repo.json").read_text())

    def update_settings(self, repo_type: str, repo_id: str, **changes: Any) -> None:
        settings = {**self.settings(repo_type, repo_id), **changes}
        write_json_atomic(self.repo_dir(repo_type, repo_id) / "repo.json", settings)

    def refs(self, repo_type: str, repo_id: str) -> dict[str, str]:
        path = self.repo_dir(repo_type, repo_id) / "refs.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def set_ref(self, repo_type: str, repo_id: str, branch: str, commit_id: str | None) -> None:
        refs = self.refs(repo_type, repo_id)
        if commit_id is None:
            refs.pop(branch, None)
        else:
            refs[branch] = commit_id
        write_json_atomic(self.repo_dir(repo_type, repo_id) / "refs.json", refs)

    def commit_path(self, repo_type: str, repo_id: str, commit_id: str) -> Path:
        return self.repo_dir(repo_type, repo_id) / "commits" / f"{commit_id}.json"

    def has_commit(self, repo_type: str, repo_id: str, commit_id: str) -> bool:
        return self.commit_path(repo_type, repo_id, commit_id).is_file()

    def load_commit(self, repo_type: str, repo_id: str, commit_id: str) -> Commit:
        return Commit.from_json(json.loads(self.commit_path(repo_type, repo_id, commit_id).read_text()))

    def write_commit(
        self,
        repo_type: str,
        repo_id: str,
        *,
        parents: tuple[str, ...],
        files: dict[str, FileEntry],
        title: str,
        message: str,
        author: str,
    ) -> Commit:
        date = utc_now()
        digest = hashlib.sha1(
            json.dumps(
                [list(parents), {p: e.to_list() for p, e in sorted(files.items())}, title, message, date,
                 uuid.uuid4().hex]
            ).encode()
        ).hexdigest()
        commit = Commit(id=digest, parents=parents, title=title, message=message, date=date, author=author,
                        files=dict(files))
        write_json_atomic(self.commit_path(repo_type, repo_id, commit.id), commit.to_json())
        return commit

    def resolve(self, repo_type: str, repo_id: str, revision: str) -> str | None:
        """The commit id a branch name, ``refs/heads/<branch>`` or (possibly short) commit id points to."""
        refs = self.refs(repo_type, repo_id)
        name = revision.removeprefix("refs/heads/")
        if name in refs:
            return refs[name]
        lowered = revision.lower()
        if len(lowered) == 40 and self.has_commit(repo_type, repo_id, lowered):
            return lowered
        if 7 <= len(lowered) < 40 and all(c in "0123456789abcdef" for c in lowered):
            matches = [p.stem for p in (self.repo_dir(repo_type, repo_id) / "commits").glob(f"{lowered}*.json")]
            if len(matches) == 1:
                return matches[0]
        return None

    def history(self, repo_type: str, repo_id: str, commit_id: str) -> list[Commit]:
        """The commits reachable from ``commit_id`` following first parents, newest first."""
        out: list[Commit] = []
        current: str | None = commit_id
        while current:
            commit = self.load_commit(repo_type, repo_id, current)
            out.append(commit)
            current = commit.parents[0] if commit.parents else None
        return out
