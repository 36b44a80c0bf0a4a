"""Use cases of the coupon service. They flush, never commit: the caller owns the transaction."""

from __future__ import annotations

import logging
from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from services.coupon import domain, matching, template_rules
from services.coupon import repository as repo
from services.coupon.domain import CouponStatus, TakeType
from services.coupon.errors import (
    CodeAlreadyRedeemed,
    CodeNotFound,
    OutOfStock,
    TemplateInUse,
    TemplateNotFound,
    WrongTakeType,
)
from services.coupon.models import Coupon, CouponCode, CouponTemplate, outbox
from services.coupon.schemas import (
    CartLineIn,
    CenterTemplateOut,
    Given,
    GiveOut,
    Owners,
    Refused,
    TemplateIn,
    TemplateTerms,
)
from shared.enums import CommonStatus
from shared.errors import DomainError
from shared.events import Envelope, new_event
from shared.outbox import add_all_to_outbox
from shared.ownership import EVERYTHING, OwnerScope

log = logging.getLogger("coupon.service")

TERMS_FIELDS = ("use_price", "product_scope", "product_scope_values", "discount_type", "discount_price",
                "discount_percent", "discount_limit_price")


def _terms(source: TemplateIn | CouponTemplate | Coupon) -> domain.Terms:
    """From a template, its input, a coupon or a row with the terms' columns."""
    return domain.Terms(
        use_price=source.use_price, product_scope=domain.ProductScope(source.product_scope),
        scope_values=tuple(source.product_scope_values), discount_type=domain.DiscountType(source.discount_type),
        discount_price=source.discount_price, discount_percent=source.discount_percent,
        discount_limit_price=source.discount_limit_price)


def _quota(source: TemplateIn | CouponTemplate) -> domain.Quota:
    return domain.Quota(total_count=source.total_count, take_limit_count=source.take_limit_count)


def _validity(source: TemplateIn | CouponTemplate) -> domain.Validity:
    return domain.Validity(domain.ValidityType(source.validity_type), source.valid_start, source.valid_end,
                           source.fixed_start_term, source.fixed_end_term)


def _validate(data: TemplateIn, owner: int | None, now: datetime) -> None:
    template_rules.check_take_type_for_owner(owner, data.take_type)
    template_rules.validate_template(_terms(data), _quota(data), _validity(data), now)


# --- templates ------------------------------------------------------------------------------------

async def get_template(session: AsyncSession, template_id: int, *, for_update: bool = False,
                       scope: OwnerScope = EVERYTHING) -> CouponTemplate:
    """The template, if `scope` sees it: another owner's answers the same 404 as a missing id."""
    getter = repo.get_template_for_update if for_update else repo.get_template
    template = await getter(session, template_id)
    if template is None or not scope.sees(template.business_id):
        raise TemplateNotFound(id=template_id)
    return template


async def create_template(session: AsyncSession, data: TemplateIn, now: datetime,
                          owner: int | None = None) -> CouponTemplate:
    """`owner`: the merchant's business_id, or None for the platform's own."""
    _validate(data, owner, now)
    template = CouponTemplate(**data.model_dump(), business_id=owner, take_count=0, use_count=0, created_at=now,
                              updated_at=now)
    session.add(template)
    await session.flush()
    return template


async def update_template(session: AsyncSession, template_id: int, data: TemplateIn, now: datetime,
                          scope: OwnerScope = EVERYTHING) -> CouponTemplate:
    """The owner stays (an operator editing a merchant's template keeps it the merchant's)."""
    template = await get_template(session, template_id, for_update=True, scope=scope)
    _validate(data, template.business_id, now)
    template_rules.check_total_not_below_taken(data.total_count, template.take_count)
    for name, value in data.model_dump().items():
        setattr(template, name, value)
    template.updated_at = now
    await session.flush()
    return template


async def set_template_status(session: AsyncSession, template_id: int, status: CommonStatus, now: datetime,
                              scope: OwnerScope = EVERYTHING) -> CouponTemplate:
    template = await get_template(session, template_id, for_update=True, scope=scope)
    template.status, template.updated_at = status, now
    await session.flush()
    return template


async def delete_template(session: AsyncSession, template_id: int, scope: OwnerScope = EVERYTHING) -> None:
    """Templates may go (coupons keep a copy of their terms); their ids never come back."""
    template = await get_template(session, template_id, for_update=True, scope=scope)
    if await repo.template_has_open_coupons(session, template_id):
        raise TemplateInUse(id=template_id)
    await session.delete(template)
    await session.flush()


