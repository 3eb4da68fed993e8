"""`sam+cutie`: SAM makes the first mask from the box, Cutie follows it frame by frame (the paper's pair).

Cutie comes from PyPI's `rf-cutie` (Roboflow's maintained packaging of hkchengrex/Cutie, import
name `cutie`; the PyPI package named `cutie` is an unrelated tool), in the perception extra, and
is imported lazily. Its `get_default_model()` downloads weights and calls `.cuda()`; here the
network is built from Cutie's own config and the weights come from a local file, on any device
(CPU works, slowly). Cutie builds its ResNet backbones from ImageNet files before its checkpoint
replaces every weight: they are read from (or, online, downloaded into) the weights' folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dexagent.controller.perception.registry import TrackerConfigError
from dexagent.controller.perception.sam import SamSegmenter
from dexagent.hardware import Box, Observation

INSTALL = (
    "pip install 'dexagent[perception]' (PyPI's rf-cutie; never the PyPI package named 'cutie'); "
    "download cutie-base-mega.pth (or cutie-small-mega.pth with cutie_model=small) from Cutie's v1.0 "
    "release and pass cutie_weights=PATH"
)
# The ImageNet files Cutie's constructor reads (torch.hub names) for each model's ResNets.
BACKBONE_FILES = {
    "base": ("resnet50-19c8e357.pth", "resnet18-5c106cde.pth"),
    "small": ("resnet18-5c106cde.pth",),
}


def load_cutie(weights: str | Path, device: str = "cpu", model: str = "base") -> Any:
    """Cutie's `InferenceCore` around a `CUTIE` network (`model`: base or small) with the local
    `weights`, on `device`."""
    try:
        import torch
        from cutie.inference.inference_core import InferenceCore
        from cutie.inference.utils.args_utils import get_dataset_cfg
        from cutie.model.cutie import CUTIE
        from hydra import compose, initialize_config_module
        from hydra.core.global_hydra import GlobalHydra
        from omegaconf import open_dict
    except ImportError as error:
        raise TrackerConfigError(f"the sam+cutie tracker needs Cutie ({error}); {INSTALL}") from None
    if model not in BACKBONE_FILES:
        raise TrackerConfigError(f"unknown Cutie model {model!r}; choose one of {', '.join(BACKBONE_FILES)}")
    path = Path(weights).expanduser()
    if not path.is_file():
        raise TrackerConfigError(f"Cutie weights {path} not found; {INSTALL}")
    GlobalHydra.instance().clear()
    with initialize_config_module(version_base="1.3.2", config_module="cutie.config"):
        config = compose(config_name="eval_config", overrides=[f"model={model}"])
    with open_dict(config):
        config.model.resnet_model_path = str(path.parent)
        # The memory settings Cutie's own get_default_model() takes (its eval config leaves them
        # unset until a dataset's are applied; InferenceCore cannot start without them).
        get_dataset_cfg(config)
    try:
        network = CUTIE(config)
    except OSError as error:  # offline, and the ImageNet files are not beside the weights
        files = " and ".join(BACKBONE_FILES[model])
        raise TrackerConfigError(
            f"Cutie builds its ResNets from {files} before {path.name} replaces them: put them in "
            f"{path.parent} (Cutie downloads them there when online) ({error})"
        ) from None
    state = torch.load(path, map_location="cpu", weights_only=True)
    missing = sorted(set(network.state_dict()) - set(state))
    if missing:  # Cutie itself loads non-strictly: a wrong file would leave ImageNet or random weights
        raise TrackerConfigError(
            f"{path} is not a Cutie {model} checkpoint: {len(missing)} weights are missing, e.g. "
            f"{missing[0]} (cutie_model=small needs cutie-small-mega.pth, base cutie-base-mega.pth)"
        )
    network.load_weights(state)
    return InferenceCore(network.to(device).eval(), cfg=config)


class SamCutieTracker:
    """`MaskTracker`: SAM on the first frame, then Cutie's streaming memory (one frame per step)."""

    def __init__(self, segmenter: SamSegmenter, processor: Any, device: str = "cpu") -> None:
        self.segmenter = segmenter
        self.processor = processor
        self.device = device

    def _tensor(self, image: np.ndarray) -> Any:
        import torch

        return torch.from_numpy(image).permute(2, 0, 1).float().div(255).to(self.device)

    def start(self, observation: Observation, target_box: Box) -> np.ndarray:
        import torch

        mask = self.segmenter.segment(observation.head_rgb, target_box)
        self.processor.clear_memory()
        with torch.inference_mode():
            self.processor.step(
                self._tensor(observation.head_rgb),
                torch.from_numpy(mask.astype(np.int64)).to(self.device),
                objects=[1],
            )
        return mask

    def step(self, observation: Observation) -> np.ndarray:
        import torch

        with torch.inference_mode():
            probabilities = self.processor.step(self._tensor(observation.head_rgb))
        return (self.processor.output_prob_to_mask(probabilities) == 1).cpu().numpy()
