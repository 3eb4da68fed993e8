"""`dexagent skills`: the skill manifest (names, kinds, parameters) that trees and the planner use."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from dexagent.cli.app import app
from dexagent.cli.errors import console

if TYPE_CHECKING:
    from dexagent.skills.param_fields import ParamRow

# From this terminal width the skills table has a column each for kind, description and parameters.
WIDE = 140


def _describe_params(rows: list[ParamRow]) -> str:
    """One line per parameter: `name: type = default  description` (required ones have no default)."""
    lines = []
    for row in rows:
        default = "" if row.required else f" = {row.default}"
        text = f"  [dim]{row.description}[/]" if row.description else ""
        lines.append(f"[bold]{row.name}[/]: {row.type_name}{default}{text}")
    return "\n".join(lines) or "[dim](none)[/]"


@app.command("skills")
def skills(
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON (for tools)."),
    schema: bool = typer.Option(
        False, "--schema", help="Print the JSON schema of one skill node (for editors and planners)."
    ),
) -> None:
    """List the skills trees can use: name, kind, what it does, its parameters and defaults."""
    from dexagent.skills import REGISTRY  # the skills' declarations: for this command, not for --help

    if schema:
        typer.echo(json.dumps(REGISTRY.json_schema(), indent=2))
        return
    if as_json:
        typer.echo(json.dumps(REGISTRY.manifest(), indent=2))
        return
    params_title = "parameters ({key} takes a blackboard value)"
    table = Table(title="Skills", show_lines=True)
    table.add_column("skill", style="cyan", no_wrap=True)
    if console.width >= WIDE:
        table.add_column("kind")
        table.add_column("description")
        table.add_column(params_title)
        for info in REGISTRY:
            table.add_row(info.name, info.kind, info.description, _describe_params(info.param_rows()))
    else:  # narrow: four columns squeeze every cell; the kind goes under the name, parameters under the text
        table.add_column(f"what it does; {params_title}")
        for info in REGISTRY:
            what = f"{escape(info.description)}\n{_describe_params(info.param_rows())}"
            table.add_row(f"{info.name}\n[dim]{info.kind}[/]", what)
    console.print(table)
