"""Finds each implemented service's settings, app and demo data by naming convention."""

from __future__ import annotations

import importlib
from types import ModuleType

from shared.ports import IMPLEMENTED_SERVICES, SERVICE_PORTS
from shared.settings import ServiceSettings


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"services.{service}.settings")
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, ServiceSettings) and value.service_name == service:
            return value
    raise LookupError(f"services/{service}/settings.py defines no ServiceSettings for {service!r}")


def seed_module(service: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"services.{service}.seed")
    except ModuleNotFoundError:
        return None


def app_factory(service: str) -> str:
    return f"services.{service}.main:create_app"


def create_app(service: str):
    """The service's app, with its settings read from the environment."""
    module, _, factory = app_factory(service).partition(":")
    return getattr(importlib.import_module(module), factory)(settings_class(service)())


def check(names: list[str] | None) -> list[str]:
    names = names or list(IMPLEMENTED_SERVICES)
    unknown = [n for n in names if n not in IMPLEMENTED_SERVICES]
    if unknown:
        raise SystemExit(f"unknown service(s): {', '.join(unknown)}; implemented: {', '.join(IMPLEMENTED_SERVICES)}")
    return names


__all__ = ["IMPLEMENTED_SERVICES", "SERVICE_PORTS", "app_factory", "check", "seed_module", "settings_class"]