# --- issuing --------------------------------------------------------------------------------------

def _refuse_early(template: CouponTemplate, requested: TakeType, count: int, now: datetime) -> None:
    """Without waiting for the row lock: a sold-out, disabled or expired template says no at once
    (after a sell-out, thousands of refusals must not queue behind each other)."""
    _check_can_issue(template, requested, 0, count, now)


def _check_can_issue(template: CouponTemplate, requested: TakeType, held_by_user: int, count: int,
                     now: datetime) -> None:
    template_rules.check_can_issue(
        enabled=template.status == CommonStatus.ENABLED, take_type=TakeType(template.take_type), requested=requested,
        validity=_validity(template), quota=_quota(template), take_count=template.take_count,
        held_by_user=held_by_user, count=count, now=now)


async def issue(session: AsyncSession, template_id: int, user_id: int, requested: TakeType, now: datetime,
                count: int = 1, *, keys: list[str] | None = None,
                source_order_id: int | None = None) -> tuple[list[Coupon], bool]:
    """`count` coupons of a template to one user, all or none. Returns them and whether the user
    may take more. Takes of one template run one at a time (row lock), so the per-user count
    and the stock are exact; the conditional take_count update is the database's last word.
    With `keys` (system issues), coupons whose key exists already are not issued again."""
    _refuse_early(await get_template(session, template_id), requested, count, now)
    template = await get_template(session, template_id, for_update=True)
    if keys is not None:
        done = await repo.existing_issue_keys(session, keys)
        keys = [key for key in keys if key not in done]
        count = len(keys)
        if not count:
            return [], False
    held = await repo.count_issued_to_user(session, template_id, user_id)
    _check_can_issue(template, requested, held, count, now)
    if not await repo.add_take_count_if_stock(session, template_id, count):
        raise OutOfStock()
    start, end = template_rules.validity_window(_validity(template), now)
    coupons = [Coupon(template_id=template.id, user_id=user_id, name=template.name, business_id=template.business_id,
                      take_type=template.take_type, status=CouponStatus.UNUSED, valid_start=start, valid_end=end,
                      created_at=now, updated_at=now,
                      issue_key=keys[i] if keys else None, source_order_id=source_order_id,
                      **{name: getattr(template, name) for name in TERMS_FIELDS}) for i in range(count)]
    session.add_all(coupons)
    await session.flush()
    await add_all_to_outbox(session, outbox, [issued_event(template, user_id, coupon.id, start, end, now)
                                              for coupon in coupons])
    return coupons, template_rules.can_take_again(_quota(template), held + count)


def issued_event(template: CouponTemplate, user_id: int, coupon_id: int, start: datetime, end: datetime,
                 now: datetime) -> Envelope:
    return new_event("promo.coupon.issued", source="promo-coupon", subject=user_id, time=now,
                     data={"coupon_id": coupon_id, "template_id": template.id, "user_id": user_id,
                           "take_type": template.take_type, "valid_start": start.isoformat(),
                           "valid_end": end.isoformat()})


# --- matching -------------------------------------------------------------------------------------

async def match_cart(session: AsyncSession, user_id: int, lines: list[CartLineIn], now: datetime, locale: str,
                     zone: tzinfo, order_id: int | None = None, owners: Owners = "all") -> dict:
    """The user's coupons against the cart (matching.py: the hot path, written with SQLAlchemy Core)."""
    return await matching.match_cart(session, user_id, lines, now, locale, zone, order_id, owners)


# --- system issues (events) -----------------------------------------------------------------------

async def _issue_in_savepoint(session: AsyncSession, template_id: int, user_id: int, take_type: TakeType,
                              now: datetime, **options) -> tuple[list[Coupon], DomainError | None]:
    """One issue that may fail alone: its writes are undone, the caller's others stay."""
    try:
        async with session.begin_nested():
            coupons, _ = await issue(session, template_id, user_id, take_type, now, **options)
    except DomainError as error:
        return [], error
    return coupons, None


async def _issue_or_log(session: AsyncSession, template_id: int, user_id: int, take_type: TakeType, now: datetime,
                        keys: list[str], source_order_id: int | None = None) -> int:
    """A system issue: a template that cannot issue (disabled, exhausted, expired) is logged
    and skipped."""
    coupons, error = await _issue_in_savepoint(session, template_id, user_id, take_type, now, count=len(keys),
                                               keys=keys, source_order_id=source_order_id)
    if error is not None:
        log.warning("could not issue template %s to user %s: %s", template_id, user_id, error.code)
    return len(coupons)


