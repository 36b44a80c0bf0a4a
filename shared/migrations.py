"""Alembic wiring shared by every service's `migrations/env.py`.

Each service has its own migrations folder, its own database and its own version table
(`<service>_alembic_version`), so services could even share one database safely.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, inspect, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from shared.db import ensure_database


def alembic_config(service: str, url: str) -> Config:
    import importlib

    package = importlib.import_module(f"services.{service}")
    folder = Path(package.__file__).parent / "migrations"
    config = Config()
    config.set_main_option("script_location", str(folder))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["service"] = service
    return config


def upgrade(service: str, url: str, revision: str = "head") -> bool:
    """Create the database if needed and migrate it; True when it had never been migrated (a new
    database: `make run` adds demo data only then). Blocking: from async code, run it in a thread
    (`await asyncio.to_thread(upgrade, ...)`)."""
    asyncio.run(ensure_database(url))
    fresh = not asyncio.run(_has_version_table(service, url))
    command.upgrade(alembic_config(service, url), revision)
    return fresh


async def _has_version_table(service: str, url: str) -> bool:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(lambda sync: inspect(sync).has_table(f"{service}_alembic_version"))
    finally:
        await engine.dispose()


def run_env(metadata: MetaData, service: str) -> None:
    """Body of a service's migrations/env.py."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    options = dict(target_metadata=metadata, version_table=f"{service}_alembic_version",
                   render_as_batch=url.startswith("sqlite"), compare_type=True)
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return

    def run(connection: Connection) -> None:
        context.configure(connection=connection, **options)
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            mysql = connection.dialect.name == "mysql"
            if mysql:  # several replicas may start at once: one migrates, the others wait
                lock = f"promo_migrate_{service}"
                if await connection.scalar(text("SELECT GET_LOCK(:name, 600)"), {"name": lock}) != 1:
                    raise RuntimeError(f"timed out waiting for the migration lock {lock}")
            try:
                await connection.run_sync(run)
                await connection.commit()
            finally:
                if mysql:
                    await connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": lock})
        await engine.dispose()

    asyncio.run(main())
