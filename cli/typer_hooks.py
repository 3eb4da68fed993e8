"""Two adjustments to Typer 0.29, each made only where this Typer has the internals it replaces:
older and newer releases keep their own behaviour, and the CLI works the same either way.

- A flag's help row shows no value type (Typer prints `<bool>` beside `--help` and every on/off
  switch, which reads as if the flag took a value).
- A parameter not given on the command line is not checked through pydantic. Typer builds a
  pydantic TypeAdapter for a parameter when it first checks its value, even the value None that it
  then passes through unchecked; every command level's `--help` is such a parameter. The first
  TypeAdapter imports pydantic, half of what `dexagent tree list` took to start. Here the
  TypeAdapter is built for the first value given.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import typer
import typer.core


def _flag_type(self: typer.core.TyperOption, ctx: Any) -> str | None:
    if self.is_flag and self.metavar is None:
        return None
    return _option_type(self, ctx)  # type: ignore[misc]


_option_type = getattr(typer.core.TyperOption, "display_type_rich", None)
if _option_type is not None:
    typer.core.TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign]


# typer.core imports typer._coercion: these are present exactly when this Typer checks values so.
_RuntimeParam: Any = getattr(getattr(typer, "_coercion", None), "RuntimeParam", None)
_build_runtime_param: Any = getattr(typer.core, "build_runtime_param", None)

if _RuntimeParam is not None and _build_runtime_param is not None:

    @dataclass(frozen=True)
    class _BuiltForFirstValue(_RuntimeParam):  # type: ignore[misc]
        """Typer's check of one parameter, built when a value is given."""

        descriptor: Any

        @functools.cached_property
        def built(self) -> Any:
            return _build_runtime_param(self.descriptor)

        def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
            if value is None:  # not given: Typer's own rule (None, or () for a list) needs no adapter
                return super().coerce(value, param=param, ctx=ctx)
            return self.built.coerce(value, param=param, ctx=ctx)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            return self.built._coerce_value(value, param=param, ctx=ctx)

    def _build_for_first_value(descriptor: Any) -> Any:
        return _BuiltForFirstValue(
            parameter_info=descriptor.parameter_info, annotation=descriptor.annotation, descriptor=descriptor
        )

    typer.core.build_runtime_param = _build_for_first_value
