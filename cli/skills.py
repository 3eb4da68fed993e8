"""`dexagent skills`: the skill manifest (names, kinds, parameters) that trees and the planner use."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from dexagent.cli.app import app
from dexagent.cli.errors import console

# From this terminal width the skills table has a column each for kind, description and parameters.
WIDE = 140


def _type_name(prop: dict[str, Any]) -> str:
    if "anyOf" in prop:
        return " | ".join(_type_name(p) for p in prop["anyOf"])
    return str(prop.get("type", prop.get("$ref", "any").rsplit("/", 1)[-1]))


def _describe_params(schema: dict[str, Any]) -> str:
    """One line per parameter: `name: type = default  description` (required ones have no default)."""
    required = set(schema.get("required", []))
    lines = []
    for name, prop in schema.get("properties", {}).items():
        default = "" if name in required else f" = {json.dumps(prop.get('default'))}"
        text = prop.get("description", "")
        lines.append(f"[bold]{name}[/]: {_type_name(prop)}{default}" + (f"  [dim]{text}[/]" if text else ""))
    return "\n".join(lines) or "[dim](none)[/]"


@app.command("skills")
def skills(
    as_json: bool = typer.Option(False, "--json", help="Print the manifest as JSON (for tools)."),
    schema: bool = typer.Option(
        False, "--schema", help="Print the JSON schema of one skill node (for editors and planners)."
    ),
) -> None:
    """List the skills trees can use: name, kind, what it does, its parameters and defaults."""
    from dexagent.skills import REGISTRY  # the skills and py_trees: for this command, not for --help

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
        for entry in REGISTRY.manifest():
            params = _describe_params(entry["params"])
            table.add_row(entry["name"], entry["kind"], entry["description"], params)
    else:  # narrow: four columns squeeze every cell; the kind goes under the name, parameters under the text
        table.add_column(f"what it does; {params_title}")
        for entry in REGISTRY.manifest():
            what = f"{escape(entry['description'])}\n{_describe_params(entry['params'])}"
            table.add_row(f"{entry['name']}\n[dim]{entry['kind']}[/]", what)
    console.print(table)
