"""git-lfs routes of the local Hub: the batch API, the upload target (PUT) and the optional verify step."""

from __future__ import annotations

import hashlib
import re

import aiofiles
from aiohttp import web

from hub.server.context import HubContext, base_url, json_response, read_json
from hub.server.repos import HubError

OID = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20


async def batch(ctx: HubContext, request: web.Request, repo_type: str, repo_id: str) -> web.Response:
    """Answer upload instructions: objects the server already holds get no ``actions`` (the client skips them)."""
    ctx.require_write(request)
    ctx.check_read(request, repo_type, repo_id)
    await ctx.hit("batch")
    body = await read_json(request)
    if body.get("operation", "upload") != "upload":
        raise HubError(400, "Only the 'upload' operation is supported; download through /resolve/")
    objects = []
    for item in body.get("objects", []):
        oid, size = str(item.get("oid", "")), int(item.get("size", -1))
        if not OID.match(oid) or size < 0:
            objects.append({"oid": oid, "size": max(size, 0),
                            "error": {"code": 422, "message": "oid must be a sha256 hex digest, size >= 0"}})
            continue
        answer: dict = {"oid": oid, "size": size, "authenticated": True}
        if not ctx.state.blobs.has(oid, size):
            href = f"{base_url(request)}/lfs-objects/{oid}/{size}"
            answer["actions"] = {
                "upload": {"href": href, "header": {}},
                "verify": {"href": f"{base_url(request)}/lfs-verify", "header": {}},
            }
        objects.append(answer)
    return json_response({"transfer": "basic", "objects": objects, "hash_algo": "sha256"},
                         headers={"Content-Type": "application/vnd.git-lfs+json"})


async def upload(ctx: HubContext, request: web.Request, oid: str, size: str) -> web.Response:
    """Receive one LFS object, check its sha256 and size, and store it content-addressed."""
    if not OID.match(oid):
        raise HubError(400, "Invalid LFS oid")
    await ctx.hit("lfs_upload")
    tmp = ctx.state.blobs.new_temp()
    digest = hashlib.sha256()
    received = 0
    try:
        async with aiofiles.open(tmp, "wb") as handle:
            async for chunk in request.content.iter_chunked(CHUNK):
                digest.update(chunk)
                await handle.write(chunk)
                received += len(chunk)
        if digest.hexdigest() != oid or received != int(size):
            raise HubError(400, f"LFS object mismatch: expected sha256 {oid} and {size} bytes, "
                                f"got {digest.hexdigest()} and {received} bytes")
        ctx.state.blobs.adopt(tmp, oid)
    finally:
        tmp.unlink(missing_ok=True)
    with ctx.lock:
        ctx.counts["lfs_uploaded"] += 1
        ctx.uploaded_oids.append(oid)
    return web.Response(status=200, headers={"ETag": f'"{oid}"'})


async def verify(ctx: HubContext, request: web.Request) -> web.Response:
    body = await read_json(request)
    oid, size = str(body.get("oid", "")), int(body.get("size", -1))
    if not ctx.state.blobs.has(oid, size):
        raise HubError(404, f"LFS object {oid} ({size} bytes) not found")
    return json_response({"oid": oid, "size": size})
