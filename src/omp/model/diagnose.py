"""Turn pydantic validation errors into problems with a file, line and path."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from omp.model.names import did_you_mean
from omp.model.problems import FilePath, PathKey, Problem
from omp.model.schema import RULES_ERROR
from omp.model.yamlsource import SourceDoc

_MAX_SHOWN = 60


def validation_problems(
    exc: ValidationError, doc: SourceDoc, root: type[BaseModel], *, prefix: FilePath = ()
) -> Iterator[Problem]:
    """One problem per error; ``root`` is the model validated at ``prefix`` in the file."""
    for error in exc.errors(include_url=False):
        loc: FilePath = (*prefix, *_clean_loc(error["loc"]))
        if error["type"] == RULES_ERROR:
            for sub_path, message in error.get("ctx", {}).get("rules", []):
                yield doc.problem((*loc, *sub_path), message)
        elif error["type"] == "missing":
            yield doc.problem(loc[:-1], f"missing required key {loc[-1]!r}")
        elif error["type"] == "extra_forbidden":
            key = str(loc[-1])
            allowed = _allowed_keys(root, loc[len(prefix) : -1])
            listed = f"; allowed here: {', '.join(allowed)}" if allowed else ""
            yield doc.problem(loc, f"unknown key {key!r}{did_you_mean(key, allowed)}{listed}")
        else:
            yield doc.problem(loc, _message(error))


def _clean_loc(loc: tuple[int | str, ...]) -> FilePath:
    # A bad mapping key shows up as (..., key, "[key]"): the key itself is the place.
    return tuple(loc[:-1]) if loc and loc[-1] == "[key]" else tuple(loc)


def _message(error: ErrorDetails) -> str:
    message = error["msg"]
    if error["type"] == "value_error":
        return message.removeprefix("Value error, ")
    if error["type"] == "too_short":
        return "needs at least one entry"
    if error["type"] in ("enum", "literal_error"):
        expected = str(error.get("ctx", {}).get("expected", ""))
        choices = [part.strip(" '") for part in expected.replace(" or ", ",").split(",")]
        hint = did_you_mean(str(error["input"]), choices)
        return f"{_shown(error['input'])} is not allowed{hint}; expected {expected}"
    text = message.replace("Input should be", "should be")
    return f"{text}, got {_shown(error['input'])}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _allowed_keys(root: type[BaseModel], loc: FilePath) -> list[str]:
    """The field names of the model found by walking ``loc`` down from ``root``."""
    current: Any = root
    for step in loc:
        current = _step_into(current, step)
        if current is None:
            return []
    model = _as_model(current)
    return list(model.model_fields) if model is not None else []


def _step_into(annotation: Any, step: PathKey) -> Any:
    model = _as_model(annotation)
    if model is not None:
        field = model.model_fields.get(str(step))
        return None if field is None else field.annotation
    for option in _options(annotation):
        origin = typing.get_origin(option)
        if origin is dict:
            return typing.get_args(option)[1]
        if origin is list:
            return typing.get_args(option)[0]
    return None


def _as_model(annotation: Any) -> type[BaseModel] | None:
    for option in _options(annotation):
        if isinstance(option, type) and issubclass(option, BaseModel):
            return option
    return None


def _options(annotation: Any) -> list[Any]:
    """The members of a union or an ``Annotated`` type, else the annotation itself."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _options(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [opt for arg in typing.get_args(annotation) for opt in _options(arg)]
    return [annotation]
