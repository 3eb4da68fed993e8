"""`eval --report`: the HTML page's table, charts, failure reasons and episodes from real scenes, text
escaped, and (slow) real replayed videos of episodes with the target mask drawn on them."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import imageio.v3 as iio
import pytest
from typer.testing import CliRunner

from dexagent.agent.evaluation import EpisodeRecord, EvalConfig, get_suite
from dexagent.agent.evaluation.html_report import write_html_report
from dexagent.cli.app import app
from dexagent.hardware.sim.scenes import sample_scene


def record(index: int, split: str, success: bool, reason: str | None = None) -> EpisodeRecord:
    seed = 500 + index
    scene = sample_scene(seed, split, 6)
    return EpisodeRecord(
        index=index,
        scene_seed=seed,
        split=split,
        target_name=scene.objects[0].spec.name,
        target_tags=tuple(sorted(scene.objects[0].spec.tags)),
        success=success,
        success_attempt=1 if success else None,
        attempts_used=1,
        steps=130 if success else 240,
        wall_seconds=2.0,
        failure_reason=None if success else reason,
    )


def test_page_has_the_table_charts_failures_and_escaped_text(tmp_path: Path) -> None:
    config = EvalConfig(suite=get_suite("generalization"), controller="<b>mine</b>", episodes=6)
    records = [
        record(0, "unseen-objects", True),
        record(1, "unseen-objects", False, "dropped"),
        record(2, "unseen-backgrounds", True),
        record(3, "unseen-backgrounds", False, "timeout"),
        record(4, "unseen-backgrounds", False, "dropped"),
        record(5, "unseen-lighting", True),
    ]
    page = write_html_report(config, records, tmp_path / "report", max_failure_videos=0, success_videos=0)
    html = page.read_text()
    assert "&lt;b&gt;mine&lt;/b&gt;" in html and "<b>mine</b>" not in html  # names are text, not markup
    assert "3/6 episodes succeeded" in html
    rows = re.findall(r"<tr[^>]*><td>([^<]+)</td><td>(\d+)</td><td>([^<]+)</td>", html)
    assert ("unseen-backgrounds", "3", "33.3%") in rows and ("generalization", "6", "50.0%") in rows
    assert html.count("<svg") == 4  # split, object type, table texture, lighting
    assert "success by table texture" in html and "success by object type" in html
    assert re.search(r"<td>dropped</td><td>2</td><td>67%</td>", html)
    tables = {sample_scene(r.scene_seed, r.split, 6).background.name for r in records}
    for table in tables:
        assert f"<td>{table}</td>" in html  # the episode list names each scene's table
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert report["successes"] == 3 and report["failures"] == {"dropped": 2, "timeout": 1}


@pytest.mark.slow
def test_eval_report_replays_episodes_into_videos_with_the_mask(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    result = CliRunner().invoke(
        app,
        ["eval", "--suite", "single-object", "-n", "2", "--controller", "scripted", "--image-size", "32"]
        + ["--report", str(folder)],
    )
    assert result.exit_code == 0, result.output
    html = (folder / "index.html").read_text()
    videos = re.findall(r'src="data:video/mp4;base64,([^"]+)"', html)
    report = json.loads((folder / "report.json").read_text())
    assert len(videos) == report["episodes"] == 2  # no failures: the first successes are shown
    assert "ended differently" not in html  # each replay reproduced its episode
    for data, episode in zip(videos, report["records"], strict=True):
        frames = iio.imread(io.BytesIO(base64.b64decode(data)), extension=".mp4", plugin="pyav")
        assert frames.shape == (episode["steps"], 32, 64, 3)  # one frame per tick, head | wrist
        head = frames[..., :32, :].astype(int)
        magenta = (head[..., 0] > 150) & (head[..., 1] < 110) & (head[..., 2] > 150)
        assert magenta[0].sum() >= 2, "the target mask is drawn on the first head frame"


def test_eval_refuses_a_report_path_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(
        app, ["eval", "-n", "1", "--controller", "scripted", "--report", str(tmp_path / "file")]
    )
    assert result.exit_code == 2 and "give a folder that can be created or written" in result.output
