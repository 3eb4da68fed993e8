"""Policy checkpoints: safetensors weights + JSON config + JSON normaliser. Never pickles.

A checkpoint directory holds
    model.safetensors        the policy's state dict (EMA weights when written by the trainer)
    config.json              PolicyConfig.to_dict()
    normalizer.json          Normalizer.to_dict()
    training_state.safetensors / training_state.json   optional, for `dexagent train --resume`
    manifest.json            written last: the size and SHA-256 of the weights and training state (the commit)
    previous/                the checkpoint this one replaced (`save_checkpoint(keep_previous=True)`)

A checkpoint is committed as a unit (`checkpoint_files`): a save killed half way leaves files
the manifest does not describe; loading refuses them (`TornCheckpointError`) and the trainer
resumes from `previous/`, saying so.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from dexagent.controller.checkpoint_files import CONFIG_FILE as CONFIG_FILE
from dexagent.controller.checkpoint_files import MANIFEST_FILE as MANIFEST_FILE
from dexagent.controller.checkpoint_files import MODEL_FILE as MODEL_FILE
from dexagent.controller.checkpoint_files import NORMALIZER_FILE as NORMALIZER_FILE
from dexagent.controller.checkpoint_files import PREVIOUS_DIR as PREVIOUS_DIR
from dexagent.controller.checkpoint_files import STATE_JSON_FILE as STATE_JSON_FILE
from dexagent.controller.checkpoint_files import STATE_TENSORS_FILE as STATE_TENSORS_FILE
from dexagent.controller.checkpoint_files import CheckpointError as CheckpointError
from dexagent.controller.checkpoint_files import TornCheckpointError as TornCheckpointError
from dexagent.controller.checkpoint_files import keep_previous as _keep_previous
from dexagent.controller.checkpoint_files import read_json, write_json, write_manifest
from dexagent.controller.checkpoint_files import restore_previous as restore_previous
from dexagent.controller.checkpoint_files import verify_files as verify_files
from dexagent.controller.config import ConfigError, PolicyConfig
from dexagent.controller.normalizer import Normalizer, NormalizerError
from dexagent.controller.policy import DexGraspPolicy


def _save_tensors(
    path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(
        {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}, str(tmp), metadata=metadata
    )
    os.replace(tmp, path)


def save_checkpoint(
    directory: str | Path,
    policy: DexGraspPolicy,
    training_state: dict | None = None,
    *,
    keep_previous: bool = False,
) -> Path:
    """Write `policy` (and optionally the trainer's state) to `directory`; returns the directory.

    `training_state` is any nest of dicts/lists/tuples whose leaves are tensors, numpy arrays
    or JSON values; tensors and arrays go to training_state.safetensors, the structure to
    training_state.json. Non-string dict keys (e.g. optimizer state ids) survive the round trip.
    With `keep_previous`, a complete checkpoint already in `directory` is first kept (hard
    links) in `directory/previous/`, for a resume after a save that was killed half way.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.tmp"):  # left by a save killed between write and rename
        stale.unlink()
    if keep_previous:
        _keep_previous(directory)
    # What a run rewrites at every save; config.json and normalizer.json stay the same through a
    # run (and a user may edit config.json's sampling settings), so they are not hashed.
    files = [MODEL_FILE]
    # A frozen encoder with a `source` (e.g. DINOv2) is named by the config, not copied.
    pretrained = policy.pretrained_keys()
    weights = {key: value for key, value in policy.state_dict().items() if key not in pretrained}
    _save_tensors(directory / MODEL_FILE, weights, metadata={"format": "dexagent-policy-v1"})
    write_json(directory / CONFIG_FILE, policy.config.to_dict())
    write_json(directory / NORMALIZER_FILE, policy.normalizer.to_dict())
    if training_state is not None:
        tensors: dict[str, torch.Tensor] = {}
        structure = _encode(training_state, "state", tensors)
        _save_tensors(directory / STATE_TENSORS_FILE, tensors)
        write_json(directory / STATE_JSON_FILE, structure)
        files += [STATE_TENSORS_FILE, STATE_JSON_FILE]
    else:  # a state left from an earlier save would not match these weights
        for name in (STATE_TENSORS_FILE, STATE_JSON_FILE):
            (directory / name).unlink(missing_ok=True)
    write_manifest(directory, files)  # the commit
    return directory


def _load_tensors(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise CheckpointError(f"{path}: missing")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"{path}: not a readable safetensors file ({error})") from None


def load_config(directory: str | Path) -> PolicyConfig:
    """The PolicyConfig stored in a checkpoint directory."""
    path = Path(directory) / CONFIG_FILE
    try:
        return PolicyConfig.from_dict(read_json(path), where=str(path))
    except (ConfigError, TypeError) as error:
        raise CheckpointError(str(error) if str(path) in str(error) else f"{path}: {error}") from None


def _read_parts(directory: Path) -> tuple[PolicyConfig, Normalizer, dict[str, torch.Tensor]]:
    """Config, normaliser and weights of a checkpoint, each read in full and checked on its own."""
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: no such checkpoint directory")
    config = load_config(directory)
    normalizer_path = directory / NORMALIZER_FILE
    try:
        normalizer = Normalizer.from_dict(read_json(normalizer_path), where=str(normalizer_path))
    except NormalizerError as error:
        raise CheckpointError(str(error)) from None
    if normalizer.horizon not in (None, config.horizon):
        raise CheckpointError(
            f"{normalizer_path}: action ranges for {normalizer.horizon} chunk offsets, "
            f"{directory / CONFIG_FILE} says horizon {config.horizon}"
        )
    return _with_sizes(directory, config, normalizer), normalizer, _load_tensors(directory / MODEL_FILE)


def _with_sizes(directory: Path, config: PolicyConfig, normalizer: Normalizer) -> PolicyConfig:
    """`config` with the state and action sizes it was trained for. A checkpoint written before
    config.json recorded them (the shipped ones: 13-D, the sim's 7 arm + 6 hand joints) gets them
    from its normaliser, whose state and action vectors have one value per joint."""
    measured = (normalizer.state_dim, normalizer.action_dim)
    recorded = (config.state_dim or measured[0], config.action_dim or measured[1])
    if recorded != measured:
        raise CheckpointError(
            f"{directory / CONFIG_FILE} says {recorded[0]}-D states and {recorded[1]}-D actions, "
            f"{directory / NORMALIZER_FILE} has ranges for {measured[0]} and {measured[1]}"
        )
    return dataclasses.replace(config, state_dim=measured[0], action_dim=measured[1])


def _verify_commit(directory: Path) -> None:
    """After each file passed its own checks (with their precise messages): the files must be the
    ones one save committed together."""
    try:
        verify_files(directory)
    except TornCheckpointError as error:
        kept = directory / PREVIOUS_DIR
        hint = f"; the checkpoint before it is whole in {kept}" if (kept / MANIFEST_FILE).exists() else ""
        raise TornCheckpointError(f"{error}{hint}") from None


def _build(
    directory: Path, config: PolicyConfig, normalizer: Normalizer, load_pretrained: bool = False
) -> DexGraspPolicy:
    try:
        return DexGraspPolicy(config, normalizer, load_pretrained=load_pretrained)
    except ConfigError as error:  # a frozen encoder's weights cannot be had (package, hub, folder)
        raise CheckpointError(f"{directory}: {error}") from None
    except (ValueError, RuntimeError) as error:
        raise CheckpointError(f"{directory / CONFIG_FILE}: cannot build this policy: {error}") from None


def _stored(policy: DexGraspPolicy) -> dict[str, torch.Tensor]:
    """The tensors a checkpoint file holds for this policy: all but its frozen pretrained encoders'."""
    pretrained = policy.pretrained_keys()
    return {key: value for key, value in policy.state_dict().items() if key not in pretrained}


def _check_weights(
    directory: Path, weights: dict[str, torch.Tensor], expected: dict[str, torch.Tensor]
) -> None:
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = [
        f"{k}: file {tuple(weights[k].shape)} vs config {tuple(v.shape)}"
        for k, v in expected.items()
        if k in weights and weights[k].shape != v.shape
    ]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing tensors (e.g. {missing[:3]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected tensors (e.g. {unexpected[:3]})")
        if wrong:
            parts.append(f"{len(wrong)} shape mismatches (e.g. {wrong[:3]})")
        raise CheckpointError(
            f"{directory / MODEL_FILE}: weights do not match {directory / CONFIG_FILE}: " + "; ".join(parts)
        )
    bad = [k for k, v in weights.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{directory / MODEL_FILE}: NaN/inf in {len(bad)} tensors (e.g. {bad[:3]})")


@dataclass(frozen=True)
class VerifiedCheckpoint:
    """A checkpoint read in full and checked: what `build_policy` makes a policy from, without
    reading the files again."""

    directory: Path
    config: PolicyConfig
    normalizer: Normalizer
    weights: dict[str, torch.Tensor]


def read_checkpoint(directory: str | Path) -> VerifiedCheckpoint:
    """Read and check the whole checkpoint in `directory`, once (CheckpointError naming the file).

    Every file is read (weights readable, normaliser finite, the files the manifest committed),
    and the weights' names and shapes are compared with the config's policy, built on the
    meta device (no memory, no time): what a command checks before its first tick."""
    directory = Path(directory)
    config, normalizer, weights = _read_parts(directory)
    with torch.device("meta"):
        expected = _stored(_build(directory, config, normalizer))
    _check_weights(directory, weights, expected)
    _verify_commit(directory)
    return VerifiedCheckpoint(directory, config, normalizer, weights)


def build_policy(checkpoint: VerifiedCheckpoint, device: str | torch.device = "cpu") -> DexGraspPolicy:
    """The policy `checkpoint` holds on `device`, in eval mode (its frozen encoders from their source)."""
    policy = _build(checkpoint.directory, checkpoint.config, checkpoint.normalizer, load_pretrained=True)
    policy.load_state_dict(checkpoint.weights, strict=False)  # strict on _stored(policy), checked on read
    return policy.to(device).eval()


def load_checkpoint(directory: str | Path, device: str | torch.device = "cpu") -> DexGraspPolicy:
    """Rebuild the policy saved in `directory` on `device`, in eval mode."""
    return build_policy(read_checkpoint(directory), device)


def load_training_state(directory: str | Path) -> dict | None:
    """The trainer's state saved with `save_checkpoint`, or None when the checkpoint has none."""
    directory = Path(directory)
    if not (directory / STATE_JSON_FILE).exists():
        return None
    structure = read_json(directory / STATE_JSON_FILE)
    tensors = _load_tensors(directory / STATE_TENSORS_FILE)
    try:
        return _decode(structure, tensors)
    except (KeyError, TypeError, ValueError) as error:
        raise CheckpointError(
            f"{directory / STATE_JSON_FILE}: inconsistent with {STATE_TENSORS_FILE}: {error}"
        ) from None


def _encode(value: Any, path: str, tensors: dict[str, torch.Tensor]) -> Any:
    """JSON structure of `value`; tensors/arrays are replaced by references into `tensors`."""
    if isinstance(value, torch.Tensor):
        tensors[path] = value
        return {"__tensor__": path}
    if isinstance(value, np.ndarray):
        tensors[path] = torch.from_numpy(np.ascontiguousarray(value))
        return {"__ndarray__": path}
    if isinstance(value, dict):
        # [key, value] pairs, not a JSON object: int keys (optimizer state ids) stay ints.
        for key in value:
            if not (key is None or isinstance(key, (bool, int, float, str))):
                raise CheckpointError(f"training_state: key {key!r} at {path!r} is not a JSON scalar")
        return {"__dict__": [[key, _encode(item, f"{path}/{key}", tensors)] for key, item in value.items()]}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(item, f"{path}/{i}", tensors) for i, item in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(item, f"{path}/{i}", tensors) for i, item in enumerate(value)]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise CheckpointError(f"training_state: cannot store {type(value).__name__} at {path!r} without pickling")


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, list):
        return [_decode(item, tensors) for item in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return tensors[value["__tensor__"]]
    if "__ndarray__" in value:
        return tensors[value["__ndarray__"]].numpy()
    if "__tuple__" in value:
        return tuple(_decode(item, tensors) for item in value["__tuple__"])
    return {key: _decode(item, tensors) for key, item in value["__dict__"]}
