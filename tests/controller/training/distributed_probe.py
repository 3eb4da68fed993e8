"""Run on every rank of a `torchrun` launch: `train()` as the CLI calls it, and what each rank did.

Observes without replacing: the real batch sampler, checkpoint writer and loss module run, each
wrapped to note its calls. Writes RECORD_DIR/rank<R>.json with the world size this rank saw, the
dataset positions of each step's batch, how often it wrote a checkpoint, and a hash of its
weights after the last step.

    torchrun --standalone --nproc_per_node 2 distributed_probe.py DATA OUT CONFIG RECORDS STEPS [--resume]
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import torch

from dexagent.controller.config import PolicyConfig
from dexagent.controller.data import dataset as dataset_module
from dexagent.controller.training import TrainConfig, train
from dexagent.controller.training import trainer as trainer_module


def main() -> None:
    data, out, config_path, record_dir, steps = sys.argv[1:6]
    resume = "--resume" in sys.argv[6:]
    torch.set_num_threads(1)
    seen: dict[str, Any] = {"positions": {}, "saves": 0}

    real_positions = dataset_module.batch_positions

    def noted_positions(step: int, batch: int, size: int, seed: int, rank: int = 0, world: int = 1) -> Any:
        positions = real_positions(step, batch, size, seed, rank, world)
        seen["positions"][str(step)] = [int(p) for p in positions]
        return positions

    real_save = trainer_module.save_run

    def noted_save(*args: Any, **kwargs: Any) -> Any:
        seen["saves"] += 1
        return real_save(*args, **kwargs)

    real_loss_of = trainer_module._LossOf

    def noted_loss_of(policy: Any, *settings: Any) -> Any:
        seen["policy"] = policy
        return real_loss_of(policy, *settings)

    dataset_module.batch_positions = noted_positions  # type: ignore[assignment]
    trainer_module.save_run = noted_save  # type: ignore[assignment]
    trainer_module._LossOf = noted_loss_of  # type: ignore[assignment,misc]

    settings = TrainConfig(
        steps=int(steps), batch_size=4, warmup_steps=1, val_every=1000, save_every=1, log_to=("tensorboard",)
    )
    policy_config = None if resume else PolicyConfig.from_json(config_path)
    result = train(data, out, settings, policy_config, resume=resume, show_progress=False)

    digest = hashlib.sha256()
    for name, tensor in sorted(seen["policy"].state_dict().items()):
        digest.update(name.encode() + tensor.detach().cpu().contiguous().numpy().tobytes())
    rank = torch.distributed.get_rank() if torch.distributed.is_initialized() else 0
    world = torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1
    record = {
        "rank": rank,
        "world": world,
        "step": result.step,
        "positions": seen["positions"],
        "saves": seen["saves"],
        "weights": digest.hexdigest(),
    }
    Path(record_dir, f"rank{rank}.json").write_text(json.dumps(record))


if __name__ == "__main__":
    main()
