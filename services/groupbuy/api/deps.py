"""What the group-buy routes need from the app, as typed dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.groupbuy.flows import Groupbuy


async def _groupbuy(request: Request) -> Groupbuy:
    return request.app.state.groupbuy


GroupbuyContext = Annotated[Groupbuy, Depends(_groupbuy)]
