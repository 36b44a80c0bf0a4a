"""Migrations of every implemented service apply cleanly, even when several replicas run
`promo migrate` at the same moment against an empty database (the MySQL lock serialises them)."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from sqlalchemy import inspect

from promo.registry import IMPLEMENTED_SERVICES
from shared.db import create_engine
from shared.migrations import upgrade
from tests.conftest import DATABASE_URL, database_url, recreate_database


async def migrate_process(env: dict[str, str]) -> tuple[int, bytes]:
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "promo", "migrate", env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    return process.returncode, output


async def test_concurrent_migrate_processes_do_not_clash():
    template = DATABASE_URL.replace("{service}", "{service}_concurrent")
    urls = [database_url(f"{service}_concurrent") for service in IMPLEMENTED_SERVICES]
    for url in urls:
        await recreate_database(url)
    env = {**{k: v for k, v in os.environ.items() if k != "ENV"}, "DATABASE_URL": template}  # a plain shell
    results = await asyncio.gather(*(migrate_process(env) for _ in range(3)))
    assert all(code == 0 for code, _ in results), [out.decode()[-2000:] for _, out in results]
    for service, url in zip(IMPLEMENTED_SERVICES, urls, strict=True):
        engine = create_engine(url)
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
        await engine.dispose()
        assert f"{service}_alembic_version" in tables and f"{service}_outbox" in tables
        await recreate_database(url)


def model_metadata(service: str):
    import importlib

    return importlib.import_module(f"services.{service}.models").Base.metadata


async def differences(url: str, service: str) -> list:
    """What alembic's autogenerate would still write: the migrations against the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync: compare_metadata(MigrationContext.configure(
                sync, opts={"compare_type": True, "version_table": f"{service}_alembic_version"}),
                model_metadata(service)))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", IMPLEMENTED_SERVICES)
async def test_migrations_match_the_models_on_mariadb(service):
    url = database_url(f"{service}_check")
    await recreate_database(url)
    await asyncio.to_thread(upgrade, service, url)
    try:
        assert await differences(url, service) == []
    finally:
        await recreate_database(url)


@pytest.mark.parametrize("service", IMPLEMENTED_SERVICES)
async def test_migrations_match_the_models_on_sqlite(service, tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/{service}.db"
    await asyncio.to_thread(upgrade, service, url)
    assert await differences(url, service) == []
