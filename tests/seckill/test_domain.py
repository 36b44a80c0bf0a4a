"""Seckill rules without I/O: slots in business-local time, conflicts, limits, lifecycle."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from services.seckill import domain as d
from shared.enums import CommonStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")
NO_LIMITS = {"user_limit": 0, "order_limit": 0}


def slot(id_, start, end, status=CommonStatus.ENABLED) -> d.Slot:
    return d.Slot(id_, f"s{id_}", time.fromisoformat(start), time.fromisoformat(end), status)


def terms(**changes) -> d.Terms:
    base = {"id": 1, "name": "秒杀", "spu_id": 101, "status": CommonStatus.ENABLED, "slot_ids": frozenset({1}),
            "start_date": date(2026, 11, 20), "end_date": date(2026, 11, 22), "user_limit": 2, "order_limit": 1}
    return d.Terms(**{**base, **changes})


def test_slots_are_half_open_so_back_to_back_slots_do_not_overlap():
    morning, noon = slot(1, "10:00:00", "12:00:00"), slot(2, "12:00:00", "14:00:00")
    assert not d.overlaps(morning, noon) and not d.overlaps(noon, morning)
    assert d.overlaps(morning, slot(3, "11:59:59", "13:00:00"))
    assert d.first_overlap(slot(4, "09:00:00", "10:00:01"), [morning, noon]) == morning
    assert d.first_overlap(morning, [morning]) is None, "a slot does not conflict with itself on update"
    assert d.current_slot([morning, noon], time(12, 0)) == noon
    assert morning.state(time(12, 0)) is d.SlotState.ENDED and noon.state(time(11, 59, 59)) is d.SlotState.UPCOMING
    assert noon.state(time(12, 0)) is d.SlotState.ON, "on from its first second"


def test_times_count_in_seconds_of_the_day():
    assert d.seconds_of(time(1, 2, 3)) == 3_723
    assert slot(1, "10:30:00", "10:45:00").contains(time(10, 44, 59))
    assert not slot(1, "10:30:00", "10:45:00").contains(time(10, 29, 59))


def test_a_slot_may_end_at_midnight_but_not_cross_it():
    late = slot(1, "22:00:00", "00:00:00")
    assert late.contains(time(23, 59, 59)) and not late.contains(time(0, 0))
    assert late.state(time(23, 59, 59)) is d.SlotState.ON
    assert d.overlaps(late, slot(2, "23:00:00", "23:30:00"))
    d.check_slot(time(22), time(0))
    with pytest.raises(d.SlotInvalid):
        d.check_slot(time(22), time(2))  # crosses midnight: make two slots
    with pytest.raises(d.SlotInvalid):
        d.check_slot(time(10), time(10))


def test_the_current_slot_is_in_the_business_timezone():
    slots = [slot(1, "10:00:00", "12:00:00"), slot(2, "22:00:00", "00:00:00")]
    # 15:30 UTC is 23:30 in Shanghai: the late slot, on the Shanghai date
    local = datetime(2026, 11, 22, 15, 30, tzinfo=UTC).astimezone(SHANGHAI)
    assert d.current_slot(slots, local.time()).id == 2 and local.date() == date(2026, 11, 22)
    # 16:00 UTC is midnight in Shanghai: the late slot is over, and it is the next day there
    local = datetime(2026, 11, 22, 16, 0, tzinfo=UTC).astimezone(SHANGHAI)
    assert d.current_slot(slots, local.time()) is None and local.date() == date(2026, 11, 23)
    assert d.current_slot([slot(1, "10:00:00", "12:00:00", CommonStatus.DISABLED)], time(11)) is None


def test_purchase_needs_an_enabled_activity_today_in_one_of_its_slots():
    slots = [slot(1, "10:00:00", "12:00:00"), slot(2, "14:00:00", "16:00:00")]
    on = datetime(2026, 11, 22, 10, 30, tzinfo=SHANGHAI)
    assert d.check_on_now(terms(), slots, on).id == 1
    with pytest.raises(d.NotOnNow):
        d.check_on_now(terms(), slots, on.replace(hour=14, minute=30))  # a slot, but not the activity's
    with pytest.raises(d.NotOnNow):
        d.check_on_now(terms(), slots, on.replace(day=23))  # after its last date
    with pytest.raises(d.NotOnNow):
        d.check_on_now(terms(), slots, on.replace(hour=12))  # the slot just ended
    with pytest.raises(d.ActivityClosed):
        d.check_on_now(terms(status=CommonStatus.DISABLED), slots, on)
    assert d.check_on_now(terms(start_date=date(2026, 11, 22), end_date=date(2026, 11, 22)), slots, on)


def test_limits_conflicts_and_lifecycle():
    d.check_order_limit(terms(order_limit=0), 50)
    d.check_order_limit(terms(order_limit=2), 2)  # up to the limit
    with pytest.raises(d.OrderLimitExceeded) as over:
        d.check_order_limit(terms(order_limit=2), 3)
    assert over.value.details == {"limit": 2} and over.value.message("en") == "At most 2 per order"
    assert d.dates_overlap(date(2026, 1, 1), date(2026, 1, 3), date(2026, 1, 3), date(2026, 1, 9))
    assert d.dates_overlap(date(2026, 1, 3), date(2026, 1, 9), date(2026, 1, 1), date(2026, 1, 3)), "either way"
    assert not d.dates_overlap(date(2026, 1, 1), date(2026, 1, 3), date(2026, 1, 4), date(2026, 1, 9))
    with pytest.raises(d.ActivityInvalid):
        d.check_activity(date(2026, 1, 2), date(2026, 1, 1), [1], [1], **NO_LIMITS)
    with pytest.raises(d.ActivityInvalid):
        d.check_activity(date(2026, 1, 1), date(2026, 1, 1), [1], [7, 7], **NO_LIMITS)
    d.check_can_update(CommonStatus.ENABLED)
    with pytest.raises(d.ActivityClosed):
        d.check_can_update(CommonStatus.DISABLED)
    with pytest.raises(d.AlreadyClosed):
        d.check_can_close(CommonStatus.DISABLED)
    with pytest.raises(d.DeleteRefused):
        d.check_can_delete(CommonStatus.ENABLED, date(2026, 1, 5), date(2026, 1, 5))
    d.check_can_delete(CommonStatus.ENABLED, date(2026, 1, 4), date(2026, 1, 5))  # ended
    d.check_can_delete(CommonStatus.DISABLED, date(2026, 1, 9), date(2026, 1, 5))  # closed


def test_activity_mistakes_name_their_field_with_a_reason_in_both_languages():
    with pytest.raises(d.ActivityInvalid) as dates:
        d.check_activity(date(2026, 1, 2), date(2026, 1, 1), [1], [1], **NO_LIMITS)
    assert dates.value.details["field"] == "end_date"
    assert dates.value.message("zh-CN") == "秒杀活动无效：开始日期晚于结束日期"
    assert dates.value.message("en") == "Invalid seckill activity: start_date is after end_date"
    with pytest.raises(d.ActivityInvalid) as twice:
        d.check_activity(date(2026, 1, 1), date(2026, 1, 1), [1], [7, 8, 7], **NO_LIMITS)
    assert twice.value.body("zh-CN")["error"]["details"] == {"reason": "SKU 7 重复出现", "reason_code": "SKU_TWICE",
                                                             "field": "products"}
    with pytest.raises(d.ActivityInvalid) as limits:
        d.check_activity(date(2026, 1, 1), date(2026, 1, 1), [1], [7], user_limit=2, order_limit=3)
    assert limits.value.details["field"] == "order_limit"
    assert limits.value.message("zh-CN") == "秒杀活动无效：单次限购（3 件）不能超过每人限购（2 件）"
    d.check_activity(date(2026, 1, 1), date(2026, 1, 1), [1], [7], user_limit=0, order_limit=3)  # 0 = no limit
    d.check_activity(date(2026, 1, 1), date(2026, 1, 1), [1], [7], user_limit=3, order_limit=0)
    d.check_activity(date(2026, 1, 1), date(2026, 1, 1), [1], [7], user_limit=3, order_limit=3)
    with pytest.raises(d.ActivityInvalid) as no_slot:
        d.check_activity(date(2026, 1, 1), date(2026, 1, 1), [], [7], **NO_LIMITS)
    assert no_slot.value.body("en")["error"] == {
        "code": "SECKILL_ACTIVITY_INVALID", "message": "Invalid seckill activity: at least one time slot is needed",
        "details": {"reason": "at least one time slot is needed", "reason_code": "NO_SLOT", "field": "slot_ids"}}


def test_busy_answers_ask_to_retry_in_a_second():
    assert d.ReservationInProgress().headers() == {"Retry-After": "1"}
    assert d.Unavailable().headers() == {"Retry-After": "1"}


def test_reservation_status_lists_its_meanings():
    assert d.ReservationStatus.EXPIRED == 40 and "not paid in time" in d.ReservationStatus.EXPIRED.meaning
    assert all(status.meaning for status in d.ReservationStatus)
