"""Command options made from a pydantic model's fields: the CLI takes what the API's model takes.

`@model_options(MovieCreate)` gives a command one `--<field>` option per field
of the model, so a field added to the model is an option at once, with the
field's description as its help:

- `int`, `float`, `str` and enum fields keep their type (Typer checks it);
  decimals and the rest are text the model parses (`--price 9.99`);
- a list field is a repeatable option named in the singular
  (`genres` -> `--genre Drama --genre Crime`);
- a field ending in `_id` is a row id (`cli.params.id_option`: 1..MAX_ID);
- an option is required when the model requires the field (unless `partial`).

The command receives the given options in `**values` (absent ones are None)
and builds the model itself with `build`, so the model's validation, and its
error, is the API's: a value the model refuses is a usage error (exit 2); a
rule the model raises as a domain error (`InvalidRange`) prints its sentence
and code (exit 1).
"""

from __future__ import annotations

import enum
import inspect
import types
from collections.abc import Callable
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import typer
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from cli.params import id_option

F = TypeVar("F", bound=Callable[..., Any])
M = TypeVar("M", bound=BaseModel)


def _option_type(annotation: Any) -> Any:
    """The type Typer parses a field's option as (see the module docstring)."""
    if get_origin(annotation) in (Union, types.UnionType):
        annotation = next(arg for arg in get_args(annotation) if arg is not type(None))
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is list:
        return list[str]
    if annotation in (int, float, str) or (
        isinstance(annotation, type) and issubclass(annotation, enum.Enum)
    ):
        return annotation
    return str


def _description(info: FieldInfo) -> str:
    """The field's description, or the one its annotated type carries (`Runtime | None`)."""
    if info.description:
        return info.description
    for arg in get_args(info.annotation):
        if get_origin(arg) is Annotated:
            for meta in get_args(arg)[1:]:
                if isinstance(meta, FieldInfo) and meta.description:
                    return meta.description
    return ""


def _parameters(model: type[BaseModel], *, partial: bool) -> list[inspect.Parameter]:
    parameters = []
    for name, info in model.model_fields.items():
        kind = _option_type(info.annotation)
        flag = "--" + (name.removesuffix("s") if kind == list[str] else name).replace("_", "-")
        help_text = _description(info)
        if kind == list[str]:
            help_text = f"{help_text} Repeat for several.".strip()
        if name.endswith("_id"):
            option = id_option(flag, help=help_text)
        else:
            option = typer.Option(flag, help=help_text, show_default=False)
        required = info.is_required() and not partial
        parameters.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=inspect.Parameter.empty if required else None,
                annotation=Annotated[kind if required else kind | None, option],
            )
        )
    return parameters


def model_options(model: type[BaseModel], *, partial: bool = False) -> Callable[[F], F]:
    """Give the decorated command an option per field of `model` (after its own parameters).

    The command declares `**values`; `partial` makes every option optional (an update).
    """

    def decorate(command: F) -> F:
        own = [
            p
            for p in inspect.signature(command, eval_str=True).parameters.values()
            if p.kind is not inspect.Parameter.VAR_KEYWORD
        ]
        positional = [p for p in own if p.kind is not inspect.Parameter.KEYWORD_ONLY]
        keyword = [p for p in own if p.kind is inspect.Parameter.KEYWORD_ONLY]
        parameters = [*positional, *_parameters(model, partial=partial), *keyword]
        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        return command

    return decorate


def build(model: type[M], values: dict[str, Any]) -> M:
    """`model` from the options given (None: not given); a value it refuses is a usage error."""
    given = {
        name: value for name, value in values.items() if name in model.model_fields and value is not None
    }
    try:
        return model.model_validate(given)
    except ValidationError as exc:
        raise typer.BadParameter(
            "; ".join(
                f"--{'.'.join(str(p) for p in e['loc']).replace('_', '-')}: {e['msg']}" for e in exc.errors()
            )
        ) from None
