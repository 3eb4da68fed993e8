"""Policy checkpoints: safetensors weights + JSON config + JSON normaliser. Never pickles.

A checkpoint directory holds
    model.safetensors        the policy's state dict (EMA weights when written by the trainer)
    config.json              PolicyConfig.to_dict()
    normalizer.json          Normalizer.to_dict()
    training_state.safetensors / training_state.json   optional, for `dexagent train --resume`
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from dexagent.controller.config import ConfigError, PolicyConfig
from dexagent.controller.normalizer import Normalizer, NormalizerError
from dexagent.controller.policy import DexGraspPolicy

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
NORMALIZER_FILE = "normalizer.json"
STATE_TENSORS_FILE = "training_state.safetensors"
STATE_JSON_FILE = "training_state.json"


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupted or does not match its config; names the file and the problem."""


def _write_json(path: Path, data: Any) -> None:
    # Write then rename: an interrupted save never leaves a half-written JSON file.
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def _save_tensors(
    path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    save_file(
        {k: v.detach().cpu().contiguous().clone() for k, v in tensors.items()}, str(tmp), metadata=metadata
    )
    os.replace(tmp, path)


def save_checkpoint(
    directory: str | Path, policy: DexGraspPolicy, training_state: dict | None = None
) -> Path:
    """Write `policy` (and optionally the trainer's state) to `directory`; returns the directory.

    `training_state` is any nest of dicts/lists/tuples whose leaves are tensors, numpy arrays
    or JSON values; tensors and arrays go to training_state.safetensors, the structure to
    training_state.json. Non-string dict keys (e.g. optimizer state ids) survive the round trip.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    pretrained = policy.pretrained_keys()
    weights = {key: value for key, value in policy.state_dict().items() if key not in pretrained}
    _save_tensors(directory / MODEL_FILE, weights, metadata={"format": "dexagent-policy-v1"})
    _write_json(directory / CONFIG_FILE, policy.config.to_dict())
    _write_json(directory / NORMALIZER_FILE, policy.normalizer.to_dict())
    if training_state is not None:
        tensors: dict[str, torch.Tensor] = {}
        structure = _encode(training_state, "state", tensors)
        _save_tensors(directory / STATE_TENSORS_FILE, tensors)
        _write_json(directory / STATE_JSON_FILE, structure)
    return directory


def _read_json(path: Path) -> Any:
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
        return PolicyConfig.from_dict(_read_json(path), where=str(path))
    except (ConfigError, TypeError) as error:
        raise CheckpointError(str(error) if str(path) in str(error) else f"{path}: {error}") from None


def load_checkpoint(directory: str | Path, device: str | torch.device = "cpu") -> DexGraspPolicy:
    """Rebuild the policy saved in `directory` on `device`, in eval mode."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: no such checkpoint directory")
    config = load_config(directory)
    normalizer_path = directory / NORMALIZER_FILE
    try:
        normalizer = Normalizer.from_dict(_read_json(normalizer_path), where=str(normalizer_path))
    except NormalizerError as error:
        raise CheckpointError(str(error)) from None
    if normalizer.horizon not in (None, config.horizon):
        raise CheckpointError(
            f"{normalizer_path}: action ranges for {normalizer.horizon} chunk offsets, "
            f"{directory / CONFIG_FILE} says horizon {config.horizon}"
        )
    weights = _load_tensors(directory / MODEL_FILE)
    # Frozen encoders with a `source` load it (e.g. DINOv2); the file holds everything else.
    try:
        policy = DexGraspPolicy(config, normalizer)
    except ConfigError as error:  # a frozen encoder's weights cannot be had (package, hub, folder)
        raise CheckpointError(f"{directory}: {error}") from None
    pretrained = policy.pretrained_keys()
    expected = {key: value for key, value in policy.state_dict().items() if key not in pretrained}
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
    policy.load_state_dict(weights, strict=False)
    return policy.to(device).eval()


def load_training_state(directory: str | Path) -> dict | None:
    """The trainer's state saved with `save_checkpoint`, or None when the checkpoint has none."""
    directory = Path(directory)
    if not (directory / STATE_JSON_FILE).exists():
        return None
    structure = _read_json(directory / STATE_JSON_FILE)
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
