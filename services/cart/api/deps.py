"""What the cart routes need, as typed dependencies: whose cart (a member by the token, a device by
X-Device-Id), the device a member merges, and the page's context."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from services.cart.domain import Owner
from services.cart.errors import DeviceIdRequired
from services.cart.flows import CartContext
from shared.auth import DeviceId, MaybePrincipal, Member, Role
from shared.errors import Forbidden

# Declared for the OpenAPI document; shared.auth's DeviceId reads and checks the header itself.
DeviceHeader = Annotated[str | None, Header(alias="X-Device-Id", description=(
    "an anonymous device's cart: 8-64 letters, digits, '-' or '_' (400 INVALID_DEVICE_ID otherwise); "
    "ignored for members, except by the merge"))]


async def _owner(caller: MaybePrincipal, device_id: DeviceId, _header: DeviceHeader = None) -> Owner:
    """A member's token: the member's cart. No token: the cart of the device named by X-Device-Id
    (400 CART_DEVICE_ID_REQUIRED without one). Other roles have no cart (403)."""
    if caller is not None:
        if caller.role is not Role.MEMBER:
            raise Forbidden(required=[Role.MEMBER])
        return Owner(user_id=caller.user_id)
    if device_id is None:
        raise DeviceIdRequired()
    return Owner(device_id=device_id)


async def _device_to_merge(member: Member, device_id: DeviceId, _header: DeviceHeader = None) -> tuple[int, str]:
    if device_id is None:
        raise DeviceIdRequired()
    return member.user_id, device_id


async def _cart(request: Request) -> CartContext:
    return request.app.state.cart


CartOwner = Annotated[Owner, Depends(_owner)]
MergeFrom = Annotated[tuple[int, str], Depends(_device_to_merge)]  # (the member, the device cart to merge)
Context = Annotated[CartContext, Depends(_cart)]
