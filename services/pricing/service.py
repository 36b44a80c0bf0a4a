"""Use cases of the pricing service's activities: limited-time discounts and spend-and-save
(admin), and what product pages show of them. Quotes are in quote.py, checkout in checkout.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing import calculator as calc
from services.pricing import domain, snapshots
from services.pricing import repository as repo
from services.pricing.calculator import ConditionType, DiscountType, ProductScope
from services.pricing.catalog import DISCOUNT, REWARD, Catalog, reward_rule
from services.pricing.clients import CouponClient
from services.pricing.models import DiscountActivity, DiscountProduct, RewardActivity
from services.pricing.schemas import DiscountActivityIn, RewardActivityIn, SkuDiscountOut
from shared.enums import CommonStatus
from shared.pagination import PageParams

ActivityFilter = repo.ActivityFilter

# --- limited-time discounts -----------------------------------------------------------------------

def _check_discount(data: DiscountActivityIn, now: datetime) -> None:
    items = [domain.DiscountItem(p.spu_id, p.sku_id, p.discount_type, p.amount_off, p.pay_bp) for p in data.products]
    domain.raise_if(domain.check_window(data.start_at, data.end_at, now) + domain.check_discount_items(items))


async def _check_sku_conflicts(session: AsyncSession, data: DiscountActivityIn, exclude_id: int | None) -> None:
    await repo.touch(session, DISCOUNT)
    conflicts = await repo.discount_sku_conflicts(session, [p.sku_id for p in data.products], data.start_at,
                                                  data.end_at, exclude_id)
    if conflicts:
        sku_id, other_name = conflicts[0]
        raise domain.DiscountSkuConflict(sku_id=sku_id, other_name=other_name)


def _products(activity_id: int, data: DiscountActivityIn) -> list[DiscountProduct]:
    return [DiscountProduct(activity_id=activity_id, spu_id=p.spu_id, sku_id=p.sku_id,
                            discount_type=int(p.discount_type), amount_off=p.amount_off, pay_bp=p.pay_bp)
            for p in data.products]


async def create_discount(session: AsyncSession, data: DiscountActivityIn, now: datetime) -> dict:
    _check_discount(data, now)
    await _check_sku_conflicts(session, data, None)
    activity = DiscountActivity(name=data.name, status=CommonStatus.ENABLED, start_at=data.start_at,
                                end_at=data.end_at, remark=data.remark, created_at=now, updated_at=now)
    session.add(activity)
    await session.flush()
    session.add_all(_products(activity.id, data))
    await session.flush()
    return (await discount_views(session, [activity], now))[0]


async def update_discount(session: AsyncSession, activity_id: int, data: DiscountActivityIn, now: datetime) -> dict:
    activity = await _get(session, DiscountActivity, activity_id, for_update=True)
    domain.check_can_update(activity.status)
    _check_discount(data, now)
    await _check_sku_conflicts(session, data, activity_id)
    activity.name, activity.start_at, activity.end_at = data.name, data.start_at, data.end_at
    activity.remark, activity.updated_at = data.remark, now
    await repo.replace_discount_products(session, activity_id, _products(activity_id, data))
    await session.flush()
    return (await discount_views(session, [activity], now))[0]


async def page_discounts(session: AsyncSession, paging: PageParams, f: ActivityFilter, now: datetime) -> dict:
    rows, total = await repo.page_activities(session, DiscountActivity, paging, f)
    return {"items": await discount_views(session, rows, now), "total": total, "page": paging.page,
            "size": paging.size}


async def discount_views(session: AsyncSession, activities: Sequence[DiscountActivity], now: datetime) -> list[dict]:
    products = await repo.discount_products(session, [a.id for a in activities])
    return [{**_activity_view(a, now), "products": products[a.id]} for a in activities]


async def get_reward(session: AsyncSession, activity_id: int) -> RewardActivity:
    return await _get(session, RewardActivity, activity_id)


async def get_discount(session: AsyncSession, activity_id: int, now: datetime) -> dict:
    return (await discount_views(session, [await _get(session, DiscountActivity, activity_id)], now))[0]


async def sku_discounts(session: AsyncSession, catalog: Catalog, skus: list[tuple[int, int | None]],
                        now: datetime) -> list[SkuDiscountOut]:
    """Product pages: each SKU's running discount and, when its price was sent, the discounted price."""
    discounts, _ = await catalog.current(session, now)
    out = []
    for sku_id, price in skus:
        running = discounts.running(sku_id, now)
        if running is None:
            out.append(SkuDiscountOut(sku_id=sku_id, price=price, discount_price=price))
            continue
        offer = running.offer
        out.append(SkuDiscountOut(
            sku_id=sku_id, activity_id=offer.activity_id, activity_name=offer.name, discount_type=offer.discount_type,
            amount_off=offer.amount_off if offer.discount_type is DiscountType.AMOUNT else None,
            pay_bp=offer.pay_bp if offer.discount_type is DiscountType.PERCENT else None, end_at=running.end,
            price=price, discount_price=None if price is None else price - offer.unit_off(price)))
    return out


# --- spend-and-save -------------------------------------------------------------------------------

def _levels(data: RewardActivityIn) -> list[calc.RewardLevel]:
    return [calc.RewardLevel(lv.threshold, lv.amount_off, lv.free_delivery, lv.points,
                             tuple(sorted(lv.coupons.items()))) for lv in data.levels]


