"""``/api/...`` routes of the local Hub: repos, whoami, YAML validation, preupload, commits, trees, refs."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hub.server.card_yaml import card_problems, split_front_matter
from hub.server.context import HubContext, base_url, json_response, read_json, repo_url
from hub.server.repos import HubError, Revision

TREE_PAGE = 1000
TREE_PAGE_EXPANDED = 50


def _repo_id(body: dict) -> str:
    name, organization = body.get("name"), body.get("organization")
    if not name:
        raise HubError(400, "Missing repo name")
    return f"{organization}/{name}" if organization else str(name)


async def create_repo(ctx: HubContext, request: web.Request) -> web.Response:
    ctx.require_write(request)
    await ctx.hit("create_repo")
    body = await read_json(request)
    repo_type = body.get("type") or "model"
    repo_id = _repo_id(body)
    if "/" not in repo_id:
        repo_id = f"{ctx.state.user}/{repo_id}"
    private = body.get("visibility") == "private" or bool(body.get("private"))
    url = repo_url(request, repo_type, repo_id)
    try:
        ctx.state.create_repo(repo_type, repo_id, private=private)
    except HubError as error:
        if error.status == 409:
            return json_response({"error": error.message, "url": url}, status=409)
        raise
    return json_response({"url": url, "name": repo_id, "id": repo_id})


async def delete_repo(ctx: HubContext, request: web.Request) -> web.Response:
    ctx.require_write(request)
    body = await read_json(request)
    repo_id = _repo_id(body)
    if "/" not in repo_id:
        repo_id = f"{ctx.state.user}/{repo_id}"
    ctx.state.delete_repo(body.get("type") or "model", repo_id)
    return web.Response(status=200)


async def update_settings(ctx: HubContext, request: web.Request, repo_type: str, repo_id: str) -> web.Response:
    ctx.require_write(request)
    ctx.state.require_repo(repo_type, repo_id)
    body = await read_json(request)
    if "visibility" in body or "private" in body:
        private = body.get("visibility") == "private" if "visibility" in body else bool(body["private"])
        ctx.state.repos.update_settings(repo_type, repo_id, private=private)
    return json_response({})


async def whoami(ctx: HubContext, request: web.Request) -> web.Response:
    ctx.require_write(request)
    name = ctx.state.user
    return json_response({
        "type": "user", "id": name, "name": name, "fullname": name, "email": None, "orgs": [],
        "isPro": False, "canPay": False,
        "auth": {"type": "access_token", "accessToken": {"displayName": "local", "role": "write"}},
    })


async def validate_yaml(ctx: HubContext, request: web.Request) -> web.Response:
    """Like the Hub: 400 with an ``error`` message (and the list in ``errors``) when the card is rejected; as
    plain text when the client asks for it (``RepoCard.validate`` does and raises ``ValueError(text)``)."""
    body = await read_json(request)
    problems = card_problems(str(body.get("content", "")))
    if problems and "text/plain" in request.headers.get("Accept", ""):
        return web.Response(status=400, text="; ".join(problems), content_type="text/plain")
    if problems:
        return json_response({"error": "; ".join(problems), "errors": [{"message": p} for p in problems],
                              "warnings": []}, status=400)
    return json_response({"errors": [], "warnings": []})


def card_data(ctx: HubContext, rev: Revision) -> dict | None:
    entry = rev.commit.files.get("README.md")
    if entry is None:
        return None
    data, _ = split_front_matter(ctx.state.blobs.path(entry.sha256).read_text(errors="replace"))
    return data


async def repo_info(
    ctx: HubContext, request: web.Request, repo_type: str, repo_id: str, revision: str = "main"
) -> web.Response:
    ctx.check_read(request, repo_type, repo_id)
    await ctx.hit("repo_info")
    rev = ctx.state.revision(repo_type, repo_id, revision)
    settings = ctx.state.repos.settings(repo_type, repo_id)
    blobs = request.query.get("blobs", "").lower() in ("1", "true")
    siblings = []
    for path, entry in sorted(rev.commit.files.items()):
        sibling: dict[str, Any] = {"rfilename": path}
        if blobs:
            sibling.update(size=entry.size, blobId=entry.git_oid)
            if entry.lfs:
                sibling["lfs"] = {"size": entry.size, "sha256": entry.sha256, "pointerSize": entry.pointer_size}
        siblings.append(sibling)
    data: dict[str, Any] = {
        "_id": repo_id, "id": repo_id, "author": repo_id.split("/")[0], "sha": rev.commit.id,
        "lastModified": rev.commit.date, "createdAt": settings.get("createdAt"),
        "private": bool(settings.get("private")), "disabled": False, "gated": False, "downloads": 0,
        "likes": 0, "tags": [], "siblings": siblings, "usedStorage": sum(e.size for e in rev.commit.files.values()),
    }
    card = card_data(ctx, rev)
    if card is not None:
        data["cardData"] = card
    if repo_type == "model":
        data["modelId"] = repo_id
    return json_response(data)


async def preupload(ctx: HubContext, request: web.Request, repo_type: str, repo_id: str,
                    revision: str) -> web.Response:
    ctx.require_write(request)
    ctx.check_read(request, repo_type, repo_id)
    await ctx.hit("preupload")
    body = await read_json(request)
    rev = ctx.state.revision(repo_type, repo_id, revision)
    files = ctx.state.preupload(rev, list(body.get("files", [])), body.get("gitIgnore"))
    return json_response({"files": files, "commitOid": rev.commit.id})


async def commit(ctx: HubContext, request: web.Request, repo_type: str, repo_id: str,
                 revision: str) -> web.Response:
    ctx.require_write(request)
    ctx.check_read(request, repo_type, repo_id)
    if request.query.get("create_pr") in ("1", "true"):
        raise HubError(400, "Pull requests are not supported by the local Hub; commit to a branch instead")
    await ctx.hit("commit")
    raw = await request.read()
    try:
        lines = [json.loads(line) for line in raw.decode().splitlines() if line.strip()]
    except ValueError as error:
        raise HubError(400, f"Invalid NDJSON commit payload: {error}") from None
    new = ctx.state.commit(repo_type, repo_id, revision, lines)
    ctx.counts["file_additions"] += sum(1 for line in lines if line.get("key") in ("file", "lfsFile"))
    return json_response({
        "success": True, "commitOid": new.id, "pullRequestUrl": None,
        "commitUrl": f"{repo_url(request, repo_type, repo_id)}/commit/{new.id}",
    })


async def tree(ctx: HubContext, request: web.Request, repo_type: str, repo_id: str, revision: str,
               path: str = "") -> web.Response:
    ctx.check_read(request, repo_type, repo_id)
    await ctx.hit("tree")
    rev = ctx.state.revision(repo_type, repo_id, revision)
    recursive = request.query.get("recursive", "").lower() in ("1", "true")
    expand = request.query.get("expand", "").lower() in ("1", "true")
    entries = ctx.state.tree(rev, path, recursive=recursive, expand=expand)
    default_limit = TREE_PAGE_EXPANDED if expand else TREE_PAGE
    limit = max(1, min(int(request.query.get("limit", default_limit)), default_limit))
    start = int(request.query.get("cursor", "0") or 0)
    page = entries[start: start + limit]
    headers = {}
    if start + limit < len(entries):
        query = {**request.query, "cursor": str(start + limit), "limit": str(limit)}
        next_url = f"{base_url(request)}{request.raw_path.split('?')[0]}?{urlencode(query)}"
        headers["Link"] = f'<{next_url}>; rel="next"'
    return json_response(page, headers=headers)


async def paths_info(ctx: HubContext, request: web.Request, repo_type: str, repo_id: str,
                     revision: str) -> web.Response:
    ctx.check_read(request, repo_type, repo_id)
    await ctx.hit("paths_info")
    rev = ctx.state.revision(repo_type, repo_id, revision)
    if request.content_type == "application/json":
        body = await read_json(request)
        paths, expand = body.get("paths", []), body.get("expand", False)
    else:
        form = await request.post()
        paths, expand = form.getall("paths", []), form.get("expand", "false")
    paths = [paths] if isinstance(paths, str) else list(paths)
    expand = expand if isinstance(expand, bool) else str(expand).lower() in ("1", "true")
    return json_response(ctx.state.paths_info(rev, [str(p) for p in paths], expand))


async def refs(ctx: HubContext, request: web.Request, repo_type: str, repo_id: str) -> web.Response:
    ctx.check_read(request, repo_type, repo_id)
    branches = [
        {"name": name, "ref": f"refs/heads/{name}", "targetCommit": commit_id}
        for name, commit_id in sorted(ctx.state.repos.refs(repo_type, repo_id).items())
    ]
    return json_response({"branches": branches, "converts": [], "tags": [], "pullRequests": []})


async def commits(ctx: HubContext, request: web.Request, repo_type: str, repo_id: str,
                  revision: str) -> web.Response:
    ctx.check_read(request, repo_type, repo_id)
    rev = ctx.state.revision(repo_type, repo_id, revision)
    history = ctx.state.repos.history(repo_type, repo_id, rev.commit.id)
    return json_response([
        {"id": c.id, "authors": [{"user": c.author}], "date": c.date, "title": c.title, "message": c.message}
        for c in history
    ])


async def branch(ctx: HubContext, request: web.Request, repo_type: str, repo_id: str,
                 name: str) -> web.Response:
    ctx.require_write(request)
    if request.method == "DELETE":
        ctx.state.delete_branch(repo_type, repo_id, name)
    else:
        body = await read_json(request) if request.can_read_body else {}
        ctx.state.create_branch(repo_type, repo_id, name, body.get("startingPoint"))
    return json_response({})
