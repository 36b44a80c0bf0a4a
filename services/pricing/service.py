"""Use cases of the pricing service's activities: limited-time discounts and spend-and-save
(the platform's through the admin API, a merchant's own through the merchant API), their figures,
and what product pages show of them. Quotes are in quote.py, checkout in flows.py.

Every use case takes the caller's `OwnerScope`: a merchant's sees, changes and creates its own
activities only (another owner's id is 404, as if it did not exist); the admin's sees all and
creates the platform's. Conflict rules stay global, whoever owns the other activity; a conflict
names the other activity only when the caller may see it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.pricing import calculator as calc
from services.pricing import domain, snapshots
from services.pricing import repository as repo
from services.pricing.calculator import ConditionType, DiscountType, Kind, ProductScope
from services.pricing.catalog import DISCOUNT, REWARD, Catalog, reward_rule
from services.pricing.clients import CouponClient
from services.pricing.domain import CheckoutStatus
from services.pricing.models import DiscountActivity, DiscountProduct, RewardActivity
from services.pricing.schemas import DiscountActivityIn, RewardActivityIn, SkuDiscountOut
from shared.enums import CommonStatus
from shared.errors import Reason
from shared.ownership import EVERYTHING, OwnerScope
from shared.pagination import PageParams

ActivityFilter = repo.ActivityFilter

# How a conflict names an activity the caller may not see (another merchant's or the platform's).
OTHER_OWNERS_ACTIVITY = Reason("OTHER_OWNERS_ACTIVITY", en="another shop's or the platform's",
                               zh="其他店铺或平台的")
# A spend-and-save level gives only its owner's coupon templates.
LEVEL_COUPON_NOT_OWN = Reason("LEVEL_COUPON_NOT_OWN", en="level {level}: coupon template {template_id} is not one "
                              "of this shop's own coupon templates",
                              zh="第 {level} 档：优惠券模板 {template_id} 不是本店铺的优惠券")
LEVEL_COUPON_OF_A_SHOP = Reason("LEVEL_COUPON_OF_A_SHOP", en="level {level}: coupon template {template_id} is a "
                                "shop's; the platform's spend-and-save gives only the platform's coupon templates",
                                zh="第 {level} 档：优惠券模板 {template_id} 属于店铺，平台的满减送只能赠送平台的优惠券")


def _other(scope: OwnerScope, other_id: int, name: str, owner: int | None) -> dict:
    """The details a conflict gives of the other activity: its name and id when the caller may see
    it, else only that it is another owner's."""
    if scope.sees(owner):
        return {"other_name": name, "other_id": other_id}
    return {"other_name": OTHER_OWNERS_ACTIVITY}


# --- limited-time discounts -----------------------------------------------------------------------

def _check_discount(data: DiscountActivityIn, now: datetime) -> None:
    items = [domain.DiscountItem(p.spu_id, p.sku_id, p.discount_type, p.amount_off, p.pay_bp) for p in data.products]
    domain.raise_if(domain.check_window(data.start_at, data.end_at, now) + domain.check_discount_items(items))


async def _check_sku_conflicts(session: AsyncSession, data: DiscountActivityIn, exclude_id: int | None,
                               scope: OwnerScope) -> None:
    await repo.touch(session, DISCOUNT)
    conflicts = await repo.discount_sku_conflicts(session, [p.sku_id for p in data.products], data.start_at,
                                                  data.end_at, exclude_id)
    if conflicts:
        sku_id, other_id, other_name, owner = conflicts[0]
        raise domain.DiscountSkuConflict(sku_id=sku_id, **_other(scope, other_id, other_name, owner))


def _products(activity_id: int, data: DiscountActivityIn) -> list[DiscountProduct]:
    return [DiscountProduct(activity_id=activity_id, spu_id=p.spu_id, sku_id=p.sku_id,
                            discount_type=int(p.discount_type), amount_off=p.amount_off, pay_bp=p.pay_bp)
            for p in data.products]


