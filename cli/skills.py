"""`dexagent skills`: the skill manifest (names, kinds, parameters) that trees and the planner use."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from dexagent.cli.app import app
from dexagent.cli.errors import console


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
    table = Table(title="Skills", show_lines=True)
    table.add_column("skill", style="cyan", no_wrap=True)
    table.add_column("kind")
    table.add_column("description")
    table.add_column("parameters ({key} takes a blackboard value)")
    for entry in REGISTRY.manifest():
        table.add_row(entry["name"], entry["kind"], entry["description"], _describe_params(entry["params"]))
    console.print(table)