async def _check_reward(coupons: CouponClient | None, data: RewardActivityIn, now: datetime) -> None:
    """The activity's own rules, then (asked of the coupon service) the templates its levels give
    (`coupons` None: for demo data that gives no coupon)."""
    levels = _levels(data)
    domain.raise_if(domain.check_window(data.start_at, data.end_at, now) + domain.check_reward(
        data.condition_type, data.product_scope, data.product_scope_values, levels))
    template_ids = sorted({template_id for level in levels for template_id, _ in level.coupons})
    if template_ids:
        if coupons is None:
            raise RuntimeError("a level gives coupons: the coupon service must check them")
        domain.raise_if(domain.check_reward_coupons(levels, await coupons.gift_templates(template_ids, now)))


async def _check_scope_conflicts(session: AsyncSession, data: RewardActivityIn, exclude_id: int | None) -> None:
    await repo.touch(session, REWARD)
    others = await repo.enabled_rewards_overlapping(session, data.start_at, data.end_at, exclude_id)
    conflict = domain.first_scope_conflict(
        domain.Scope(data.product_scope, frozenset(data.product_scope_values)),
        ((o.name, domain.Scope(ProductScope(o.product_scope), frozenset(o.product_scope_values))) for o in others))
    if conflict:
        raise domain.RewardScopeConflict(other_name=conflict[0], why=conflict[1])


def _apply_reward(activity: RewardActivity, data: RewardActivityIn, now: datetime) -> None:
    activity.name, activity.start_at, activity.end_at, activity.remark = (
        data.name, data.start_at, data.end_at, data.remark)
    activity.condition_type, activity.product_scope = int(data.condition_type), int(data.product_scope)
    activity.product_scope_values = sorted(data.product_scope_values)
    activity.levels = [snapshots.level_to_json(level) for level in _levels(data)]
    activity.updated_at = now


async def create_reward(session: AsyncSession, coupons: CouponClient | None, data: RewardActivityIn, now: datetime,
                        locale: str) -> dict:
    await _check_reward(coupons, data, now)
    await _check_scope_conflicts(session, data, None)
    activity = RewardActivity(status=CommonStatus.ENABLED, created_at=now)
    _apply_reward(activity, data, now)
    session.add(activity)
    await session.flush()
    return reward_view(activity, now, locale)


async def update_reward(session: AsyncSession, coupons: CouponClient, activity_id: int, data: RewardActivityIn,
                        now: datetime, locale: str) -> dict:
    activity = await _get(session, RewardActivity, activity_id, for_update=True)
    domain.check_can_update(activity.status)
    await _check_reward(coupons, data, now)
    await _check_scope_conflicts(session, data, activity_id)
    _apply_reward(activity, data, now)
    await session.flush()
    return reward_view(activity, now, locale)


async def page_rewards(session: AsyncSession, paging: PageParams, f: ActivityFilter, now: datetime,
                       locale: str) -> dict:
    rows, total = await repo.page_activities(session, RewardActivity, paging, f)
    return {"items": [reward_view(row, now, locale) for row in rows], "total": total, "page": paging.page,
            "size": paging.size}


def levels_view(condition: ConditionType, levels: Sequence[calc.RewardLevel], locale: str) -> list[dict]:
    return [{"threshold": lv.threshold, "amount_off": lv.amount_off, "free_delivery": lv.free_delivery,
             "points": lv.points, "coupons": dict(lv.coupons),
             "description": calc.describe_level(condition, lv, locale)}
            for lv in levels]


def reward_view(activity: RewardActivity, now: datetime, locale: str) -> dict:
    rule = reward_rule(activity)
    return {**_activity_view(activity, now), "condition_type": rule.condition, "product_scope": rule.scope,
            "product_scope_values": list(activity.product_scope_values),
            "levels": levels_view(rule.condition, rule.levels, locale)}


async def running_rewards_for(session: AsyncSession, catalog: Catalog, spu_id: int, category_id: int | None,
                              now: datetime, locale: str) -> list[dict]:
    """Product pages: the spend-and-save activity that applies to this SPU, levels as display text."""
    _, rewards = await catalog.current(session, now)
    running = rewards.running([spu_id], [category_id] if category_id else [], now)
    return [{"id": r.offer.id, "name": r.offer.name, "condition_type": r.offer.condition, "end_at": r.end,
             "levels": levels_view(r.offer.condition, r.offer.levels, locale)}
            for r in sorted(running, key=lambda r: (calc.SCOPE_PRECEDENCE[r.offer.scope], r.offer.id))]


# --- both kinds -----------------------------------------------------------------------------------

def _activity_view(activity: DiscountActivity | RewardActivity, now: datetime) -> dict:
    return {"id": activity.id, "name": activity.name, "status": activity.status,
            "state": domain.activity_state(activity.status, activity.start_at, activity.end_at, now),
            "start_at": activity.start_at, "end_at": activity.end_at, "remark": activity.remark,
            "created_at": activity.created_at, "updated_at": activity.updated_at}


async def _get(session: AsyncSession, model: type[repo.Activity], activity_id: int, *,
               for_update: bool = False) -> repo.Activity:
    activity = await repo.get_activity(session, model, activity_id, for_update=for_update)
    if activity is None:
        error = domain.DiscountActivityNotFound if model is DiscountActivity else domain.RewardActivityNotFound
        raise error(id=activity_id)
    return activity


async def close_activity(session: AsyncSession, model: type[repo.Activity], activity_id: int, now: datetime) -> None:
    activity = await _get(session, model, activity_id, for_update=True)
    domain.check_can_close(activity.status)
    activity.status, activity.updated_at = CommonStatus.DISABLED, now
    await repo.touch(session, _kind(model))


async def delete_activity(session: AsyncSession, model: type[repo.Activity], activity_id: int) -> None:
    activity = await _get(session, model, activity_id, for_update=True)
    domain.check_can_delete(activity.status)
    await repo.delete_activity(session, activity)
    await repo.touch(session, _kind(model))


def _kind(model: type[repo.Activity]) -> str:
    return DISCOUNT if model is DiscountActivity else REWARD
