"""Small FastAPI dependencies used by every service's routers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request


def current_time(request: Request) -> datetime:
    return request.app.state.clock.now()


Now = Annotated[datetime, Depends(current_time)]