async def issue_new_user_coupons(session: AsyncSession, user_id: int, now: datetime) -> int:
    """user.registered: one coupon of every enabled new-user template, once per user and template."""
    issued = 0
    for template_id in await repo.enabled_template_ids(session, TakeType.REGISTER):
        issued += await _issue_or_log(session, template_id, user_id, TakeType.REGISTER, now,
                                      [f"register:{user_id}:{template_id}"])
    return issued


async def grant_order_rewards(session: AsyncSession, order_id: int, user_id: int, give_coupons: dict[int, int],
                              now: datetime) -> int:
    """order.paid with give_coupons (decided by pricing's spend-and-save rules): once per order."""
    issued = 0
    for template_id, count in sorted(give_coupons.items()):
        keys = [f"order:{order_id}:{template_id}:{n}" for n in range(max(0, min(count, 100)))]
        if keys:
            issued += await _issue_or_log(session, template_id, user_id, TakeType.ADMIN, now, keys, order_id)
    return issued


# --- coupon center --------------------------------------------------------------------------------

async def coupon_center(session: AsyncSession, user_id: int | None, spu_id: int | None, category_id: int | None,
                        now: datetime) -> list[CenterTemplateOut]:
    """Templates a buyer can take now, optionally those that apply to one product, each with
    `can_take` for this caller (anonymous callers: true wherever stock remains)."""
    templates = [t for t in await repo.takeable_templates(session, now)
                 if domain.applies_to_product(_terms(t), spu_id, category_id)]
    held = await repo.counts_issued_to_user(session, user_id, [t.id for t in templates]) if user_id else {}
    return [CenterTemplateOut(**TemplateTerms.model_validate(t).model_dump(),
                              can_take=template_rules.can_take_again(_quota(t), held.get(t.id, 0))) for t in templates]


# --- admin: give ---------------------------------------------------------------------------------


async def give(session: AsyncSession, template_id: int, user_ids: list[int], now: datetime,
               locale: str) -> GiveOut:
    """An operator gives one coupon to each user. Users that cannot get one (limit, stock) are
    reported with the reason; the others keep theirs."""
    template = await get_template(session, template_id)
    if template.take_type != TakeType.ADMIN:
        raise WrongTakeType()
    result = GiveOut(given=[], refused=[])
    for user_id in user_ids:
        coupons, error = await _issue_in_savepoint(session, template_id, user_id, TakeType.ADMIN, now)
        if error is None:
            result.given.append(Given(user_id=user_id, coupon_id=coupons[0].id))
        else:
            result.refused.append(Refused(user_id=user_id, code=error.code, message=error.message(locale)))
    return result


# --- codes ----------------------------------------------------------------------------------------


async def generate_codes(session: AsyncSession, template_id: int, count: int, prefix: str, length: int,
                         now: datetime) -> int:
    """Codes for an admin-give template (codes are a way operators hand coupons out). Each code
    is unique across the service; a clash with an existing code is simply drawn again."""
    template = await get_template(session, template_id)
    if template.take_type != TakeType.ADMIN:
        raise WrongTakeType()
    codes: set[str] = set()
    for _ in range(10):
        fresh = domain.new_codes(count - len(codes), prefix, length) - codes
        codes |= fresh - await repo.existing_codes(session, fresh)
        if len(codes) == count:
            break
    session.add_all(CouponCode(template_id=template_id, code=code, created_at=now) for code in sorted(codes))
    await session.flush()
    return len(codes)


async def redeem_code(session: AsyncSession, text: str, user_id: int, now: datetime) -> Coupon:
    """A buyer types a code: it becomes a coupon, once. The code row is locked while redeeming,
    and the coupon's issue key is the code's, so nothing can turn one code into two coupons."""
    code = await repo.get_code_for_update(session, domain.normalize_code(text))
    if code is None:
        raise CodeNotFound()
    if code.redeemed_at is not None:
        raise CodeAlreadyRedeemed()
    coupons, _ = await issue(session, code.template_id, user_id, TakeType.ADMIN, now, keys=[f"code:{code.id}"])
    code.redeemed_by, code.coupon_id, code.redeemed_at = user_id, coupons[0].id, now
    await session.flush()
    return coupons[0]
