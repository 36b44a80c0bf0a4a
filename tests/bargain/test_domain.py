"""The bargain rules, pure: an activity's validation with its reasons, the cut planning (a
property test: any sequence of helps of any valid activity ends exactly at the floor with the
required helpers, no cut is 0 or outside the range), starting and helping."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.bargain import domain
from services.bargain.domain import Plan, RecordStatus, Terms
from shared.enums import CommonStatus

NOW = datetime(2026, 11, 22, 2, 30, tzinfo=UTC)


def terms(**changes) -> Terms:
    values = {"id": 1, "status": CommonStatus.ENABLED, "start_at": NOW - timedelta(hours=1),
              "end_at": NOW + timedelta(days=1), "first_price": 10_000, "floor_price": 1_000, "stock": 5,
              "help_max_count": 3, "bargain_count": 2, "total_limit_count": 1, "random_min_price": 2_000,
              "random_max_price": 4_000}
    return Terms(**{**values, **changes})


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"end_at": NOW - timedelta(hours=2)}, "START_NOT_BEFORE_END", "end_at"),
    ({"floor_price": 10_000}, "FLOOR_NOT_BELOW_START", "floor_price"),
    ({"random_min_price": 0}, "RANDOM_MIN_NOT_POSITIVE", "random_min_price"),
    ({"random_min_price": 5_000}, "RANDOM_MIN_ABOVE_MAX", "random_max_price"),
    ({"random_max_price": 2_999}, "HELPERS_CANNOT_REACH_FLOOR", "help_max_count"),
    ({"random_min_price": 3_001, "random_max_price": 4_000}, "HELPERS_OVERSHOOT_FLOOR", "help_max_count"),
])
def test_an_activity_that_could_never_succeed_is_refused_with_its_reason(changes, code, field):
    with pytest.raises(domain.ActivityInvalid) as refused:
        domain.check_activity(terms(**changes), 5)
    assert refused.value.details["reason"].code == code and refused.value.details["field"] == field
    assert refused.value.message("zh-CN").startswith("砍价活动无效：")


def test_a_reachable_activity_passes_even_at_the_edges():
    domain.check_activity(terms(), 5)
    domain.check_activity(terms(random_min_price=3_000, random_max_price=3_000), 5)  # 3 x 3000 = 9000 exactly
    with pytest.raises(domain.ActivityInvalid):
        domain.check_activity(terms(stock=6), 5)


@st.composite
def plans(draw) -> Plan:
    helpers = draw(st.integers(1, 30))
    rmin = draw(st.integers(1, 5_000))
    rmax = draw(st.integers(rmin, rmin + 5_000))
    to_cut = draw(st.integers(helpers * rmin, helpers * rmax))
    floor = draw(st.integers(0, 100_000))
    return Plan(first_price=floor + to_cut, floor_price=floor, helps_needed=helpers, random_min=rmin,
                random_max=rmax)


@settings(max_examples=400, deadline=None)
@given(plan=plans(), seed=st.integers(0, 2**32), edges=st.sampled_from(["random", "low", "high"]))
def test_any_sequence_of_helps_ends_exactly_at_the_floor_with_the_required_helpers(plan, seed, edges):
    domain.check_activity(terms(first_price=plan.first_price, floor_price=plan.floor_price,
                                help_max_count=plan.helps_needed, random_min_price=plan.random_min,
                                random_max_price=plan.random_max), 5)
    rng = random.Random(seed)
    pick = {"random": rng.randint, "low": lambda low, high: low, "high": lambda low, high: high}[edges]
    price, cuts = plan.first_price, []
    while not domain.succeeds(plan, price, len(cuts)):
        cut = domain.plan_cut(plan, price, len(cuts), pick)
        assert cut > 0
        assert plan.random_min <= cut <= plan.random_max  # valid plans never need the remainder outside
        price -= cut
        cuts.append(cut)
        assert price >= plan.floor_price
    assert price == plan.floor_price and len(cuts) == plan.helps_needed
    assert plan.first_price - sum(cuts) == price


def test_a_picker_outside_the_bounds_is_clamped_and_the_last_helper_takes_the_rest():
    plan = Plan(first_price=10_000, floor_price=1_000, helps_needed=3, random_min=2_000, random_max=4_000)
    assert domain.cut_bounds(plan, 10_000, 0) == (2_000, 4_000)
    assert domain.cut_bounds(plan, 9_000, 1) == (4_000, 4_000)  # 8000 left for 2 helpers cutting at most 4000
    assert domain.cut_bounds(plan, 7_000, 1) == (2_000, 4_000)  # 6000 left: the next leaves 2000..4000
    assert domain.cut_bounds(plan, 6_000, 1) == (2_000, 3_000)  # 5000 left: never stuck above the floor
    assert domain.plan_cut(plan, 10_000, 0, lambda low, high: 10**9) == 4_000
    assert domain.plan_cut(plan, 4_500, 2, lambda low, high: 1) == 3_500  # the last helper: what is left


def test_starting_a_record_checks_the_window_the_stock_and_the_buyers_limits():
    domain.check_can_start(terms(), NOW, in_progress=False, succeeded=0)
    for t, error in ((terms(status=CommonStatus.DISABLED), domain.ActivityClosed),
                     (terms(start_at=NOW + timedelta(minutes=1)), domain.NotStarted),
                     (terms(end_at=NOW), domain.Ended), (terms(stock=0), domain.SoldOut)):
        with pytest.raises(error):
            domain.check_can_start(t, NOW, in_progress=False, succeeded=0)
    with pytest.raises(domain.RecordInProgress):
        domain.check_can_start(terms(), NOW, in_progress=True, succeeded=0)
    with pytest.raises(domain.SuccessLimitReached):
        domain.check_can_start(terms(total_limit_count=2), NOW, in_progress=False, succeeded=2)


def test_a_record_lives_until_its_lifetime_or_the_activitys_end():
    assert domain.record_expires_at(NOW, NOW + timedelta(days=3), 86_400) == NOW + timedelta(days=1)
    assert domain.record_expires_at(NOW, NOW + timedelta(hours=2), 86_400) == NOW + timedelta(hours=2)


def test_helping_refuses_the_owner_a_second_help_the_helpers_limit_an_ended_record_and_a_closed_activity():
    ok = {"status": RecordStatus.IN_PROGRESS, "owner_id": 1, "helper_id": 2, "helped": False, "helps_given": 0,
          "bargain_count": 2, "expires_at": NOW + timedelta(hours=1), "now": NOW, "activity_open": True}
    domain.check_can_help(**ok)
    for changes, error in (({"activity_open": False}, domain.ActivityClosed),
                           ({"helper_id": 1}, domain.OwnRecord), ({"helped": True}, domain.AlreadyHelped),
                           ({"helps_given": 2}, domain.HelpLimitReached),
                           ({"status": RecordStatus.SUCCESS}, domain.RecordNotInProgress),
                           ({"status": RecordStatus.FAILED}, domain.RecordNotInProgress),
                           ({"expires_at": NOW}, domain.RecordNotInProgress)):
        with pytest.raises(error):
            domain.check_can_help(**{**ok, **changes})


def test_every_refusal_reads_in_both_languages():
    for name in domain.__all__:
        error = getattr(domain, name)
        if isinstance(error, type) and issubclass(error, Exception):
            assert set(error.messages) >= {"en", "zh-CN"}, name
