"""How a command's ``--help`` names the values it takes: ``FILE``, ``--port PORT``.

Typer 0.29 writes an argument as ``{file}`` in the usage line and ``file <path>`` in its
list, and an option's value as its Python type (``--host <str>``, ``--limit <int
range>``, ``files... <list[Path]>``): words of the code, not of the person typing the
command. Every ``inkling`` command is built with :class:`PlainCommand`, which names each
value by its metavar, or by its parameter's name in capitals when it has none, and
writes a default given as text (``show_default="today, UTC"``) as it is, where click
would put it in brackets as if it were a remark.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typer.core import TyperArgument, TyperCommand, TyperOption

if TYPE_CHECKING:
    # Typer's own copy of click: the types its command classes are written against.
    from typer._click import Context, HelpFormatter


class PlainCommand(TyperCommand):
    """A Typer command whose help shows ``NAME`` where Typer would show a Python type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            takes_value = isinstance(param, TyperArgument) or (
                isinstance(param, TyperOption) and not param.is_flag and not param.count
            )
            if takes_value and param.metavar is None and param.name:
                param.metavar = param.name.upper()

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(_usage_name(param))
        return pieces

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        arguments: list[tuple[str, str]] = []
        options: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is None:
                continue
            name, text = record
            shown = getattr(param, "show_default", None)
            if isinstance(shown, str):  # a value, not a remark: no brackets
                text = text.replace(f"default: ({shown})", f"default: {shown}")
            if isinstance(param, TyperArgument):
                arguments.append((_list_name(param), text))
            else:
                options.append((name, text))
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _list_name(param: TyperArgument) -> str:
    """``FILE``, or ``FILE...`` for an argument that takes several."""
    name = param.metavar or str(param.name).upper()
    return name if param.nargs == 1 else f"{name}..."


def _usage_name(param: TyperArgument) -> str:
    """As the usage line writes it: ``FILE``, ``[DIRECTORY]`` when it may be left out."""
    name = _list_name(param)
    return name if param.required else f"[{name}]"
