"""`sam+cutie`: SAM makes the first mask from the box, Cutie follows it frame by frame (the paper's pair).

Cutie is not on PyPI (the PyPI package named `cutie` is an unrelated tool): it is imported
lazily from the user's install of github.com/hkchengrex/Cutie. Its `get_default_model()`
downloads weights and calls `.cuda()`; here the network is built from Cutie's own config
and the weights come from a local file, on any device (CPU works, slowly).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dexagent.controller.perception.registry import TrackerConfigError
from dexagent.controller.perception.sam import SamSegmenter
from dexagent.hardware import Box, Observation

INSTALL = (
    "install Cutie from its repository (git clone https://github.com/hkchengrex/Cutie; "
    "pip install -e Cutie), "
    "never the PyPI package named 'cutie'; download cutie-base-mega.pth and pass weights=PATH"
)


def load_cutie(weights: str | Path, device: str = "cpu") -> Any:
    """Cutie's `InferenceCore` around a `CUTIE` network with the local `weights`, on `device`."""
    try:
        import torch
        from cutie.inference.inference_core import InferenceCore
        from cutie.model.cutie import CUTIE
        from hydra import compose, initialize_config_module
        from hydra.core.global_hydra import GlobalHydra
    except ImportError as error:
        raise TrackerConfigError(f"the sam+cutie tracker needs Cutie ({error}); {INSTALL}") from None
    path = Path(weights).expanduser()
    if not path.is_file():
        raise TrackerConfigError(f"Cutie weights {path} not found; {INSTALL}")
    GlobalHydra.instance().clear()
    with initialize_config_module(version_base="1.3.2", config_module="cutie.config"):
        config = compose(config_name="eval_config")
    network = CUTIE(config).to(device).eval()
    network.load_weights(torch.load(path, map_location=device, weights_only=True))
    return InferenceCore(network, cfg=config)


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
