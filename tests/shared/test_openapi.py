"""Every service's OpenAPI document tells a client what each integer enum value means, and
declares schemas its own values match."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from promo.registry import IMPLEMENTED_SERVICES, app_factory, settings_class


def openapi(service: str) -> dict[str, Any]:
    import importlib

    module, _, factory = app_factory(service).partition(":")
    app = getattr(importlib.import_module(module), factory)(settings_class(service)(_env_file=None, env="test"))
    return app.openapi()


def schemas_in(node: Any, where: str = "") -> Iterator[tuple[str, dict]]:
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from schemas_in(value, f"{where}/{key}")
    elif isinstance(node, list):
        for n, value in enumerate(node):
            yield from schemas_in(value, f"{where}/{n}")


@pytest.mark.parametrize("service", IMPLEMENTED_SERVICES)
def test_every_integer_enum_says_what_each_value_means(service):
    undocumented = [where for where, schema in schemas_in(openapi(service))
                    if schema.get("type") == "integer" and "enum" in schema
                    and len(schema.get("x-enum-descriptions", ())) != len(schema["enum"])]
    assert undocumented == [], f"{service}: integer enums without meanings (use shared.enums.DescribedIntEnum)"


@pytest.mark.parametrize("service", IMPLEMENTED_SERVICES)
def test_no_time_of_day_claims_an_offset_it_does_not_have(service):
    """`format: time` means RFC 3339 with an offset; business wall-clock times are patterns."""
    claims = [where for where, schema in schemas_in(openapi(service)) if schema.get("format") == "time"]
    assert claims == []
