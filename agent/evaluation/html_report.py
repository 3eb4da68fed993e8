"""`dexagent eval --report DIR`: one self-contained HTML page (charts inline as SVG, videos inline as
MP4 data) a person can open, mail or attach to CI, plus the JSON report beside it.

Sections: the paper-style table (success per split, success@k), success by split, object type,
table texture and lighting, failure reasons, every episode, and short videos of each failed
episode and a few successes from both cameras with the target mask drawn over the head camera.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from dexagent.agent.evaluation.episode_videos import (
    EpisodeScene,
    EpisodeVideo,
    choose_episodes,
    episode_scene,
    record_video,
)
from dexagent.agent.evaluation.report import report_json, split_summaries
from dexagent.agent.evaluation.report_charts import ChartsUnavailable, bar_chart_svg, group_by
from dexagent.agent.evaluation.runner import EpisodeRecord, EvalConfig

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1100px; color: #222; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 28px; }
.meta { color: #666; } table { border-collapse: collapse; margin: 8px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; }
th:first-child, td:first-child { text-align: left; } thead th { border-bottom: 2px solid #444; }
tr.total td { font-weight: 600; border-top: 2px solid #444; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.charts svg { max-width: 540px; height: auto; }
.videos { display: flex; flex-wrap: wrap; gap: 14px; }
figure { margin: 0; width: 384px; } video { width: 384px; image-rendering: pixelated; background: #000; }
figcaption { font-size: 12px; color: #444; } .fail { color: #c62828; } .ok { color: #2e7d32; }
"""


def _table(headers: list[str], rows: list[list[str]], total_last: bool = False) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for position, row in enumerate(rows):
        css = ' class="total"' if total_last and position == len(rows) - 1 and len(rows) > 1 else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _results_table(config: EvalConfig, records: list[EpisodeRecord]) -> str:
    headers = ["suite / split", "episodes", "success"]
    if config.attempts > 1:
        headers += [f"@{k}" for k in range(1, config.attempts + 1)]
    headers += ["steps to success", "s / episode"]
    rows = []
    for summary in split_summaries(config, records):
        empty = summary.episodes == 0
        row = [escape(summary.name), str(summary.episodes), "-" if empty else f"{summary.success_rate:.1%}"]
        if config.attempts > 1:
            row += ["-" if empty else f"{rate:.1%}" for rate in summary.success_at_k]
        row += [
            "-" if summary.mean_steps is None else f"{summary.mean_steps:.0f}",
            "-" if empty else f"{summary.mean_wall_seconds:.1f}",
        ]
        rows.append(row)
    return _table(headers, rows, total_last=True)


def _charts(records: list[EpisodeRecord], scenes: dict[int, EpisodeScene | None]) -> str:
    def scene_field(field: str) -> Callable[[EpisodeRecord], str]:
        return lambda r: getattr(scenes[r.index], field) if scenes[r.index] is not None else "-"

    charts = [("by split", lambda r: r.split)]
    if any(scene is not None for scene in scenes.values()):
        charts += [
            ("by object type", scene_field("object_type")),
            ("by table texture", scene_field("table")),
            ("by lighting", scene_field("lighting")),
        ]
    try:
        svgs = [
            bar_chart_svg(f"success {title}", group_by(records, key, lambda r: r.success))
            for title, key in charts
        ]
    except ChartsUnavailable as error:
        return f"<p>{escape(str(error))}</p>"
    return '<div class="charts">' + "".join(svgs) + "</div>"


def _failures(records: list[EpisodeRecord]) -> str:
    failed = [r for r in records if not r.success]
    if not failed:
        return "<p>No failures.</p>"
    counts = Counter(r.failure_reason or "unknown" for r in failed)
    rows = [[escape(reason), str(n), f"{n / len(failed):.0%}"] for reason, n in counts.most_common()]
    return _table(["reason", "episodes", "share of failures"], rows)


