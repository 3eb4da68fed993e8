"""Controller checkpoints on a Hugging Face Hub model repo, through `huggingface_hub`.

A hub repo holds what a checkpoint folder holds for inference: `model.safetensors`,
`config.json`, `normalizer.json` and the model card `README.md` (given YAML front matter
so the hub lists it as a dexagent robotics model). Trainer state is not pushed. Both
directions verify the files load as a policy before they count: `push` before uploading,
`pull` before handing the folder over.

`pull` goes through the hub's cache, so `HF_HUB_OFFLINE=1` (or `offline=True`) pulls a repo
already in the cache without the network; a local folder in the repo layout also works,
and `stage` writes that layout without uploading (`dexagent controller push --to-folder`).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from dexagent.controller.checkpoint import (
    CONFIG_FILE,
    MODEL_FILE,
    NORMALIZER_FILE,
    CheckpointError,
    load_checkpoint,
)

CARD_FILE = "README.md"
HUB_FILES = (MODEL_FILE, CONFIG_FILE, NORMALIZER_FILE, CARD_FILE)
FRONT_MATTER = """---
library_name: dexagent
pipeline_tag: robotics
tags:
- robotics
- dexterous-grasping
- diffusion-policy
- dexgraspvla
---
"""


class HubError(RuntimeError):
    """A push or pull could not be done; says why and what to do."""


def _verify(folder: Path) -> None:
    try:
        load_checkpoint(folder)
    except CheckpointError as error:
        raise HubError(f"{folder} is not a loadable controller checkpoint: {error}") from None


def model_card(checkpoint: Path, repo_id: str) -> str:
    """The checkpoint's own card (or a short one) with the hub's front matter in front."""
    own = checkpoint / CARD_FILE
    text = own.read_text(encoding="utf-8") if own.is_file() else ""
    if text.startswith("---\n"):
        return text  # the author wrote their own front matter
    if not text:
        text = (
            f"# {repo_id}\n\nA DiT grasp controller for dexagent. Load it with "
            f"`dexagent controller pull {repo_id} DIR`, then `dexagent eval --controller DIR`.\n"
        )
    return FRONT_MATTER + "\n" + text


def stage(checkpoint: Path, folder: Path, repo_id: str) -> list[str]:
    """Write the hub repo's files for `checkpoint` into `folder` (created); returns their names."""
    _verify(checkpoint)
    folder.mkdir(parents=True, exist_ok=True)
    for name in (MODEL_FILE, CONFIG_FILE, NORMALIZER_FILE):
        shutil.copy2(checkpoint / name, folder / name)
    (folder / CARD_FILE).write_text(model_card(checkpoint, repo_id), encoding="utf-8")
    return list(HUB_FILES)


def push(
    checkpoint: Path,
    repo_id: str,
    *,
    private: bool = False,
    message: str | None = None,
    token: str | None = None,
) -> str:
    """Create (if needed) the model repo `repo_id` and upload the checkpoint; returns the commit URL."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    with tempfile.TemporaryDirectory() as scratch:
        stage(checkpoint, Path(scratch), repo_id)
        api = HfApi(token=token)
        try:
            api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
            commit = api.upload_folder(
                repo_id=repo_id,
                repo_type="model",
                folder_path=scratch,
                commit_message=message or f"dexagent controller push from {checkpoint.name}",
            )
        except OfflineModeIsEnabled:
            raise HubError("HF_HUB_OFFLINE is set: unset it to push, or use --to-folder") from None
        except HfHubHTTPError as error:
            raise HubError(f"the hub refused the push to {repo_id}: {error}") from None
        except OSError as error:  # DNS, refused connections, timeouts
            raise HubError(f"cannot reach the hub to push {repo_id}: {error}") from None
    return str(commit.commit_url)


def pull(
    source: str,
    out: Path,
    *,
    revision: str | None = None,
    offline: bool = False,
    cache_dir: Path | None = None,
    timeout_s: float = 60.0,
) -> Path:
    """Copy the controller at `source` (a hub repo id, or a local folder in the repo layout) to `out`;
    a hub that does not answer within `timeout_s` is a `HubError`, never a hang."""
    if out.exists() and any(out.iterdir()):
        raise HubError(f"{out} exists and is not empty; give a new folder")
    local = Path(source)
    if local.is_dir():
        snapshot = local
    else:
        snapshot = _download(
            source, revision=revision, offline=offline, cache_dir=cache_dir, timeout_s=timeout_s
        )
    missing = [name for name in (MODEL_FILE, CONFIG_FILE, NORMALIZER_FILE) if not (snapshot / name).is_file()]
    if missing:
        raise HubError(f"{source} has no {', '.join(missing)}: it is not a dexagent controller repo")
    _verify(snapshot)
    out.mkdir(parents=True, exist_ok=True)
    for name in HUB_FILES:
        if (snapshot / name).is_file():
            shutil.copy2(snapshot / name, out / name)  # copies through the cache's symlinks
    return out


def _download(
    repo_id: str, *, revision: str | None, offline: bool, cache_dir: Path | None, timeout_s: float
) -> Path:
    """`snapshot_download` bounded by `timeout_s`: huggingface_hub's first metadata request has no
    timeout of its own, so an endpoint that accepts and never answers would hold it forever. It runs
    on a daemon thread, which a process that gives up on it does not wait for."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        OfflineModeIsEnabled,
    )

    endpoint = constants.ENDPOINT
    outcome: list[Path | BaseException] = []

    def download() -> None:
        try:
            folder = snapshot_download(
                repo_id,
                repo_type="model",
                revision=revision,
                allow_patterns=list(HUB_FILES),
                local_files_only=offline,
                cache_dir=str(cache_dir) if cache_dir else None,
                etag_timeout=timeout_s,
            )
            outcome.append(Path(folder))
        except BaseException as error:  # handed to the caller's thread below
            outcome.append(error)

    worker = threading.Thread(target=download, name="hub-pull", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not outcome:
        raise HubError(
            f"the hub at {endpoint} did not answer within {timeout_s:g} s (check HF_ENDPOINT and the "
            "network, give --timeout more, or pull with --offline from the local cache)"
        )
    result = outcome[0]
    if isinstance(result, Path):
        return result
    try:
        raise result
    except HFValidationError:
        raise HubError(f"{repo_id!r} is neither a folder nor a hub repo id (owner/name)") from None
    except (LocalEntryNotFoundError, OfflineModeIsEnabled):
        if offline or constants.HF_HUB_OFFLINE:
            raise HubError(
                f"{repo_id} is not in the local hub cache and the hub is offline (HF_HUB_OFFLINE or "
                "--offline); pull it once online, or give a local folder"
            ) from None
        # Not offline: the hub could not be reached and the cache has no copy to fall back on.
        raise HubError(
            f"cannot reach the hub at {endpoint} for {repo_id}, and the local hub cache has no copy "
            "(check HF_ENDPOINT and the network, or give a local folder)"
        ) from None
    except HfHubHTTPError as error:
        raise HubError(f"the hub refused {repo_id}: {error}") from None
    except OSError as error:
        raise HubError(f"cannot reach the hub at {endpoint} for {repo_id}: {error}") from None
