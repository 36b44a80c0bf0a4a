"""Console settings (env, or `.env`): where it listens and where the browser finds the services."""

from __future__ import annotations

from pydantic import field_validator

from shared.ports import CONSOLE_PORT, IMPLEMENTED_SERVICES, SERVICE_PORTS
from shared.settings import CommonSettings


class ConsoleSettings(CommonSettings):
    console_host: str = "0.0.0.0"
    console_port: int = CONSOLE_PORT
    # The services' addresses as the operator's browser reaches them (they must list the console's
    # origin in their CORS_ORIGINS): {"coupon": "https://coupon.mall.example"}; default localhost:<port>.
    console_service_urls: dict[str, str] = {}
    # Production: where "Log in" sends the operator (the mall's identity provider), which sends them
    # back to <console>/#token=<RS256 token>. Dev mode logs in with tokens the console signs itself.
    console_login_url: str = ""

    @field_validator("console_service_urls")
    @classmethod
    def known_services(cls, urls: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(urls) - set(IMPLEMENTED_SERVICES))
        if unknown:
            raise ValueError(f"CONSOLE_SERVICE_URLS: unknown service(s) {unknown}")
        return urls

    def service_urls(self) -> dict[str, str]:
        return {name: self.console_service_urls.get(name, f"http://localhost:{SERVICE_PORTS[name]}")
                for name in IMPLEMENTED_SERVICES}
