"""Repo logic of the local Hub, independent of HTTP: create/delete, revisions, commits, trees, upload modes."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.server.storage import BlobStore, Commit, FileEntry, RepoStore, git_blob_oid, lfs_pointer

REPO_TYPES = ("model", "dataset", "space")

# Files the Hub stores through git-lfs whatever their size (from the Hub's default .gitattributes).
LFS_SUFFIXES = (
    ".7z", ".arrow", ".bin", ".bz2", ".ckpt", ".ftz", ".gguf", ".gz", ".h5", ".joblib", ".lz4", ".mds",
    ".mlmodel", ".model", ".msgpack", ".npy", ".npz", ".onnx", ".ot", ".parquet", ".pb", ".pickle", ".pkl",
    ".pt", ".pth", ".rar", ".safetensors", ".tar", ".tflite", ".tgz", ".wasm", ".xz", ".zip", ".zst",
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".wav", ".mp3", ".flac", ".mp4", ".tfevents",
)
REGULAR_MAX_SIZE = 10 * 2**20  # larger files go through LFS

GITATTRIBUTES = "".join(f"*{suffix} filter=lfs diff=lfs merge=lfs -text\n" for suffix in LFS_SUFFIXES)


class HubError(Exception):
    """An error the server answers with ``status``, the Hub's ``X-Error-Code`` and a message."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def repo_not_found(repo_type: str, repo_id: str) -> HubError:
    return HubError(404, f"Repository {repo_type}s/{repo_id} not found", "RepoNotFound")


def upload_mode(path: str, size: int, sample: bytes) -> str:
    """``lfs`` for binary formats, large or binary-looking files; ``regular`` for small text files."""
    if size > REGULAR_MAX_SIZE or path.lower().endswith(LFS_SUFFIXES) or b"\0" in sample:
        return "lfs"
    return "regular"


def gitignored(path: str, gitignore: str | None) -> bool:
    """Whether ``path`` matches a pattern of a .gitignore text (plain glob lines, ``#`` comments, ``!`` negation)."""
    if not gitignore:
        return False
    ignored = False
    for raw in gitignore.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        anchored = pattern.startswith("/")
        pattern = pattern.strip("/")
        candidates = [path] if anchored else [path, posixpath.basename(path)]
        parents = [path.rsplit("/", i)[0] for i in range(1, path.count("/") + 1)]
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates + parents):
            ignored = not negate
    return ignored


@dataclass
class Revision:
    """A resolved revision of a repo."""

    repo_type: str
    repo_id: str
    commit: Commit


