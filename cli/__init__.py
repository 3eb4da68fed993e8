"""The `dexagent` command line (Typer + rich)."""
