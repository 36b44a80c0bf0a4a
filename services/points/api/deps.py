"""What the points routes need from the app, as typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.points.flows import Points


async def _points(request: Request) -> Points:
    return request.app.state.points


PointsContext = Annotated[Points, Depends(_points)]