async def create_discount(session: AsyncSession, data: DiscountActivityIn, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> dict:
    """A new activity of the caller's own (the admin's: the platform's)."""
    _check_discount(data, now)
    await _check_sku_conflicts(session, data, None, scope)
    activity = DiscountActivity(business_id=scope.owner, name=data.name, status=CommonStatus.ENABLED,
                                start_at=data.start_at, end_at=data.end_at, remark=data.remark, created_at=now,
                                updated_at=now)
    session.add(activity)
    await session.flush()
    session.add_all(_products(activity.id, data))
    await session.flush()
    return (await discount_views(session, [activity], now))[0]


async def update_discount(session: AsyncSession, activity_id: int, data: DiscountActivityIn, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> dict:
    activity = await _get(session, DiscountActivity, activity_id, scope, for_update=True)
    domain.check_can_update(activity.status)
    _check_discount(data, now)
    await _check_sku_conflicts(session, data, activity_id, scope)
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


async def get_reward(session: AsyncSession, activity_id: int, scope: OwnerScope = EVERYTHING) -> RewardActivity:
    return await _get(session, RewardActivity, activity_id, scope)


async def get_discount(session: AsyncSession, activity_id: int, now: datetime, scope: OwnerScope = EVERYTHING) -> dict:
    return (await discount_views(session, [await _get(session, DiscountActivity, activity_id, scope)], now))[0]


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


def owner_problems(levels: Sequence[calc.RewardLevel], templates: dict[int, domain.GiftTemplate],
                   owner: int | None) -> list[Reason]:
    """A level gives only coupon templates of the activity's owner: a shop's its own, the
    platform's the platform's (templates that do not exist are another rule's problem)."""
    problems = []
    for n, level in enumerate(levels, 1):
        for template_id, _ in level.coupons:
            if template_id in templates and templates[template_id].business_id != owner:
                reason = LEVEL_COUPON_OF_A_SHOP if owner is None else LEVEL_COUPON_NOT_OWN
                problems.append(reason.with_(level=n, template_id=template_id))
    return problems


async def _check_reward(coupons: CouponClient | None, data: RewardActivityIn, now: datetime,
                        owner: int | None) -> None:
    """The activity's own rules, then (asked of the coupon service) the templates its levels give:
    they exist, may be given, and are the activity's owner's (`coupons` None: for demo data that
    gives no coupon)."""
    levels = _levels(data)
    domain.raise_if(domain.check_window(data.start_at, data.end_at, now) + domain.check_reward(
        data.condition_type, data.product_scope, data.product_scope_values, levels))
    template_ids = sorted({template_id for level in levels for template_id, _ in level.coupons})
    if template_ids:
        if coupons is None:
            raise RuntimeError("a level gives coupons: the coupon service must check them")
        templates = await coupons.gift_templates(template_ids, now)
        domain.raise_if(domain.check_reward_coupons(levels, templates) + owner_problems(levels, templates, owner))


async def _check_scope_conflicts(session: AsyncSession, data: RewardActivityIn, exclude_id: int | None,
                                 owner: int | None, scope: OwnerScope) -> None:
    """Spend-and-save scopes conflict within one owner only: a shop's applies to its own lines, then
    the platform's across shops (the order of calculation), so a shop's and the platform's stack,
    and two shops' never touch the same line."""
    await repo.touch(session, REWARD)
    others = {o.id: o for o in await repo.enabled_rewards_overlapping(session, data.start_at, data.end_at,
                                                                        exclude_id, owner)}
    conflict = domain.first_scope_conflict(
        domain.Scope(data.product_scope, frozenset(data.product_scope_values)),
        ((str(o.id), domain.Scope(ProductScope(o.product_scope), frozenset(o.product_scope_values)))
         for o in others.values()))
    if conflict:
        other = others[int(conflict[0])]
        raise domain.RewardScopeConflict(why=conflict[1], **_other(scope, other.id, other.name, other.business_id))


def _apply_reward(activity: RewardActivity, data: RewardActivityIn, now: datetime) -> None:
    activity.name, activity.start_at, activity.end_at, activity.remark = (
        data.name, data.start_at, data.end_at, data.remark)
    activity.condition_type, activity.product_scope = int(data.condition_type), int(data.product_scope)
    activity.product_scope_values = sorted(data.product_scope_values)
    activity.levels = [snapshots.level_to_json(level) for level in _levels(data)]
    activity.updated_at = now


async def create_reward(session: AsyncSession, coupons: CouponClient | None, data: RewardActivityIn, now: datetime,
                        locale: str, scope: OwnerScope = EVERYTHING) -> dict:
    """A new activity of the caller's own (the admin's: the platform's)."""
    await _check_reward(coupons, data, now, scope.owner)
    await _check_scope_conflicts(session, data, None, scope.owner, scope)
    activity = RewardActivity(business_id=scope.owner, status=CommonStatus.ENABLED, created_at=now)
    _apply_reward(activity, data, now)
    session.add(activity)
    await session.flush()
    return reward_view(activity, now, locale)


async def update_reward(session: AsyncSession, coupons: CouponClient, activity_id: int, data: RewardActivityIn,
                        now: datetime, locale: str, scope: OwnerScope = EVERYTHING) -> dict:
    activity = await _get(session, RewardActivity, activity_id, scope, for_update=True)
    domain.check_can_update(activity.status)
    await _check_reward(coupons, data, now, activity.business_id)
    await _check_scope_conflicts(session, data, activity_id, activity.business_id, scope)
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
    return {"id": activity.id, "business_id": activity.business_id, "name": activity.name, "status": activity.status,
            "state": domain.activity_state(activity.status, activity.start_at, activity.end_at, now),
            "start_at": activity.start_at, "end_at": activity.end_at, "remark": activity.remark,
            "created_at": activity.created_at, "updated_at": activity.updated_at}


async def _get(session: AsyncSession, model: type[repo.Activity], activity_id: int, scope: OwnerScope = EVERYTHING,
               *, for_update: bool = False) -> repo.Activity:
    """The activity, if the caller may see it: another owner's is as missing as one that never was."""
    activity = await repo.get_activity(session, model, activity_id, for_update=for_update)
    if activity is None or not scope.sees(activity.business_id):
        error = domain.DiscountActivityNotFound if model is DiscountActivity else domain.RewardActivityNotFound
        raise error(id=activity_id)
    return activity


async def close_activity(session: AsyncSession, model: type[repo.Activity], activity_id: int, now: datetime,
                         scope: OwnerScope = EVERYTHING) -> None:
    activity = await _get(session, model, activity_id, scope, for_update=True)
    domain.check_can_close(activity.status)
    activity.status, activity.updated_at = CommonStatus.DISABLED, now
    await repo.touch(session, _kind(model))


async def delete_activity(session: AsyncSession, model: type[repo.Activity], activity_id: int,
                          scope: OwnerScope = EVERYTHING) -> None:
    activity = await _get(session, model, activity_id, scope, for_update=True)
    domain.check_can_delete(activity.status)
    await repo.delete_activity(session, activity)
    await repo.touch(session, _kind(model))


def _kind(model: type[repo.Activity]) -> str:
    return DISCOUNT if model is DiscountActivity else REWARD


async def activity_stats(session: AsyncSession, model: type[repo.Activity], activity_id: int,
                         scope: OwnerScope = EVERYTHING) -> dict:
    """What the activity did, from the checkouts that applied it: orders awaiting payment, paid and
    cancelled, and the fen it took off (paid orders; and those still awaiting payment)."""
    await _get(session, model, activity_id, scope)
    kind = (Kind.DISCOUNT if model is DiscountActivity else Kind.REWARD).value
    counts = dict.fromkeys(CheckoutStatus, 0)
    amounts = dict.fromkeys(CheckoutStatus, 0)
    for status, result in await repo.checkouts_applying(session, kind, activity_id):
        counts[CheckoutStatus(status)] += 1
        amounts[CheckoutStatus(status)] += sum(
            int(p.get("amount") or 0) for p in result.get("promotions", ())
            if p.get("kind") == kind and p.get("id") == activity_id and p.get("applied"))
    return {"activity_id": activity_id, "orders": sum(counts.values()),
            "awaiting_payment": counts[CheckoutStatus.HELD], "paid": counts[CheckoutStatus.PAID],
            "cancelled": counts[CheckoutStatus.CANCELLED], "discount_given": amounts[CheckoutStatus.PAID],
            "discount_awaiting_payment": amounts[CheckoutStatus.HELD]}
