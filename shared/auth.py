"""JWT verification and role checks.

Tokens carry `sub` (the user, merchant user or service id), `role` (member, merchant, admin,
service) and, for merchants, `business_id`. Every service verifies tokens itself; the gateway
does the same check early. HS256 with a shared secret is for dev/test (the default dev secret
is refused elsewhere, see settings); production verifies RS256 with the issuer's public key.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import jwt
from fastapi import Depends, Request

from shared.errors import DomainError, Forbidden, InvalidToken, Unauthorized
from shared.ids import MAX_ID
from shared.settings import CommonSettings


class Role(StrEnum):
    MEMBER = "member"
    MERCHANT = "merchant"
    ADMIN = "admin"
    SERVICE = "service"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    role: Role
    business_id: int | None = None

    @property
    def user_id(self) -> int:
        return int(self.subject)


class InvalidDeviceId(DomainError):
    status = 400
    code = "INVALID_DEVICE_ID"
    messages = {"en": "X-Device-Id must be 8-64 letters, digits, '-' or '_'",
                "zh-CN": "X-Device-Id 须为 8-64 位字母、数字、'-' 或 '_'"}


VERIFIED_TOKENS_KEPT = 100_000


def _is_id(subject: str) -> bool:
    """A member's or merchant user's id: a positive 64-bit integer, as every table stores it."""
    return subject.isascii() and subject.isdigit() and len(subject) <= 19 and 0 < int(subject) <= MAX_ID


class TokenVerifier:
    def __init__(self, settings: CommonSettings) -> None:
        self.algorithm = settings.jwt_algorithm.upper()
        self.key = (settings.jwt_public_key if self.algorithm == "RS256"
                    else settings.jwt_secret.get_secret_value())
        self.issuer = settings.jwt_issuer or None
        self.audience = settings.jwt_audience or None
        self.leeway = settings.jwt_leeway_seconds
        # token -> (principal, exp): a signature checked once is not checked again until the token
        # expires (a flash crowd sends the same tokens over and over; checking was 20% of a request)
        self._verified: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None and known[1] + self.leeway > time.time():
            return known[0]
        try:
            claims = jwt.decode(
                token, self.key, algorithms=[self.algorithm], issuer=self.issuer, audience=self.audience,
                leeway=self.leeway, options={"require": ["sub", "exp"], "verify_aud": self.audience is not None},
            )
            role = Role(claims.get("role"))
            business_id = claims.get("business_id")
            if role is Role.MERCHANT and not (type(business_id) is int and 0 < business_id <= MAX_ID):
                raise ValueError("merchant token without a valid business_id")
            subject = str(claims["sub"])
            if role is not Role.SERVICE and not _is_id(subject):
                raise ValueError("user token whose sub is not an id (1 .. 2^63-1)")
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken(reason=type(exc).__name__) from exc
        principal = Principal(subject=subject, role=role, business_id=business_id)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.clear()
        self._verified[token] = (principal, float(claims["exp"]))
        return principal

    def verify_header(self, authorization: str | None) -> Principal | None:
        """None when there is no Authorization header; InvalidToken when it is bad."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise InvalidToken(reason="not a bearer token")
        return self.verify(token.strip())


def issue_token(settings: CommonSettings, subject: str | int, role: Role | str, *,
                business_id: int | None = None, ttl_seconds: int = 86400) -> str:
    """Sign an HS256 token with the configured secret (dev tooling and tests only)."""
    if settings.jwt_algorithm.upper() != "HS256":
        raise RuntimeError("issue_token signs HS256 dev tokens only; production tokens come from your IdP")
    now = int(time.time())
    claims: dict[str, object] = {"sub": str(subject), "role": str(Role(role)), "iat": now,
                                 "exp": now + ttl_seconds}
    if business_id is not None:
        claims["business_id"] = business_id
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


# --- FastAPI dependencies -----------------------------------------------------------------

async def optional_principal(request: Request) -> Principal | None:
    """The caller if a token was sent; anonymous callers get None, bad tokens a 401."""
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier.verify_header(request.headers.get("authorization"))


def require_role(*roles: Role | str):
    allowed = frozenset(Role(r) for r in roles)

    async def dependency(principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
        if principal is None:
            raise Unauthorized()
        if principal.role not in allowed:
            raise Forbidden(required=sorted(allowed))
        return principal

    return dependency


_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def optional_device_id(request: Request) -> str | None:
    """Anonymous device id from `X-Device-Id` (for endpoints that allow anonymous callers)."""
    value = request.headers.get("x-device-id")
    if value is None:
        return None
    if not _DEVICE_ID.match(value):
        raise InvalidDeviceId()
    return value


Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
Member = Annotated[Principal, Depends(require_role(Role.MEMBER))]
Merchant = Annotated[Principal, Depends(require_role(Role.MERCHANT))]
Service = Annotated[Principal, Depends(require_role(Role.SERVICE))]
MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]
async def _device_id(request: Request) -> str | None:
    return optional_device_id(request)


DeviceId = Annotated[str | None, Depends(_device_id)]  # async: see shared/deps.py
