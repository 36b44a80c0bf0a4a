"""The in-memory promotions of catalog.py: what another replica sees, and time windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from services.pricing import calculator as calc
from services.pricing import repository as repo
from services.pricing.catalog import Catalog
from tests.pricing.test_admin import discount, reward

LINES = (calc.Line(1001, 101, 5, 10000, 1), calc.Line(2001, 201, 6, 5000, 2))


async def offers_of(app, catalog: Catalog, now: datetime) -> tuple[list[int], list[int]]:
    async with app.state.sessionmaker() as session:
        offers = await catalog.offers(session, LINES, now)
    return sorted(o.activity_id for o in offers.discounts.values()), [r.id for r in offers.rewards]


async def current(app, catalog: Catalog):
    async with app.state.sessionmaker() as session:
        return await catalog.current(session, datetime.now(UTC))


async def test_another_replica_sees_every_kind_of_write_on_its_next_quote(pricing_app, client, tokens):
    admin, other = tokens["admin"], Catalog()  # `other` stands for a second pricing process
    now = datetime.now(UTC)
    assert await offers_of(pricing_app, other, now) == ([], [])
    d = (await client.post("/admin-api/pricing/discounts", json=discount(), headers=admin)).json()["id"]
    r = (await client.post("/admin-api/pricing/rewards", json=reward(scope=3, values=[6]), headers=admin)).json()["id"]
    assert await offers_of(pricing_app, other, now) == ([d], [r])
    changed = reward(scope=3, values=[7])  # no longer this cart's categories
    assert (await client.put(f"/admin-api/pricing/rewards/{r}", json=changed, headers=admin)).status_code == 200
    assert await offers_of(pricing_app, other, now) == ([d], [])
    assert (await client.post(f"/admin-api/pricing/discounts/{d}/close", headers=admin)).status_code == 204
    assert await offers_of(pricing_app, other, now) == ([], [])


async def test_windows_are_checked_on_every_quote_without_a_reload(pricing_app, client, tokens):
    admin, catalog = tokens["admin"], Catalog()
    later = discount(start_in=timedelta(hours=1), days=1)  # from in an hour until tomorrow
    d = (await client.post("/admin-api/pricing/discounts", json=later, headers=admin)).json()["id"]
    r = (await client.post("/admin-api/pricing/rewards", json=reward(days=2), headers=admin)).json()["id"]
    now = datetime.now(UTC)
    assert await offers_of(pricing_app, catalog, now) == ([], [r])
    loaded = await current(pricing_app, catalog)
    assert await offers_of(pricing_app, catalog, now + timedelta(hours=2)) == ([d], [r])
    assert await offers_of(pricing_app, catalog, now + timedelta(days=1, minutes=1)) == ([], [r])
    assert await offers_of(pricing_app, catalog, now + timedelta(days=3)) == ([], [])
    assert all(a is b for a, b in zip(await current(pricing_app, catalog), loaded, strict=True)), "no reload"


async def test_a_quote_reads_both_versions_in_one_core_select_and_a_write_bumps_its_kind(pricing_app, client, tokens):
    catalog, now = Catalog(), datetime.now(UTC)
    async with pricing_app.state.sessionmaker() as session:
        before = await repo.catalog_versions(session)
    assert set(before) == {"discount", "reward"} and all(type(v) is int for v in before.values())
    await offers_of(pricing_app, catalog, now)  # loads both kinds
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:
        if "pricing_outbox" not in statement:  # the app's outbox relay polls on the same engine
            statements.append(" ".join(statement.split()))

    engine = pricing_app.state.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(3):
            await offers_of(pricing_app, catalog, now)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements == ["SELECT pricing_mutex.name, pricing_mutex.version FROM pricing_mutex"] * 3
    created = await client.post("/admin-api/pricing/discounts", json=discount(), headers=tokens["admin"])
    assert created.status_code == 201
    async with pricing_app.state.sessionmaker() as session:
        assert await repo.catalog_versions(session) == {**before, "discount": before["discount"] + 1}
