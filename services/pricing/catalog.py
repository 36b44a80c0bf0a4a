"""The promotions a quote may apply, kept in memory while nothing has changed.

Every write to an activity kind bumps that kind's version in `pricing_mutex` in the same
transaction. A quote reads both versions (one statement) and, when they are the ones it has in
memory, prices from memory; otherwise it loads the kind that changed (one statement each) and
keeps it for the quotes after it. So a quote costs one statement however many promotions run,
an edit is seen by the next quote on every replica, and the time window is checked per quote.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.pricing import calculator as calc
from services.pricing import repository as repo
from services.pricing import snapshots
from services.pricing.calculator import ConditionType, DiscountType, ProductScope

DISCOUNT, REWARD = "discount", "reward"  # the version rows of pricing_mutex
ANY_SHOP = object()  # Discounts.running(): whoever sells the SKU


@dataclass(frozen=True, slots=True)
class Running:
    """A promotion with its window (half-open: start <= now < end)."""

    start: datetime
    end: datetime
    offer: calc.SkuDiscount | calc.RewardRule

    def runs_at(self, now: datetime) -> bool:
        return self.start <= now < self.end


@dataclass
class Discounts:
    version: int | None = None
    by_sku: dict[int, list[Running]] = field(default_factory=dict)  # lowest activity id first

    def running(self, sku_id: int, now: datetime, shop: int | object | None = ANY_SHOP) -> Running | None:
        """The SKU's running offer; with `shop`, one that may price a line of that shop (the
        platform's, or the shop's own). Conflict checks allow one; should two ever run, the lower
        activity id wins, so the answer is the same every time."""
        return next((entry for entry in self.by_sku.get(sku_id, ()) if entry.runs_at(now) and (
            shop is ANY_SHOP or entry.offer.business_id is None or entry.offer.business_id == shop)), None)


@dataclass
class Rewards:
    version: int | None = None
    for_all: list[Running] = field(default_factory=list)
    by_spu: dict[int, list[Running]] = field(default_factory=dict)
    by_category: dict[int, list[Running]] = field(default_factory=dict)

    def running(self, spu_ids: Iterable[int], category_ids: Iterable[int], now: datetime) -> list[Running]:
        """The running activities whose scope touches any of these SPUs or categories, by id."""
        found = {entry.offer.id: entry for entry in self.for_all if entry.runs_at(now)}
        for index, keys in ((self.by_spu, spu_ids), (self.by_category, category_ids)):
            for key in keys:
                for entry in index.get(key, ()):
                    if entry.runs_at(now):
                        found[entry.offer.id] = entry
        return [found[id_] for id_ in sorted(found)]


class Catalog:
    """The enabled promotions that have not ended, per kind, tagged with the version they were loaded at."""

    def __init__(self) -> None:
        self._discounts = Discounts()
        self._rewards = Rewards()
        self._loading = asyncio.Lock()

    async def current(self, db: AsyncSession | AsyncEngine, now: datetime) -> tuple[Discounts, Rewards]:
        """`db`: the request's session, or the engine (the quote's fast path): the versions are then
        read on a connection of their own, and a change is loaded in a transaction of its own."""
        if isinstance(db, AsyncEngine):
            versions = await repo.read_catalog_versions(db)
            if self._discounts.version == versions[DISCOUNT] and self._rewards.version == versions[REWARD]:
                return self._discounts, self._rewards
            async with AsyncSession(db) as session:  # a read: its transaction begins with it, ends with it
                return await self.current(session, now)
        session = db
        versions = await repo.catalog_versions(session)
        discounts, rewards = self._discounts, self._rewards
        if discounts.version == versions[DISCOUNT] and rewards.version == versions[REWARD]:
            return discounts, rewards
        async with self._loading:  # one load per change, not one per waiting quote
            discounts, rewards = self._discounts, self._rewards
            if discounts.version != versions[DISCOUNT]:
                discounts = await _load_discounts(session, versions[DISCOUNT], now)
                if self._discounts.version is None or discounts.version > self._discounts.version:
                    self._discounts = discounts
            if rewards.version != versions[REWARD]:
                rewards = await _load_rewards(session, versions[REWARD], now)
                if self._rewards.version is None or rewards.version > self._rewards.version:
                    self._rewards = rewards
            return discounts, rewards  # as this quote's transaction sees them

    async def offers(self, db: AsyncSession | AsyncEngine, lines: Sequence[calc.Line], now: datetime) -> calc.Offers:
        """What may touch the selected lines of this cart."""
        discounts, rewards = await self.current(db, now)
        selected = [line for line in lines if line.selected]
        by_sku = {}
        for line in selected:
            if line.sku_id not in by_sku and (entry := discounts.running(line.sku_id, now, line.business_id)):
                by_sku[line.sku_id] = entry.offer
        rules = rewards.running({line.spu_id for line in selected}, {line.category_id for line in selected}, now)
        return calc.Offers(by_sku, tuple(entry.offer for entry in rules))


async def _load_discounts(session: AsyncSession, version: int, now: datetime) -> Discounts:
    loaded = Discounts(version)
    for row in await repo.unended_discounts(session, now):
        m = row._mapping  # the owner's column is read by name: None (the platform's) when a query lacks it
        offer = calc.SkuDiscount(m["activity_id"], m["name"], m["sku_id"], DiscountType(m["discount_type"]),
                                 m["amount_off"] or 0, m["pay_bp"] or calc.FULL_BP, m.get("business_id"))
        loaded.by_sku.setdefault(m["sku_id"], []).append(Running(m["start_at"], m["end_at"], offer))
    return loaded


async def _load_rewards(session: AsyncSession, version: int, now: datetime) -> Rewards:
    loaded = Rewards(version)
    for row in await repo.unended_rewards(session, now):
        rule = reward_rule(row)
        entry = Running(row.start_at, row.end_at, rule)
        if rule.scope is ProductScope.ALL:
            loaded.for_all.append(entry)
            continue
        index = loaded.by_spu if rule.scope is ProductScope.SPU else loaded.by_category
        for value in rule.scope_values:
            index.setdefault(value, []).append(entry)
    return loaded


def reward_rule(activity) -> calc.RewardRule:
    """From a RewardActivity or a row with the same columns."""
    return calc.RewardRule(activity.id, activity.name, ConditionType(activity.condition_type),
                           ProductScope(activity.product_scope), frozenset(activity.product_scope_values),
                           tuple(snapshots.level_from_json(lv) for lv in activity.levels),
                           getattr(activity, "business_id", None))
