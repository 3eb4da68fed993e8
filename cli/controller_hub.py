"""`dexagent controller push / pull`: controller checkpoints on a Hugging Face Hub model repo."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from dexagent.cli.controller import controller_app
from dexagent.cli.errors import console, fail


@controller_app.command("push")
def push_command(
    checkpoint: Path = typer.Argument(
        ..., help="A checkpoint folder (model.safetensors, config, normaliser)."
    ),
    repo_id: str = typer.Argument(..., help="The hub model repo, owner/name (created if absent)."),
    private: bool = typer.Option(False, help="Create the repo private."),
    message: str | None = typer.Option(None, help="Commit message."),
    to_folder: Path | None = typer.Option(
        None, "--to-folder", help="Write the repo's files here instead of uploading (to inspect or copy)."
    ),
) -> None:
    """Upload CHECKPOINT (weights, config, normaliser, model card) to the hub model repo REPO_ID."""
    from dexagent.controller.hub import HubError, push, stage  # torch: here, so --help stays fast

    if not checkpoint.is_dir():
        fail(f"{checkpoint} is not a checkpoint folder")
    try:
        if to_folder is not None:
            names = stage(checkpoint, to_folder, repo_id)
            console.print(f"wrote {', '.join(names)} for {repo_id} to {to_folder} (nothing uploaded)")
            return
        url = push(checkpoint, repo_id, private=private, message=message)
    except HubError as error:
        fail(str(error))
    console.print(f"pushed {checkpoint} to {repo_id}: {url}")


@controller_app.command("pull")
def pull_command(
    source: str = typer.Argument(
        ..., help="A hub model repo id (owner/name) or a local folder in its layout."
    ),
    out: Path = typer.Argument(..., help="A new checkpoint folder; use it with --controller OUT."),
    revision: str | None = typer.Option(None, help="Branch, tag or commit (default: main)."),
    offline: bool = typer.Option(False, help="Use the local hub cache only (as HF_HUB_OFFLINE=1 does)."),
    timeout: float = typer.Option(60.0, help="Seconds the hub may take before the pull gives up."),
) -> None:
    """Download the controller at SOURCE into OUT and check that it loads."""
    if not math.isfinite(timeout) or timeout <= 0:
        fail(f"--timeout must be a positive number of seconds, got {timeout}")
    from dexagent.controller.hub import HubError, pull  # torch: here, so --help stays fast

    try:
        folder = pull(source, out, revision=revision, offline=offline, timeout_s=timeout)
    except HubError as error:
        fail(str(error))
    console.print(f"pulled {source} into {folder}; run it with --controller {folder}")
