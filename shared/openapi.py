"""OpenAPI helpers: routes declare the errors they may return with `responses=errors(...)`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from shared.errors import DomainError, ValidationFailed


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorBody(BaseModel):
    error: ErrorDetail


def errors(*error_classes: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    by_status: dict[int, list[str]] = {}
    for cls in (*error_classes, ValidationFailed):
        by_status.setdefault(cls.status, []).append(cls.code)
    return {status: {"model": ErrorBody, "description": " | ".join(sorted(set(codes)))}
            for status, codes in by_status.items()}
