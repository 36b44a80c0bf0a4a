"""Each service's database: migrated, and demo data added (`promo migrate`, `promo seed`,
`promo run`)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from promo import registry
from shared.db import create_engine, make_sessionmaker
from shared.migrations import upgrade


def migrate(services: list[str]) -> list[str]:
    """Migrates each service's database; returns the services whose database is new."""
    fresh = []
    for name in registry.check(services):
        settings = registry.settings_class(name)()
        if upgrade(name, settings.db_url):
            fresh.append(name)
        print(f"migrated {name}")
    return fresh


def prepare(services: list[str], demo: bool) -> list[str]:
    """`promo run`: every database migrated; demo data added to the new ones only, so demo data an
    operator deleted stays deleted after a restart. Returns the new ones."""
    fresh = migrate(services)
    if demo and fresh:
        seed(fresh)
    return fresh


def seed(services: list[str]) -> None:
    async def seed_one(name: str) -> bool:
        settings = registry.settings_class(name)()
        engine = create_engine(settings.db_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await registry.seed_module(name).seed_demo(session, datetime.now(UTC))
        finally:
            await engine.dispose()

    for name in registry.check(services):
        if registry.seed_module(name) is not None:
            added = asyncio.run(seed_one(name))
            print(f"seeded {name}" if added else f"{name} already has data; not seeded")
