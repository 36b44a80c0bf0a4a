"""Base classes of every service's request and response bodies."""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Strict


def strict_numbers(annotation: Any) -> Any:
    """`int` and `bool` made strict wherever they appear in a field's type (inside Optional,
    lists, Annotated...; dict keys stay lax, JSON object keys are strings)."""
    if annotation is int or annotation is bool:
        return Annotated[annotation, Strict()]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        base = strict_numbers(args[0])
        return annotation if base is args[0] else Annotated[(base, *annotation.__metadata__)]
    if origin is dict:
        value = strict_numbers(args[1])
        return annotation if value is args[1] else dict[args[0], value]
    if origin in (Union, types.UnionType, list, set, frozenset, tuple):
        new = tuple(strict_numbers(arg) for arg in args)
        if all(a is b for a, b in zip(new, args, strict=True)):
            return annotation
        return Union[new] if origin in (Union, types.UnionType) else origin[new]  # noqa: UP007
    return annotation


class Input(BaseModel):
    """A request body: unknown fields are refused (a typo is a 422, not silently ignored), and
    numbers and booleans are strict (`true` is not an id, `"1"` is not an amount of money)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        changed = False
        for field in cls.model_fields.values():
            strict = strict_numbers(field.annotation)
            if strict is not field.annotation:
                field.annotation, changed = strict, True
        if changed:
            cls.model_rebuild(force=True)


class Output(BaseModel):
    """A response body, read from ORM rows or plain objects."""

    model_config = ConfigDict(from_attributes=True)
