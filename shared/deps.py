"""Small FastAPI dependencies used by every service's routers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from shared.errors import negotiate_locale


def current_time(request: Request) -> datetime:
    return request.app.state.clock.now()


Now = Annotated[datetime, Depends(current_time)]


def request_locale(request: Request) -> str:
    """zh-CN or en, from Accept-Language (the service's default otherwise)."""
    return negotiate_locale(request.headers.get("accept-language"), request.app.state.settings.default_locale)


Locale = Annotated[str, Depends(request_locale)]
