"""What the bargain routes need from the app, as typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.bargain.flows import Bargain


async def _bargain(request: Request) -> Bargain:
    return request.app.state.bargain


BargainContext = Annotated[Bargain, Depends(_bargain)]
