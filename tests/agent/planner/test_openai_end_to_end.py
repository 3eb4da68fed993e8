"""`dexagent`'s run loop driven by the `openai` planner over HTTP, in the real sim.

No VLM weights exist here, so the model behind the local OpenAI-compatible server is an
oracle that answers from the sim's ground truth — in the model's own box convention, for
the image size the planner says it sent. Everything between the run loop and the HTTP
socket is the real code path: prompts, data-URL images, JSON schema, box conversion.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("MUJOCO_GL", "egl")

from dexagent.agent.planner import OpenAIPlanner, ScenePlanner
from dexagent.agent.planner.boxes import from_image_box
from dexagent.agent.runner import AgentRun, RunConfig
from dexagent.agent.sim_world import SimTruth, drop_pose
from dexagent.agent.world import ControllerChoices, RunControllers
from dexagent.hardware import Box, Observation
from dexagent.hardware.sim.robot import SimRobot
from dexagent.hardware.sim.scenes import sample_scene
from dexagent.skills.planning import Instruction


class ObservedSim:
    """The sim as the run loop drives it, remembering the last observation for the oracle."""

    def __init__(self, sim: SimRobot) -> None:
        self.sim = sim
        self.spec = sim.spec
        self.last: Observation | None = None

    def observe(self) -> Observation:
        self.last = self.sim.observe()
        return self.last

    def act(self, action: np.ndarray) -> None:
        self.sim.act(action)

    def home(self) -> None:
        self.sim.home()

    def close(self) -> None:
        self.sim.close()

    def __enter__(self) -> ObservedSim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def oracle_vlm(world: ObservedSim, box_format: str) -> Any:
    """A responder answering each stage from ground truth, like a perfect VLM would."""
    truth = ScenePlanner(world.sim)

    def answer(request: dict[str, Any]) -> str:
        stage = request["response_format"]["json_schema"]["name"].removeprefix("dexagent_")
        user = next(m for m in request["messages"] if m["role"] == "user")
        text = " ".join(part["text"] for part in user["content"] if part["type"] == "text")
        assert all(
            part["image_url"]["url"].startswith("data:image/png;base64,")
            for part in user["content"]
            if part["type"] == "image_url"
        )
        observation = world.last
        assert observation is not None
        if stage == "propose":
            prompt = re.search(r"User prompt: '(.*)'", text).group(1)  # type: ignore[union-attr]
            plan = truth.propose(prompt, observation, [])
            items = [i.model_dump() for i in plan.instructions]
            return json.dumps({"reasoning": plan.reasoning, "instructions": items})
        if stage == "ground":
            target = re.search(r"Find (.*) in the image", text).group(1)  # type: ignore[union-attr]
            box = truth.ground(Instruction(target=target, text=f"grasp {target}"), observation)
            size = re.search(r"width (\d+), height (\d+)", text)
            sent = (int(size.group(1)), int(size.group(2))) if size else (0, 0)
            height, width = observation.head_rgb.shape[:2]
            written = from_image_box(box, box_format, sent, (width, height))  # type: ignore[arg-type]
            return json.dumps({"reasoning": "found it", "box": [round(v, 3) for v in written]})
        if stage == "verify":
            target = re.search(r"Is (.*) held in the hand", text).group(1)  # type: ignore[union-attr]
            verdict = truth.verify_grasp(Instruction(target=target, text=f"grasp {target}"), observation)
            return json.dumps({"reasoning": verdict.reasoning, "success": verdict.ok})
        prompt = re.search(r"User prompt: '(.*)'", text).group(1)  # type: ignore[union-attr]
        verdict = truth.is_complete(prompt, observation, observation)
        return json.dumps({"reasoning": verdict.reasoning, "complete": verdict.ok})

    return answer


@pytest.mark.slow
@pytest.mark.parametrize("box_format", ["qwen2.5-vl", "qwen3-vl"])
def test_run_loop_completes_a_prompt_with_the_openai_planner(vlm_server: Any, box_format: str) -> None:
    sim = SimRobot(sample_scene(3, n_objects=2), image_size=64)
    world = ObservedSim(sim)
    vlm_server.responder = oracle_vlm(world, box_format)
    planner = OpenAIPlanner(vlm_server.url, "oracle-vlm", box_format=box_format, timeout=30)
    target = next(o for o in sim.objects if not o.flat)
    prompt = f"grasp the {target.name.replace('_', ' ')}"
    run = AgentRun(
        world,
        planner,
        RunControllers(ControllerChoices("scripted"), sim),
        RunConfig(prompt=prompt, realtime=False, success_check="verifier"),
        scene=SimTruth(sim),
        drop_pose=drop_pose(),
        clock=lambda: sim.time,
    )
    # Grounding through HTTP and the box convention lands on the ground-truth box.
    first = world.observe()
    instruction = ScenePlanner(sim).instruction_for(target)
    truth = Box.from_mask(first.head_segmentation == target.index)
    assert truth is not None
    assert planner.ground(instruction, first).as_tuple() == pytest.approx(truth.as_tuple(), abs=0.01)

    result = run.run()
    sim.close()
    assert result.completed, result.reason
    stages = [r["response_format"]["json_schema"]["name"] for r in vlm_server.chat_requests()]
    assert {"dexagent_propose", "dexagent_ground", "dexagent_verify"} <= set(stages)
