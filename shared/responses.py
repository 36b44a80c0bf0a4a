"""Hot, large responses that a service builds itself as plain data."""

from __future__ import annotations

from typing import Any

from fastapi.responses import Response
from pydantic_core import to_json


def prebuilt_json(content: Any, status_code: int = 200) -> Response:
    """Serialized once by pydantic-core, skipping the route's response-model validation (which
    took a quarter of a quote's CPU). The route keeps `response_model` for its OpenAPI schema,
    and a test checks the content against it."""
    return Response(to_json(content), status_code=status_code, media_type="application/json")