def _episodes(records: list[EpisodeRecord], scenes: dict[int, EpisodeScene | None]) -> str:
    rows = []
    for r in records:
        scene = scenes[r.index]
        outcome = (
            '<span class="ok">success</span>'
            if r.success
            else f'<span class="fail">{escape(r.failure_reason or "failed")}</span>'
        )
        rows.append(
            [
                str(r.index),
                escape(r.split),
                escape(r.target_name),
                escape(scene.table if scene else "-"),
                escape(scene.lighting if scene else "-"),
                str(r.scene_seed),
                outcome,
                str(r.attempts_used),
                str(r.steps),
            ]
        )
    headers = [
        "episode",
        "split",
        "target",
        "table",
        "lighting",
        "scene seed",
        "outcome",
        "attempts",
        "steps",
    ]
    return (
        f"<details><summary>all {len(records)} episodes (show a scene with "
        "<code>dexagent sim show --seed SEED --split SPLIT</code>)</summary>"
        + _table(headers, rows)
        + "</details>"
    )


def _video_figure(video: EpisodeVideo) -> str:
    r = video.record
    outcome = "succeeded" if r.success else f"failed: {r.failure_reason or 'unknown'}"
    note = "" if video.replay_matches else " (the replay ended differently from the evaluated episode)"
    data = base64.b64encode(video.mp4).decode("ascii")
    caption = f"episode {r.index} · {r.split} · {r.target_name} · {outcome}{note}"
    css = "ok" if r.success else "fail"
    return (
        f'<figure><video controls loop muted playsinline src="data:video/mp4;base64,{data}"></video>'
        f'<figcaption class="{css}">{escape(caption)}</figcaption></figure>'
    )


def write_html_report(
    config: EvalConfig,
    records: list[EpisodeRecord],
    out: Path,
    *,
    max_failure_videos: int = 24,
    success_videos: int = 3,
    command: str = "",
    extra_json: dict[str, object] | None = None,
    on_video: Callable[[int, int], None] | None = None,
) -> Path:
    """Write out/index.html and out/report.json; returns the HTML path. Replays the episodes shown."""
    out.mkdir(parents=True, exist_ok=True)
    scenes = {r.index: episode_scene(config, r) for r in records}
    shown = (
        choose_episodes(records, max_failure_videos, success_videos)
        if config.suite.run_episode is None
        else []
    )
    videos = []
    for position, record in enumerate(shown):
        video = record_video(config, record)
        if video is not None:
            videos.append(video)
        if on_video is not None:
            on_video(position + 1, len(shown))
    failures = sum(not r.success for r in records)
    failed_shown = sum(not v.record.success for v in videos)
    if videos:
        video_note = (
            "Head camera (target mask in magenta) | wrist camera, 20 fps. "
            f"{failed_shown} of {failures} failures and {len(videos) - failed_shown} successes shown."
        )
    elif config.suite.run_episode is not None:
        video_note = "No videos: this suite's episodes are not single grasp scenes."
    else:
        video_note = "No videos."
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    title = f"{config.suite.name} · {config.controller} · {config.suite.skill}"
    successes = sum(r.success for r in records)
    body = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{successes}/{len(records)} episodes succeeded · seed {config.seed} · '
        f"{config.attempts} attempt(s) · {config.camera_sizes.shown()} · "
        f"{'wall-clock 20 Hz' if config.realtime else 'in the tick'} · {stamp}"
        + (f"<br><code>{escape(command)}</code>" if command else "")
        + "</p>",
        f"<p>{escape(config.suite.description)}</p>",
        "<h2>Results</h2>",
        _results_table(config, records),
        "<h2>Success by split, object type, table and lighting</h2>",
        _charts(records, scenes),
        "<h2>Failure reasons</h2>",
        _failures(records),
        "<h2>Episodes</h2>",
        _episodes(records, scenes),
        "<h2>Videos</h2>",
        f"<p>{escape(video_note)}</p>",
        '<div class="videos">' + "".join(_video_figure(v) for v in videos) + "</div>",
    ]
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>\n"
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    report = {**report_json(config, records), **(extra_json or {})}
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    return path