class HubState:
    """The repos of one server root; every method is synchronous and atomic on disk."""

    def __init__(self, root: Path, user: str = "local-user") -> None:
        self.root = Path(root)
        self.blobs = BlobStore(self.root)
        self.repos = RepoStore(self.root)
        self.user = user

    # -- repos ---------------------------------------------------------------------------------------------
    def create_repo(self, repo_type: str, repo_id: str, *, private: bool) -> None:
        if repo_type not in REPO_TYPES:
            raise HubError(400, f"Invalid repo type {repo_type!r}")
        if self.repos.exists(repo_type, repo_id):
            raise HubError(409, "You already created this repo")
        self.repos.create(repo_type, repo_id, private=private)
        sha256 = self.blobs.put_bytes(GITATTRIBUTES.encode())
        entry = FileEntry(sha256, len(GITATTRIBUTES), git_blob_oid(GITATTRIBUTES.encode()), lfs=False)
        commit = self.repos.write_commit(repo_type, repo_id, parents=(), files={".gitattributes": entry},
                                         title="initial commit", message="", author=self.user)
        self.repos.set_ref(repo_type, repo_id, "main", commit.id)

    def require_repo(self, repo_type: str, repo_id: str) -> dict:
        if repo_type not in REPO_TYPES or not self.repos.exists(repo_type, repo_id):
            raise repo_not_found(repo_type, repo_id)
        return self.repos.settings(repo_type, repo_id)

    def delete_repo(self, repo_type: str, repo_id: str) -> None:
        self.require_repo(repo_type, repo_id)
        self.repos.delete(repo_type, repo_id)

    def revision(self, repo_type: str, repo_id: str, revision: str) -> Revision:
        self.require_repo(repo_type, repo_id)
        commit_id = self.repos.resolve(repo_type, repo_id, revision)
        if commit_id is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return Revision(repo_type, repo_id, self.repos.load_commit(repo_type, repo_id, commit_id))

    def create_branch(self, repo_type: str, repo_id: str, branch: str, starting_point: str | None) -> None:
        self.require_repo(repo_type, repo_id)
        if branch in self.repos.refs(repo_type, repo_id):
            raise HubError(409, f"Branch {branch} already exists")
        start = self.revision(repo_type, repo_id, starting_point or "main").commit.id
        self.repos.set_ref(repo_type, repo_id, branch, start)

    def delete_branch(self, repo_type: str, repo_id: str, branch: str) -> None:
        self.require_repo(repo_type, repo_id)
        if branch not in self.repos.refs(repo_type, repo_id) or branch == "main":
            raise HubError(404 if branch != "main" else 403, f"Cannot delete branch {branch}", "RevisionNotFound")
        self.repos.set_ref(repo_type, repo_id, branch, None)

    # -- commits -------------------------------------------------------------------------------------------
    def commit(self, repo_type: str, repo_id: str, branch: str, lines: list[dict[str, Any]]) -> Commit:
        """Apply NDJSON commit operations (``header``, ``file``, ``lfsFile``, ``deletedFile``,
        ``deletedFolder``) on top of ``branch`` and move the branch to the new commit."""
        self.require_repo(repo_type, repo_id)
        refs = self.repos.refs(repo_type, repo_id)
        branch = branch.removeprefix("refs/heads/")
        if branch not in refs:
            raise HubError(404, f"Invalid rev id: {branch} (commits go to a branch)", "RevisionNotFound")
        head = self.repos.load_commit(repo_type, repo_id, refs[branch])
        files = dict(head.files)
        header: dict[str, Any] = {}
        for line in lines:
            key, value = line.get("key"), line.get("value") or {}
            if key == "header":
                header = value
            elif key == "file":
                data = base64.b64decode(value["content"]) if value.get("encoding") == "base64" else \
                    str(value["content"]).encode()
                sha256 = self.blobs.put_bytes(data)
                files[self._path(value)] = FileEntry(sha256, len(data), git_blob_oid(data), lfs=False)
            elif key == "lfsFile":
                oid, size = value["oid"], int(value["size"])
                if not self.blobs.has(oid, size):
                    raise HubError(422, f"LFS object {oid} of {value['path']} was not uploaded")
                files[self._path(value)] = FileEntry(oid, size, git_blob_oid(lfs_pointer(oid, size)), lfs=True)
            elif key == "deletedFile":
                path = self._path(value)
                if path not in files:
                    raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                del files[path]
            elif key == "deletedFolder":
                prefix = self._path(value).rstrip("/") + "/"
                doomed = [p for p in files if p.startswith(prefix)]
                if not doomed:
                    raise HubError(404, f"A folder with this name doesn't exist: {prefix}", "EntryNotFound")
                for path in doomed:
                    del files[path]
            else:
                raise HubError(400, f"Unknown commit operation key {key!r}")
        parent = header.get("parentCommit")
        if parent and self.repos.resolve(repo_type, repo_id, parent) != head.id:
            raise HubError(412, f"Parent commit {parent} is not the head of {branch} ({head.id})")
        title = str(header.get("summary") or "Commit")
        commit = self.repos.write_commit(repo_type, repo_id, parents=(head.id,), files=files, title=title,
                                         message=str(header.get("description") or ""), author=self.user)
        self.repos.set_ref(repo_type, repo_id, branch, commit.id)
        return commit

    @staticmethod
    def _path(value: dict) -> str:
        path = str(value.get("path", "")).strip("/")
        if not path or ".." in path.split("/"):
            raise HubError(400, f"Invalid path in commit: {value.get('path')!r}")
        return path

    # -- listings ------------------------------------------------------------------------------------------
    def preupload(self, rev: Revision, files: list[dict], gitignore: str | None) -> list[dict]:
        """Upload mode, ignore flag and current oid of each file the client is about to commit."""
        if gitignore is None and ".gitignore" in rev.commit.files:
            gitignore = self.blobs.path(rev.commit.files[".gitignore"].sha256).read_text(errors="replace")
        out = []
        for item in files:
            path, size = item["path"], int(item.get("size", 0))
            sample = base64.b64decode(item.get("sample", ""))
            existing = rev.commit.files.get(path)
            out.append({
                "path": path,
                "uploadMode": upload_mode(path, size, sample),
                "shouldIgnore": gitignored(path, gitignore),
                "oid": None if existing is None else existing.etag,
            })
        return out

    def folders(self, commit: Commit) -> set[str]:
        out: set[str] = set()
        for path in commit.files:
            parts = path.split("/")[:-1]
            out.update("/".join(parts[: i + 1]) for i in range(len(parts)))
        return out

    def file_info(self, rev: Revision, path: str, expand: bool) -> dict:
        entry = rev.commit.files[path]
        info: dict[str, Any] = {"type": "file", "oid": entry.git_oid, "size": entry.size, "path": path}
        if entry.lfs:
            info["lfs"] = {"oid": entry.sha256, "size": entry.size, "pointerSize": entry.pointer_size}
        if expand:
            info["lastCommit"] = self._last_commit(rev, lambda c: c.files.get(path))
            info["securityFileStatus"] = {"status": "safe", "avScan": {"virusFound": False},
                                          "pickleImportScan": None}
        return info

    def folder_info(self, rev: Revision, path: str, expand: bool) -> dict:
        info: dict[str, Any] = {"type": "directory", "oid": self._tree_oid(rev.commit, path), "size": 0,
                                "path": path}
        if expand:
            info["lastCommit"] = self._last_commit(rev, lambda c: self._tree_oid(c, path))
        return info

    def tree(self, rev: Revision, path: str, *, recursive: bool, expand: bool) -> list[dict]:
        """Entries under folder ``path`` ('' for the root): folders first, then files, each sorted by path."""
        path = path.strip("/")
        prefix = path + "/" if path else ""
        folders = self.folders(rev.commit)
        if path and path not in folders:
            kind = "a file, not a folder" if path in rev.commit.files else "not found"
            raise HubError(404, f"Path {path} is {kind}", "EntryNotFound")

        def wanted(candidate: str) -> bool:
            return candidate.startswith(prefix) and (recursive or "/" not in candidate[len(prefix):])

        dirs = sorted(f for f in folders if wanted(f))
        files = sorted(f for f in rev.commit.files if wanted(f))
        return [self.folder_info(rev, d, expand) for d in dirs] + [self.file_info(rev, f, expand) for f in files]

    def paths_info(self, rev: Revision, paths: list[str], expand: bool) -> list[dict]:
        folders = self.folders(rev.commit)
        out = []
        for raw in paths:
            path = raw.strip("/")
            if path in rev.commit.files:
                out.append(self.file_info(rev, path, expand))
            elif path in folders:
                out.append(self.folder_info(rev, path, expand))
        return out

    def _tree_oid(self, commit: Commit, path: str) -> str | None:
        prefix = path + "/" if path else ""
        items = sorted((p, e.git_oid) for p, e in commit.files.items() if p.startswith(prefix))
        if not items:
            return None
        return hashlib.sha1(repr(items).encode()).hexdigest()

    def _last_commit(self, rev: Revision, key) -> dict:
        history = self.repos.history(rev.repo_type, rev.repo_id, rev.commit.id)
        current = key(history[0])
        last = history[0]
        for commit in history[1:]:
            if key(commit) != current:
                break
            last = commit
        return {"id": last.id, "title": last.title, "date": last.date}
