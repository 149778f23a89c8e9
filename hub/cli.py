"""CLI subcommands of this package: ``lm-mixup push``, ``lm-mixup pull`` and ``lm-mixup hub serve``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

hub_app = typer.Typer(help="A local Hugging Face Hub-compatible server for offline work.", no_args_is_help=True)


@hub_app.command("serve")
def serve_command(
    root: Annotated[Path, typer.Option("--root", help="Folder where repos and files are persisted.")],
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    host: Annotated[str, typer.Option("--host", help="Address to bind (keep 127.0.0.1 unless you mean it).")] = (
        "127.0.0.1"
    ),
    token_env: Annotated[
        str | None,
        typer.Option("--token-env", help="Environment variable holding the only token accepted for writes "
                     "(default: any token is accepted)."),
    ] = None,
) -> None:
    """Serve a local Hub; point clients at it with HF_ENDPOINT=http://HOST:PORT and HF_HUB_DISABLE_XET=1."""
    from hub.server import serve

    token = None
    if token_env:
        token = os.environ.get(token_env)
        if not token:
            raise typer.BadParameter(f"environment variable {token_env} is empty or unset", param_hint="--token-env")
    root.mkdir(parents=True, exist_ok=True)
    serve(root, host=host, port=port, token=token)


def push_command(
    folder: Annotated[Path, typer.Argument(help="Dataset or checkpoint folder to publish.")],
    repo_id: Annotated[str, typer.Argument(help="Target repo, 'namespace/name'.")],
    repo_type: Annotated[str, typer.Option("--repo-type", help="dataset | model.")] = "dataset",
    private: Annotated[bool, typer.Option("--private", help="Create the repo as private.")] = False,
    revision: Annotated[
        str | None,
        typer.Option("--revision", "--branch", help="Branch to push to (created when missing; default main)."),
    ] = None,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Commit message.")] = None,
    keep_remote: Annotated[
        bool,
        typer.Option("--keep-remote", help="Keep remote files absent from the folder (default: mirror the folder)."),
    ] = False,
) -> None:
    """Push a folder to the Hub (HF_ENDPOINT honoured; token from HF_TOKEN or the cached login). Resumable."""
    from hub.push import push_folder

    commit = push_folder(folder, repo_id, repo_type=repo_type, private=private, revision=revision,
                         message=message, delete_missing=not keep_remote)
    typer.echo(f"pushed {folder} to {repo_type} {repo_id} at commit {commit}")


def pull_command(
    repo_id: Annotated[str, typer.Argument(help="Repo to download, 'namespace/name'.")],
    folder: Annotated[Path, typer.Argument(help="Local folder to download into.")],
    revision: Annotated[str | None, typer.Option("--revision", help="Branch or commit id (default main).")] = None,
    repo_type: Annotated[str, typer.Option("--repo-type", help="dataset | model.")] = "dataset",
) -> None:
    """Download a repo (at a branch or pinned commit) into a folder."""
    from hub.push import pull

    path = pull(repo_id, folder, repo_type=repo_type, revision=revision)
    typer.echo(f"pulled {repo_type} {repo_id} into {path}")


def register(app: typer.Typer) -> None:
    """Add this package's subcommands to ``app``."""
    app.command("push")(push_command)
    app.command("pull")(pull_command)
    app.add_typer(hub_app, name="hub")
