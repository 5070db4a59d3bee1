"""`--help` that says what to type. Typer labels each parameter with its Python type: `<bool>`
beside a flag (which takes no value), `<list[str]>` beside a repeatable option, and a required
argument as `{url}` in the usage line. Every leadcap command is built with the classes here
(through `Typer`), which show nothing beside a flag, take a repeatable option's label from its
element type (its choices, for a Literal), and write arguments as the docs do: `URL`, `[ID]`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption
from typer.models import CommandFunctionType


def _tidy(params: list[Any]) -> list[Any]:
    for param in params:
        if not isinstance(param, TyperOption) or param.metavar is not None:
            continue
        if param.is_flag:
            param.metavar = ""  # a flag takes no value: nothing to show
        elif param.multiple:  # list[X]: X's choices (a Literal) or its name, as for one value
            element = (get_args(param.type_descriptor.annotation) or (str,))[0]
            choices = get_args(element)
            label = "|".join(map(str, choices)) if choices else getattr(element, "__name__", "text")
            param.metavar = f"<{label}>"
    return params


def _usage_name(param: TyperArgument) -> str:
    """`URL` for a required argument, `[ID]` for an optional one (its metavar, or its name)."""
    name = (param.metavar or param.name or "").strip("[]").upper()
    name = name if param.required else f"[{name}]"
    return name + ("..." if param.nargs != 1 else "")


class Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:  # Any: Typer's vendored click Context
        return _tidy(super().get_params(ctx))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(_usage_name(param))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


class Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:  # Any: Typer's vendored click Context
        return _tidy(super().get_params(ctx))


class Typer(typer.Typer):
    """typer.Typer whose groups and commands are the classes above."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", Group)
        super().__init__(**kwargs)

    def command(
        self, name: str | None = None, **kwargs: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        kwargs.setdefault("cls", Command)
        return super().command(name, **kwargs)
