"""``HEAD``/``GET /{prefix}{repo_id}/resolve/{revision}/{path}``: file downloads with the Hub's headers.

Headers: ``X-Repo-Commit`` (the resolved commit), ``ETag`` (git blob id, or sha256 for LFS files),
``X-Linked-Etag``/``X-Linked-Size`` for LFS files, ``Content-Length``, ``Accept-Ranges``; ``Range`` requests
are answered with 206 (the client streams and resumes with them).
"""

from __future__ import annotations

import re

import aiofiles
from aiohttp import web

from hub.server.context import HubContext
from hub.server.repos import HubError

RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
CHUNK = 1 << 20


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single ``Range`` header, ``None`` for the whole file."""
    if not header:
        return None
    match = RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    if match.group(1):
        start = int(match.group(1))
        end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
    else:  # suffix range: the last N bytes
        start, end = max(size - int(match.group(2)), 0), size - 1
    if start >= size or start > end:
        raise HubError(416, f"Requested range not satisfiable (file has {size} bytes)")
    return start, end


async def resolve(ctx: HubContext, request: web.Request, repo_type: str, repo_id: str, revision: str,
                  path: str) -> web.StreamResponse:
    ctx.check_read(request, repo_type, repo_id)
    await ctx.hit("resolve")
    rev = ctx.state.revision(repo_type, repo_id, revision)
    entry = rev.commit.files.get(path)
    if entry is None:
        raise HubError(404, f"Entry not found: {path}", "EntryNotFound")
    headers = {
        "X-Repo-Commit": rev.commit.id,
        "ETag": f'"{entry.etag}"',
        "Accept-Ranges": "bytes",
        "Content-Type": "application/octet-stream",
    }
    if entry.lfs:
        headers["X-Linked-Etag"] = f'"{entry.sha256}"'
        headers["X-Linked-Size"] = str(entry.size)
    try:
        span = _byte_range(request.headers.get("Range"), entry.size)
    except HubError as error:
        error_headers = {"Content-Range": f"bytes */{entry.size}"}
        return web.Response(status=error.status, text=error.message, headers={**headers, **error_headers})
    start, end = span if span is not None else (0, entry.size - 1)
    length = max(end - start + 1, 0)
    headers["Content-Length"] = str(length)
    status = 200
    if span is not None:
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{entry.size}"
    response = web.StreamResponse(status=status, headers=headers)
    if request.method == "HEAD":
        response.content_length = length
        await response.prepare(request)
        return response
    ctx.counts["range_downloads" if span is not None else "downloads"] += 1
    await response.prepare(request)
    async with aiofiles.open(ctx.state.blobs.path(entry.sha256), "rb") as handle:
        await handle.seek(start)
        remaining = length
        while remaining > 0:
            chunk = await handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            await response.write(chunk)
            remaining -= len(chunk)
    await response.write_eof()
    return response
