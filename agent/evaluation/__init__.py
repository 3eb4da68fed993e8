"""The harness behind `dexagent eval`: suites, closed-loop episodes in sim, Table-1-style reports."""

from dexagent.agent.evaluation.report import Summary, report_json, results_table, summarise
from dexagent.agent.evaluation.runner import (
    EpisodeRecord,
    EpisodeTask,
    EvalConfig,
    iter_records,
    plan_tasks,
    run_episode,
    run_grasp_episode,
    run_suite,
)
from dexagent.agent.evaluation.suites import SUITES, Suite, SuiteError, get_suite

__all__ = [
    "SUITES",
    "EpisodeRecord",
    "EpisodeTask",
    "EvalConfig",
    "Suite",
    "SuiteError",
    "Summary",
    "get_suite",
    "iter_records",
    "plan_tasks",
    "report_json",
    "results_table",
    "run_episode",
    "run_grasp_episode",
    "run_suite",
    "summarise",
]
