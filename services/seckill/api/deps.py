"""What the seckill routes need from the app, as typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.seckill.context import Seckill


async def _seckill(request: Request) -> Seckill:
    return request.app.state.seckill


SeckillContext = Annotated[Seckill, Depends(_seckill)]
