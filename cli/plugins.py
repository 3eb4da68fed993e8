"""`dexagent plugins`: the registered robots, mask trackers, planners and encoders, with their options."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from dexagent.cli.app import app
from dexagent.cli.errors import console, fail

# The registries by the flag or field that names an entry; each module registers its built-ins on load.
REGISTRIES = {
    "robot": ("dexagent.hardware.registry", "ROBOTS", "--robot, a config file's `type`"),
    "tracker": ("dexagent.controller.perception.registry", "TRACKERS", "--tracker, --tracker-option"),
    "planner": ("dexagent.agent.planner.factory", "PLANNERS", "--planner, --planner-option"),
    "encoder": ("dexagent.controller.config", "ENCODERS", "a policy config's `kind`"),
}


@app.command("plugins")
def plugins(
    kind: str | None = typer.Argument(None, help=f"Only this kind: {', '.join(REGISTRIES)}."),
) -> None:
    """List the registered robots, mask trackers, planners and encoders, with their options."""
    import importlib

    if kind is not None and kind not in REGISTRIES:
        fail(f"unknown kind {kind!r}; choose one of {', '.join(REGISTRIES)}")
    table = Table(title="Plug-ins", show_lines=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("name", style="cyan", no_wrap=True)
    table.add_column("what it is; options")
    for name in [kind] if kind is not None else list(REGISTRIES):
        module, attribute, chosen_by = REGISTRIES[name]
        registry = getattr(importlib.import_module(module), attribute)
        for entry, description in registry.descriptions().items():
            options = registry.options(entry)
            lines = [f"[bold]{escape(key)}[/]  [dim]{escape(text)}[/]" for key, text in options.items()]
            text = "\n".join([escape(description), *lines])
            table.add_row(f"{name}\n[dim]{escape(chosen_by)}[/]", entry, text)
    console.print(table)
