"""A checkpoint's files as one unit: atomic writes, the manifest that commits them, `previous/`.

Each file is written beside its place and renamed in; the manifest (manifest.json), renamed
in last, holds the size and SHA-256 of the files a training run rewrites at every save (the
weights and the training state). A save killed half way leaves files the manifest does not
describe: `verify_files` finds them (`TornCheckpointError`), and a resume puts back the
checkpoint the save kept in `previous/` (`restore_previous`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
NORMALIZER_FILE = "normalizer.json"
STATE_TENSORS_FILE = "training_state.safetensors"
STATE_JSON_FILE = "training_state.json"
MANIFEST_FILE = "manifest.json"
PREVIOUS_DIR = "previous"
_MANIFEST_FORMAT = "dexagent-checkpoint-manifest-v1"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupted or does not match its config; names the file and the problem."""


class TornCheckpointError(CheckpointError):
    """A save was interrupted: a file differs from what the manifest committed (or the manifest is gone)."""


def write_json(path: Path, data: Any) -> None:
    # Write then rename: an interrupted save never leaves a half-written JSON file.
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise CheckpointError(
            f"{path}: missing (a checkpoint needs {MODEL_FILE}, {CONFIG_FILE}, {NORMALIZER_FILE})"
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{path}: line {error.lineno}: not valid JSON ({error.msg})") from None
    except UnicodeDecodeError:
        raise CheckpointError(f"{path}: not a text file") from None


def fingerprint(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def write_manifest(directory: Path, files: list[str]) -> None:
    """Commit `files` of `directory` as one checkpoint (the last write of a save)."""
    manifest = {"format": _MANIFEST_FORMAT, "files": {name: fingerprint(directory / name) for name in files}}
    write_json(directory / MANIFEST_FILE, manifest)


def verify_files(directory: str | Path) -> None:
    """Check every file against the manifest; `TornCheckpointError` names the first that differs.

    A checkpoint without a manifest (written before manifests, or by hand) is not checked here."""
    directory = Path(directory)
    path = directory / MANIFEST_FILE
    if not path.exists():
        if any(directory.glob("*.tmp")) and (directory / PREVIOUS_DIR / MANIFEST_FILE).exists():
            raise TornCheckpointError(f"{path}: missing while a save was under way (.tmp files are left)")
        return
    manifest = read_json(path)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or manifest.get("format") != _MANIFEST_FORMAT:
        raise CheckpointError(f"{path}: not a checkpoint manifest")
    for name, expected in files.items():
        file = directory / str(name)
        if not file.is_file():
            raise TornCheckpointError(f"{file}: missing, but {path} lists it")
        if fingerprint(file) != expected:
            raise TornCheckpointError(
                f"{file}: not the file {path} committed (a save was interrupted, or it was changed)"
            )


def keep_previous(directory: Path) -> None:
    """Hard-link the committed checkpoint in `directory` into `directory/previous/` (replacing it)."""
    try:
        verify_files(directory)
    except CheckpointError:
        return  # nothing whole to keep: the previous/ already there stays
    if not (directory / MANIFEST_FILE).exists():
        return
    staging = directory / f"{PREVIOUS_DIR}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    names = [*json.loads((directory / MANIFEST_FILE).read_text())["files"], CONFIG_FILE, NORMALIZER_FILE]
    names.append(MANIFEST_FILE)
    for name in names:
        try:
            os.link(directory / name, staging / name)  # the next save renames a new file over the name
        except OSError:
            shutil.copy2(directory / name, staging / name)
    shutil.rmtree(directory / PREVIOUS_DIR, ignore_errors=True)
    os.replace(staging, directory / PREVIOUS_DIR)


def restore_previous(directory: str | Path) -> None:
    """Put the checkpoint kept in `directory/previous/` back in place of a torn one.

    `CheckpointError` when there is no whole previous checkpoint to go back to."""
    directory = Path(directory)
    kept = directory / PREVIOUS_DIR
    if not (kept / MANIFEST_FILE).exists():
        raise CheckpointError(
            f"{directory}: the last save was interrupted and no earlier checkpoint was kept"
        )
    verify_files(kept)
    names = [*json.loads((kept / MANIFEST_FILE).read_text())["files"], CONFIG_FILE, NORMALIZER_FILE]
    (directory / MANIFEST_FILE).unlink(missing_ok=True)  # uncommitted while files are put back
    for name in names:
        shutil.copy2(kept / name, directory / f"{name}.tmp")
        os.replace(directory / f"{name}.tmp", directory / name)
    shutil.copy2(kept / MANIFEST_FILE, directory / f"{MANIFEST_FILE}.tmp")
    os.replace(directory / f"{MANIFEST_FILE}.tmp", directory / MANIFEST_FILE)
