"""`dexagent controller info CONFIG`: what a DiT controller is made of, part by part."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from dexagent.cli.app import app
from dexagent.cli.errors import console, fail
from dexagent.controller.config import ENCODERS, ConfigError, PolicyConfig, config_names, get_config

# torch and the model code load inside the command, so `dexagent --help` stays fast.
if TYPE_CHECKING:
    from dexagent.controller.policy import DexGraspPolicy

controller_app = typer.Typer(help="Inspect DiT controller configs and checkpoints.", no_args_is_help=True)
app.add_typer(controller_app, name="controller")


def _policy_for(name: str, overrides: list[str]) -> tuple[DexGraspPolicy, str]:
    """The policy named by CONFIG (with `overrides`) and where it came from; configs are built
    without weights."""
    import torch

    from dexagent.controller.checkpoint import load_checkpoint
    from dexagent.controller.config_overrides import apply_overrides, canonical
    from dexagent.controller.policy import DexGraspPolicy

    path = Path(name)
    if path.is_dir():
        if overrides:
            raise ConfigError(f"--set changes a config; {path} is a checkpoint, whose weights fix its own")
        return load_checkpoint(path), f"checkpoint {path}"
    recipe = canonical(overrides)
    config = apply_overrides(get_config(name), recipe)
    sized = ""
    if config.state_dim is None and config.action_dim is None:  # a preset: training sizes it from the data
        from dexagent.hardware.sim.embodiment import ARM_JOINTS, HAND_ACTUATORS

        config = config.for_joints(len(ARM_JOINTS + HAND_ACTUATORS))
        sized = ", sized for the sim robot's joints"
    # The meta device allocates nothing and downloads nothing: the paper config's DINOv2
    # encoders are counted from their architecture alone.
    with torch.device("meta"):
        policy = DexGraspPolicy(config, load_pretrained=False)
    given = "".join(f" --set {text}" for text in recipe)
    return policy, f"config {name!r}{given} (architecture only, no weights loaded{sized})"


def _describe(config: PolicyConfig) -> str:
    from dexagent.controller.encoders import token_count

    head = token_count(config.head_encoder, config.image_size)
    wrist = token_count(config.wrist_encoder, config.wrist_input_size)
    sizes = f"{config.image_size} px"
    if config.wrist_input_size != config.image_size:
        sizes = f"head {config.image_size} px, wrist {config.wrist_input_size} px"
    encoders = " / ".join(
        f"{cam} {enc.kind}{' ' + enc.source if enc.source else ''}{' (frozen)' if enc.frozen else ''}"
        f"{' (instance-normalised)' if enc.input_norm == 'instance' else ''}"
        for cam, enc in (("head", config.head_encoder), ("wrist", config.wrist_encoder))
    )
    return (
        f"image {sizes}; encoders: {encoders}\n"
        f"observation tokens: {head} head{' + mask' if config.use_mask else ''}, {wrist} wrist, "
        f"1 state ({config.state_dim} joints)"
        f"{' + target position' if config.use_mask and config.use_target_position else ''}\n"
        f"DiT {config.dit.depth} layers x {config.dit.heads} heads x {config.dit.width}; "
        f"chunk H={config.horizon} x {config.action_dim} joints, executing {config.execute_steps}; "
        f"DDIM {config.train_timesteps} train / {config.inference_steps} inference steps"
    )


@controller_app.command("info")
def info(
    config: str = typer.Argument(
        ...,
        help=f"A named config ({', '.join(config_names())}), a config .json, or a checkpoint folder. "
        f"Encoder kinds a config may name: {ENCODERS.choices()}.",
    ),
    overrides: list[str] | None = typer.Option(
        None,
        "--set",
        help="Override one field of the config as FIELD=VALUE, dotted into its parts, repeatable "
        "(--set dit.depth=6 --set head_encoder.pool=1), as `dexagent train --set` does.",
    ),
) -> None:
    """Print parameter counts per part (trainable vs frozen) and the architecture of CONFIG."""
    from dexagent.controller.checkpoint import CheckpointError

    try:
        policy, source = _policy_for(config, overrides or [])
    except (ConfigError, CheckpointError) as error:
        fail(str(error))
    table = Table(title=f"DiT controller: {policy.config.name}", caption=source)
    table.add_column("part")
    table.add_column("trainable", justify="right")
    table.add_column("frozen", justify="right")
    table.add_column("total", justify="right")
    total_trainable = total_frozen = 0
    for part, (trainable, frozen) in policy.parameter_counts().items():
        table.add_row(part, f"{trainable:,}", f"{frozen:,}", f"{trainable + frozen:,}")
        total_trainable += trainable
        total_frozen += frozen
    table.add_section()
    table.add_row(
        "[bold]total[/]",
        f"[bold]{total_trainable:,}[/]",
        f"[bold]{total_frozen:,}[/]",
        f"[bold]{total_trainable + total_frozen:,}[/]",
    )
    console.print(table)
    console.print(_describe(policy.config))
