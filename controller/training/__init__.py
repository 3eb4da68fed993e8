"""Training the DiT controller: the loop, EMA, schedule, frozen-feature cache, resumable state."""

from dexagent.controller.training.config import TrainConfig, TrainingError
from dexagent.controller.training.trainer import TrainResult, train

__all__ = ["TrainConfig", "TrainResult", "TrainingError", "train"]
