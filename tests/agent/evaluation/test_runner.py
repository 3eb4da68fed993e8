"""Evaluation episodes: seeded scenes, determinism, and worker processes that change nothing but speed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dexagent.agent.evaluation import EvalConfig, SuiteError, get_suite, plan_tasks, run_suite
from dexagent.controller.data.collect import COLLECT_STREAM, scene_seed


def test_episode_scenes_derive_from_the_seed_and_are_held_out_from_collection() -> None:
    config = EvalConfig(suite=get_suite("generalization"), episodes=6, seed=3)
    tasks = plan_tasks(config)
    assert [t.index for t in tasks] == list(range(6))
    assert [t.scene_seed for t in tasks] == [t.scene_seed for t in plan_tasks(config)]
    assert len({t.scene_seed for t in tasks}) == 6
    collected = {scene_seed(3, i, COLLECT_STREAM) for i in range(1000)}
    assert not collected & {t.scene_seed for t in tasks}
    other = plan_tasks(EvalConfig(suite=get_suite("generalization"), episodes=6, seed=4))
    assert not {t.scene_seed for t in tasks} & {t.scene_seed for t in other}


def test_realtime_reaches_every_episode_and_only_grasp_episode_suites_take_it() -> None:
    tasks = plan_tasks(EvalConfig(suite=get_suite("single-object"), episodes=3, realtime=True))
    assert [t.realtime for t in tasks] == [True] * 3
    assert not any(t.realtime for t in plan_tasks(EvalConfig(suite=get_suite("seen"), episodes=2)))
    with pytest.raises(SuiteError, match="'long-horizon' has its own protocol"):
        EvalConfig(suite=get_suite("long-horizon"), episodes=2, realtime=True)


@pytest.mark.slow
def test_two_workers_give_the_same_records_as_one_and_reruns_repeat() -> None:
    config = EvalConfig(suite=get_suite("seen"), controller="scripted", episodes=4, seed=2, image_size=32)
    serial = run_suite(config, workers=1)
    parallel = run_suite(config, workers=2)
    again = run_suite(config, workers=1)
    assert [r.outcome() for r in parallel] == [r.outcome() for r in serial]
    assert [r.outcome() for r in again] == [r.outcome() for r in serial]
    assert all(r.steps > 0 for r in serial)
    assert {(r.table, r.lighting) for r in serial} == {("white", "white")}  # the seen split's


def test_a_record_names_its_scenes_table_and_lighting() -> None:
    """Per-table and per-light figures come from the JSON without redrawing scenes."""
    from dexagent.hardware.sim.domains import UNSEEN_BACKGROUNDS
    from dexagent.hardware.sim.scenes import sample_scene

    config = EvalConfig(
        suite=get_suite("unseen-backgrounds"), controller="scripted", episodes=1, seed=5, image_size=32
    )
    (record,) = run_suite(config, workers=1)
    scene = sample_scene(record.scene_seed, record.split, config.suite.n_objects)
    assert record.table == scene.background.name in {b.name for b in UNSEEN_BACKGROUNDS}
    assert record.lighting == scene.lighting.name == "white"


@pytest.mark.slow
def test_an_evaluation_reads_its_checkpoint_once_and_builds_a_controller_per_episode(
    tmp_path: Path, tiny_config: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each episode's controller is its own (seeded by its scene), built from the weights read once."""
    from dexagent.controller import checkpoint
    from dexagent.controller.checkpoint import save_checkpoint
    from dexagent.controller.normalizer import Normalizer
    from dexagent.controller.policy import DexGraspPolicy
    from dexagent.controller.runtime import PolicyController
    from dexagent.hardware.sim.robot import sim_robot_spec

    spec = sim_robot_spec()
    policy = DexGraspPolicy(
        tiny_config(image_size=32), Normalizer.from_limits(spec.lower, spec.upper), load_pretrained=False
    )
    folder = save_checkpoint(tmp_path / "ckpt", policy)
    reads: list[str] = []
    load_file = checkpoint.load_file
    monkeypatch.setattr(checkpoint, "load_file", lambda path: reads.append(path) or load_file(path))
    built: list[int] = []
    init = PolicyController.__init__

    def counting_init(self: PolicyController, *args: object, **kwargs: object) -> None:
        init(self, *args, **kwargs)  # type: ignore[arg-type]
        built.append(self.seed)

    monkeypatch.setattr(PolicyController, "__init__", counting_init)
    config = EvalConfig(suite=get_suite("single-object"), controller=str(folder), episodes=2, attempts=2)
    records = run_suite(config, workers=1)
    assert len(records) == 2 and reads == [str(folder / "model.safetensors")]
    assert built == [r.scene_seed for r in records]  # one controller per episode, for both its attempts
