"""The route table: which service a path goes to, who may call it, and how long to wait."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from gateway.settings import GatewaySettings
from shared.auth import Role

FAMILY_ROLES: dict[str, Role] = {"app-api": Role.MEMBER, "merchant-api": Role.MERCHANT, "admin-api": Role.ADMIN}


@dataclass(frozen=True, slots=True)
class Route:
    service: str
    upstream: str
    role: Role
    public: bool
    timeout: float  # seconds for the service's whole answer


@dataclass(frozen=True, slots=True)
class Upstream:
    host: str
    port: int

    @classmethod
    def from_url(cls, url: str) -> Upstream:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream {url!r}: only http://host:port is supported")
        return cls(parts.hostname, parts.port or 80)


class RouteTable:
    def __init__(self, settings: GatewaySettings) -> None:
        families = ["app-api", "merchant-api"] + (["admin-api"] if settings.gateway_forward_admin else [])
        self.services = {name: settings.upstream(name) for name in settings.gateway_services}
        self.families = {family: FAMILY_ROLES[family] for family in families}
        self.public_prefixes = tuple(settings.gateway_public_prefixes)
        self.timeouts = sorted(settings.gateway_route_timeouts.items(), key=lambda kv: -len(kv[0]))
        self.default_timeout = settings.gateway_timeout_seconds

    def match(self, path: str) -> Route | None:
        """`/app-api/content/banners` -> the content route; None for anything not forwarded
        (including every `/internal/**` path)."""
        parts = path.split("/", 3)
        if len(parts) < 3 or parts[0] != "":
            return None
        family, service = parts[1], parts[2]
        role = self.families.get(family)
        upstream = self.services.get(service)
        if role is None or upstream is None:
            return None
        timeout = next((t for prefix, t in self.timeouts if path.startswith(prefix)), self.default_timeout)
        return Route(service, upstream, role, path.startswith(self.public_prefixes), timeout)
