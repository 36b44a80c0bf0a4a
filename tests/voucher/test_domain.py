"""The pure rules of vouchers: coordinates and the radius search's box, a product's terms, reviews,
report dates, an order's units, each voucher's window and code, every check of a verification,
what it takes and settles, reversals, refunds, expiry."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.voucher import domain
from services.voucher.domain import (
    ProductTerms,
    RecordKind,
    RefundVerdict,
    ReviewOutcome,
    ReviewStatus,
    StoreAtCheck,
    Surplus,
    ValidityType,
    VerifyRequest,
    VoucherKind,
    VoucherState,
    VoucherStatus,
    geo,
    rules,
    verification,
)
from shared.errors import DomainError

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 22, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
METRES_PER_DEGREE = geo.EARTH_RADIUS_M * math.pi / 180


def details(error: pytest.ExceptionInfo, locale: str = "en") -> dict:
    return error.value.body(locale)["error"]


# --- geo ------------------------------------------------------------------------------------------

def test_degrees_become_micro_degrees_rounded_to_the_nearest():
    assert geo.to_e6(31.2240345) == 31_224_034 and geo.to_e6(31.2240355) == 31_224_036
    assert geo.to_e6(-121.4456455) == -121_445_646 and geo.from_e6(-121_445_646) == -121.445646


def test_distance_is_the_great_circle():
    assert geo.distance_m(0, 0, 0, 0) == 0
    assert geo.distance_m(0, 0, 1_000_000, 0) == pytest.approx(METRES_PER_DEGREE, rel=1e-12)
    assert geo.distance_m(0, 0, 0, 1_000_000) == pytest.approx(METRES_PER_DEGREE, rel=1e-12), "a degree of equator"
    at_60 = geo.distance_m(60_000_000, 0, 60_000_000, 1_000_000)  # haversine along a parallel, not cos * degree
    assert at_60 == pytest.approx(2 * geo.EARTH_RADIUS_M * math.asin(math.cos(math.radians(60))
                                                                      * math.sin(math.radians(0.5))), rel=1e-12)
    jingan_lujiazui = geo.distance_m(31_224_034, 121_445_645, 31_236_469, 121_503_601)
    assert 5_600 < jingan_lujiazui < 5_700 and jingan_lujiazui == geo.distance_m(31_236_469, 121_503_601,
                                                                                  31_224_034, 121_445_645)
    assert geo.distance_m(0, 0, 0, 180_000_000) == pytest.approx(math.pi * geo.EARTH_RADIUS_M), "antipodes"


def test_the_box_spans_the_radius_exactly_north_and_south():
    box = geo.bounding_box(31_000_000, 121_000_000, 10_000)
    reach = 10_000 / METRES_PER_DEGREE * 1e6
    assert box.lat_min == math.floor(31_000_000 - reach) and box.lat_max == math.ceil(31_000_000 + reach)
    [(west, east)] = box.lon_ranges
    spread = math.degrees(math.asin(math.sin(10_000 / geo.EARTH_RADIUS_M) / math.cos(math.radians(31)))) * 1e6
    assert (west, east) == (math.floor(121_000_000 - spread), math.ceil(121_000_000 + spread))
    assert east - 121_000_000 > reach, "longitude degrees are shorter away from the equator"


def test_a_box_reaching_a_pole_takes_every_longitude():
    north = geo.bounding_box(89_950_000, 10_000_000, 10_000)
    assert north.lat_max == 90_000_000 and north.lon_ranges == ((-180_000_000, 180_000_000),)
    assert north.lat_min == math.floor(89_950_000 - 10_000 / METRES_PER_DEGREE * 1e6)
    south = geo.bounding_box(-89_950_000, 10_000_000, 10_000)
    assert south.lat_min == -90_000_000 and south.lon_ranges == ((-180_000_000, 180_000_000),)
    assert south.lat_max == math.ceil(-89_950_000 + 10_000 / METRES_PER_DEGREE * 1e6)


def test_a_box_across_the_antimeridian_is_two_longitude_ranges():
    east = geo.bounding_box(0, 179_990_000, 5_000)
    spread = 5_000 / METRES_PER_DEGREE * 1e6
    assert east.lon_ranges == ((math.floor(179_990_000 - spread), 180_000_000),
                               (-180_000_000, math.ceil(179_990_000 + spread) - 360_000_000))
    west = geo.bounding_box(0, -179_990_000, 5_000)
    assert west.lon_ranges == ((-180_000_000, math.ceil(-179_990_000 + spread)),
                               (math.floor(-179_990_000 - spread) + 360_000_000, 180_000_000))


def inside(box: geo.Box, lat: int, lon: int) -> bool:
    return box.lat_min <= lat <= box.lat_max and any(w <= lon <= e for w, e in box.lon_ranges)


@settings(max_examples=400, deadline=None)
@given(lat=st.integers(-89_000_000, 89_000_000), lon=st.integers(-180_000_000, 180_000_000),
       radius=st.integers(1, 50_000), bearing=st.floats(0, 2 * math.pi), share=st.floats(0, 1))
def test_every_point_within_the_radius_is_in_the_box(lat, lon, radius, bearing, share):
    """A point `share` of the radius away in any direction (the destination formula) is inside."""
    phi, lam, angle = math.radians(lat / 1e6), math.radians(lon / 1e6), radius * share / geo.EARTH_RADIUS_M
    phi2 = math.asin(math.sin(phi) * math.cos(angle) + math.cos(phi) * math.sin(angle) * math.cos(bearing))
    lam2 = lam + math.atan2(math.sin(bearing) * math.sin(angle) * math.cos(phi),
                            math.cos(angle) - math.sin(phi) * math.sin(phi2))
    point = (round(math.degrees(phi2) * 1e6), round((math.degrees(lam2) + 540) % 360 * 1e6 - 180e6))
    if geo.distance_m(lat, lon, *point) <= radius:
        assert inside(geo.bounding_box(lat, lon, radius), *point)


def test_a_high_latitude_box_is_narrow_unless_it_reaches_the_pole():
    for lat in (65_000_000, -65_000_000):
        box = geo.bounding_box(lat, 10_000_000, 1_000)
        [(west, east)] = box.lon_ranges
        assert 10_000_000 - 25_000 < west < east < 10_000_000 + 25_000, "about 21 millidegrees each way at 65°"


def test_a_box_that_just_reaches_the_antimeridian_is_one_range():
    spread = math.degrees(math.asin(math.sin(5_000 / geo.EARTH_RADIUS_M))) * 1e6
    west_edge = geo.bounding_box(0, -180_000_000 + math.ceil(spread), 5_000)
    assert west_edge.lon_ranges == ((-180_000_000, -180_000_000 + 2 * math.ceil(spread)),)
    east_edge = geo.bounding_box(0, 180_000_000 - math.ceil(spread), 5_000)
    assert east_edge.lon_ranges == ((180_000_000 - 2 * math.ceil(spread), 180_000_000),)


def test_antipodes_at_any_latitude_are_half_the_circumference_away():
    for lat in range(-89_000_000, 90_000_000, 1_000_003):
        assert geo.distance_m(lat, 10_000_000, -lat, -170_000_000) == pytest.approx(math.pi * geo.EARTH_RADIUS_M)
    # rounding makes the haversine's h a hair above 1 for these (1.0000000000000002)
    for points in ((71_255_656, -93_572_916, -71_255_656, 86_427_083), (18_208_403, -59_734_737, -18_208_403,
                                                                        120_265_264)):
        assert geo.distance_m(*points) == pytest.approx(math.pi * geo.EARTH_RADIUS_M)


def test_nearest_drops_what_is_beyond_the_radius_and_sorts_by_distance_then_id():
    origin = (31_000_000, 121_000_000)
    points = [(5, 31_010_000, 121_000_000), (4, 31_001_000, 121_000_000), (3, 31_001_000, 121_000_000),
              (9, 31_100_000, 121_000_000)]
    near = geo.nearest(origin, points, 2_000)
    assert [store_id for store_id, _ in near] == [3, 4, 5], "the same distance: by id"
    assert near[2][1] == pytest.approx(0.01 * METRES_PER_DEGREE)
    assert [store_id for store_id, _ in geo.nearest(origin, points)] == [3, 4, 5, 9], "no radius: all of them"
    assert [s for s, _ in geo.nearest(origin, [(1, 31_002_000, 121_000_000), (2, 31_001_000, 121_000_000)])] == \
        [2, 1], "by distance before id"
    exactly = geo.distance_m(*origin, 31_010_000, 121_000_000)
    assert [s for s, _ in geo.nearest(origin, points, exactly)] == [3, 4, 5], "the radius itself is included"


# --- a product's terms ----------------------------------------------------------------------------

TERMS = ProductTerms(name="100元代金券", kind=VoucherKind.BY_VALUE, value=10000, currency="CNY", max_using_times=3,
                     cost=8500, bright_desc="", image_url="", validity_type=ValidityType.DAYS, valid_start_at=None,
                     valid_end_at=None, valid_days=90, selling_store_id=1, store_ids=(1, 2))
WINDOW = replace(TERMS, validity_type=ValidityType.WINDOW, valid_days=None, valid_start_at=NOW,
                 valid_end_at=NOW + timedelta(days=30))


@pytest.mark.parametrize(("terms", "field", "reason"), [
    (replace(TERMS, valid_days=None), "valid_days", rules.DAYS_REQUIRED),
    (replace(TERMS, valid_start_at=NOW), "validity_type", rules.MIXED_VALIDITY),
    (replace(TERMS, valid_end_at=NOW), "validity_type", rules.MIXED_VALIDITY),
    (replace(WINDOW, valid_days=3), "validity_type", rules.MIXED_VALIDITY),
    (replace(WINDOW, valid_start_at=None), "valid_start_at", rules.WINDOW_REQUIRED),
    (replace(WINDOW, valid_end_at=None), "valid_end_at", rules.WINDOW_REQUIRED),
    (replace(WINDOW, valid_end_at=NOW), "valid_end_at", rules.WINDOW_END_NOT_AFTER_START),
    (replace(WINDOW, valid_start_at=NOW - timedelta(days=9), valid_end_at=NOW), "valid_end_at",
     rules.WINDOW_END_PAST),
    (replace(TERMS, cost=10001), "cost", rules.COST_ABOVE_VALUE),
    (replace(TERMS, kind=VoucherKind.BY_TIMES, value=2, cost=0), "max_using_times", rules.USES_ABOVE_VALUE),
    (replace(TERMS, store_ids=(1, 2, 1)), "store_ids", rules.STORES_TWICE),
    (replace(TERMS, selling_store_id=3), "selling_store_id", rules.SELLING_STORE_NOT_LISTED),
])
def test_a_product_s_terms_are_refused_naming_the_field_and_the_reason(terms, field, reason):
    assert domain.product_problems(terms, NOW) == [(field, reason)]
    with pytest.raises(domain.ProductInvalid) as refused:
        domain.check_product(terms, NOW)
    error = details(refused)
    assert error["code"] == "VOUCHER_PRODUCT_INVALID" and error["details"]["field"] == field
    assert error["details"]["reason_code"] == reason.code


def test_good_terms_pass_at_their_edges():
    for terms in (TERMS, WINDOW, replace(TERMS, cost=10000), replace(TERMS, kind=VoucherKind.BY_TIMES, value=3, cost=3),
                  replace(WINDOW, valid_end_at=NOW + timedelta(microseconds=1), valid_start_at=NOW - timedelta(1))):
        assert domain.product_problems(terms, NOW) == []
        domain.check_product(terms, NOW)
    by_value = replace(TERMS, max_using_times=50, value=10, cost=10)
    assert domain.product_problems(by_value, NOW) == [], "more visits than fen is fine when staff deduct amounts"


def test_only_the_first_problem_is_raised():
    terms = replace(TERMS, valid_days=None, cost=10001, selling_store_id=9)
    assert [field for field, _ in domain.product_problems(terms, NOW)] == ["valid_days", "cost", "selling_store_id"]
    with pytest.raises(domain.ProductInvalid) as refused:
        domain.check_product(terms, NOW)
    assert details(refused, "zh-CN")["message"] == "代金券商品不合法：按天计算的有效期须填写有效天数"


def test_terms_survive_the_review_s_json():
    for terms in (TERMS, WINDOW):
        assert domain.product_terms_from(domain.product_terms_json(terms)) == terms
    store = domain.StoreTerms("店", "路", "1", "9-5", 31_000_000, -121_000_000)
    assert domain.store_terms_from(domain.store_terms_json(store)) == store
    assert domain.product_terms_json(WINDOW)["valid_end_at"] == "2026-12-22T02:00:00+00:00"


# --- reviews --------------------------------------------------------------------------------------

def test_review_statuses_move_as_pre_review_says():
    assert domain.status_after_submission(ReviewStatus.APPROVED) is ReviewStatus.APPROVED
    assert domain.status_after_submission(ReviewStatus.REJECTED) is ReviewStatus.PENDING
    assert domain.status_after_submission(ReviewStatus.PENDING) is ReviewStatus.PENDING
    assert domain.status_after_decision(ReviewStatus.PENDING, True) is ReviewStatus.APPROVED
    assert domain.status_after_decision(ReviewStatus.PENDING, False) is ReviewStatus.REJECTED
    assert domain.status_after_decision(ReviewStatus.APPROVED, False) is ReviewStatus.APPROVED, \
        "a rejected change leaves the approved terms live"
    assert domain.status_after_decision(ReviewStatus.REJECTED, True) is ReviewStatus.APPROVED


def test_a_review_is_decided_once():
    domain.check_undecided(5, ReviewOutcome.PENDING)
    for outcome, en, zh in ((ReviewOutcome.APPROVED, "approved", "已通过"),
                            (ReviewOutcome.REJECTED, "rejected", "已驳回"),
                            (ReviewOutcome.SUPERSEDED, "replaced by a later change", "已被之后提交的修改取代")):
        with pytest.raises(domain.ReviewDecided) as refused:
            domain.check_undecided(5, outcome)
        assert details(refused)["message"] == f"Review 5 was already decided ({en})"
        assert details(refused, "zh-CN")["message"] == f"审核记录 5 已处理（{zh}）"
        assert details(refused)["details"]["outcome_code"] == outcome.name


# --- report dates ---------------------------------------------------------------------------------

def test_report_dates_default_to_the_31_days_up_to_today():
    today = date(2026, 11, 22)
    assert domain.report_range(None, None, today) == (date(2026, 10, 23), today)
    assert domain.report_range(None, date(2026, 1, 31), today) == (date(2026, 1, 1), date(2026, 1, 31))
    assert domain.report_range(date(2026, 11, 1), None, today) == (date(2026, 11, 1), today)
    assert domain.report_range(today, today, today) == (today, today)
    assert domain.report_range(date(2025, 11, 22), today, today) == (date(2025, 11, 22), today), "366 days"
    assert domain.report_range(None, date(1, 1, 5), today) == (date(1, 1, 1), date(1, 1, 5)), "the calendar's start"


def test_report_dates_refused():
    today = date(2026, 11, 22)
    with pytest.raises(domain.ReportRangeInvalid) as refused:
        domain.report_range(today, today - timedelta(days=1), today)
    assert details(refused)["details"]["reason_code"] == "TO_BEFORE_FROM"
    with pytest.raises(domain.ReportRangeInvalid) as refused:
        domain.report_range(date(2025, 11, 21), today, today)
    assert details(refused)["message"] == "Invalid report dates: at most 366 days at once"
    assert details(refused, "zh-CN")["message"] == "报表日期不正确：一次最多 366 天"


# --- issuing --------------------------------------------------------------------------------------

def test_units_are_numbered_per_sku_across_lines_and_share_their_line_s_payment():
    lines = [domain.PaidLine(537, 5, 2, 1001), domain.PaidLine(555, 6, 1, 700), domain.PaidLine(537, 5, 1, 500)]
    assert domain.units(lines) == [domain.Unit(537, 5, 1, 501), domain.Unit(537, 5, 2, 500),
                                   domain.Unit(555, 6, 1, 700), domain.Unit(537, 5, 3, 500)]
    assert domain.units([domain.PaidLine(1, 1, 3, 0)]) == [domain.Unit(1, 1, n, 0) for n in (1, 2, 3)]


def test_a_window_is_the_product_s_own_in_utc():
    start, end = domain.validity_window(replace(WINDOW, valid_start_at=NOW.astimezone(SHANGHAI)), NOW, SHANGHAI)
    assert (start, end) == (NOW, NOW + timedelta(days=30)) and start.tzinfo is UTC and end.tzinfo is UTC


@pytest.mark.parametrize(("paid_local", "days", "end_local"), [
    (datetime(2026, 11, 22, 23, 30), 1, datetime(2026, 11, 23)),  # the day of payment is the first day
    (datetime(2026, 11, 22, 0, 10), 1, datetime(2026, 11, 23)),
    (datetime(2026, 11, 22, 7, 59), 90, datetime(2027, 2, 20)),  # still the 22nd in Shanghai (23:59 UTC the 21st)
    (datetime(2026, 12, 31, 12, 0), 1, datetime(2027, 1, 1)),
])
def test_days_end_at_midnight_in_the_business_timezone(paid_local, days, end_local):
    paid_at = paid_local.replace(tzinfo=SHANGHAI).astimezone(UTC)
    start, end = domain.validity_window(replace(TERMS, valid_days=days), paid_at, SHANGHAI)
    assert start == paid_at and start.tzinfo is UTC
    assert end == end_local.replace(tzinfo=SHANGHAI) and end.tzinfo is UTC


def test_codes_are_random_from_an_alphabet_without_look_alikes():
    codes = {domain.new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(code) == domain.CODE_LENGTH == 12 and set(code) <= set(domain.CODE_ALPHABET) for code in codes)
    assert not set("01IOL") & set(domain.CODE_ALPHABET) and len(domain.CODE_ALPHABET) == 31
    assert set("".join(codes)) == set(domain.CODE_ALPHABET), "every character is drawn"
    assert domain.normalize_code(" abcd-efgh\tjk mn ") == "ABCDEFGHJKMN"
    assert domain.normalize_code("xx-yz") == "XXYZ"


# --- verification ---------------------------------------------------------------------------------

VOUCHER = VoucherState(id=7, business_id=194, status=VoucherStatus.ACTIVE, kind=VoucherKind.BY_VALUE, value=10000,
                       currency="CNY", max_using_times=3, cost=8500, surplus=Surplus(10000, 3), cost_settled=0,
                       valid_start_at=NOW - timedelta(days=1), valid_end_at=NOW + timedelta(days=1))
TIMES = replace(VOUCHER, kind=VoucherKind.BY_TIMES, value=100, cost=90, surplus=Surplus(100, 3))
STORE = StoreAtCheck(id=254, approved=True, enabled=True, accepts=True)
BY_VALUE = VerifyRequest(3000, "CNY")
BY_USE = VerifyRequest(None, None)


def check(voucher=VOUCHER, store=STORE, request=BY_VALUE, now=NOW):
    return domain.check_verification(voucher, 254, store, request, now, SHANGHAI)


@pytest.mark.parametrize(("voucher", "store", "request_", "now", "code"), [
    (None, None, BY_VALUE, NOW, "VOUCHER_CODE_NOT_FOUND"),
    (VOUCHER, None, BY_VALUE, NOW, "VOUCHER_STORE_NOT_FOUND"),
    (VOUCHER, replace(STORE, approved=False), BY_VALUE, NOW, "VOUCHER_STORE_UNAVAILABLE"),
    (VOUCHER, replace(STORE, enabled=False), BY_VALUE, NOW, "VOUCHER_STORE_UNAVAILABLE"),
    (VOUCHER, replace(STORE, accepts=False), BY_VALUE, NOW, "VOUCHER_STORE_NOT_ACCEPTED"),
    (replace(VOUCHER, status=VoucherStatus.EXPIRED), STORE, BY_VALUE, NOW, "VOUCHER_NOT_ACTIVE"),
    (replace(VOUCHER, status=VoucherStatus.REFUNDED), STORE, BY_VALUE, NOW, "VOUCHER_NOT_ACTIVE"),
    (VOUCHER, STORE, BY_VALUE, VOUCHER.valid_start_at - timedelta(microseconds=1), "VOUCHER_OUTSIDE_VALIDITY"),
    (VOUCHER, STORE, BY_VALUE, VOUCHER.valid_end_at, "VOUCHER_OUTSIDE_VALIDITY"),
    (replace(VOUCHER, status=VoucherStatus.USED_UP, surplus=Surplus(0, 1)), STORE, BY_VALUE, NOW,
     "VOUCHER_NOTHING_LEFT"),
    (replace(VOUCHER, surplus=Surplus(0, 2)), STORE, BY_VALUE, NOW, "VOUCHER_NOTHING_LEFT"),
    (replace(VOUCHER, surplus=Surplus(50, 0)), STORE, BY_VALUE, NOW, "VOUCHER_NOTHING_LEFT"),
    (VOUCHER, STORE, BY_USE, NOW, "VOUCHER_VERIFY_MODE_MISMATCH"),
    (VOUCHER, STORE, VerifyRequest(100, "USD"), NOW, "VOUCHER_CURRENCY_MISMATCH"),
    (TIMES, STORE, BY_VALUE, NOW, "VOUCHER_VERIFY_MODE_MISMATCH"),
    (TIMES, STORE, VerifyRequest(None, "USD"), NOW, "VOUCHER_CURRENCY_MISMATCH"),
])
def test_each_check_has_its_own_code(voucher, store, request_, now, code):
    with pytest.raises(DomainError) as refused:
        check(voucher, store, request_, now)
    assert details(refused)["code"] == code


def test_a_request_needs_both_value_and_currency_for_a_stored_value_voucher():
    for request in (VerifyRequest(100, None), VerifyRequest(None, "CNY")):
        with pytest.raises(domain.WrongWay) as refused:
            check(request=request)
        assert details(refused)["details"]["reason_code"] == "VALUE_REQUIRED"


def test_the_last_fen_can_be_taken():
    last = check(replace(VOUCHER, surplus=Surplus(1, 1), cost_settled=8499), request=VerifyRequest(5, "CNY"))
    assert (last.value, last.after, last.cost, last.status_after) == (1, Surplus(0, 0), 1, VoucherStatus.USED_UP)


def test_the_refusals_say_why_in_both_languages():
    with pytest.raises(domain.StoreNotFound) as refused:
        check(store=None)
    assert details(refused)["details"] == {"id": 254}
    with pytest.raises(domain.StoreNotAccepted) as refused:
        check(store=replace(STORE, accepts=False))
    assert details(refused)["message"] == "This voucher cannot be used at store 254"
    with pytest.raises(domain.StoreUnavailable) as refused:
        check(store=replace(STORE, approved=False))
    assert details(refused)["message"] == ("Store 254 cannot verify vouchers: it has not been approved by the "
                                           "platform yet")
    with pytest.raises(domain.StoreUnavailable) as refused:
        check(store=replace(STORE, enabled=False))
    assert details(refused, "zh-CN")["message"] == "门店 254 不能核销：门店已停用"
    with pytest.raises(domain.NotActive) as refused:
        check(replace(VOUCHER, status=VoucherStatus.REFUNDED))
    assert details(refused, "zh-CN")["message"] == "该代金券不可使用：已退款"
    with pytest.raises(domain.NotActive) as refused:
        check(replace(VOUCHER, status=VoucherStatus.EXPIRED))
    assert details(refused)["details"]["reason_code"] == "EXPIRED"
    with pytest.raises(domain.CurrencyMismatch) as refused:
        check(request=VerifyRequest(100, "USD"))
    assert details(refused)["message"] == "This voucher is in CNY, not USD"
    with pytest.raises(domain.WrongWay) as refused:
        check(TIMES, request=BY_VALUE)
    assert details(refused)["details"]["reason_code"] == "NO_VALUE_BY_TIMES"
    with pytest.raises(domain.WrongWay) as refused:
        check(request=BY_USE)
    assert details(refused, "zh-CN")["message"] == "核销方式不正确：储值类代金券须填写核销金额和币种"


def test_outside_its_validity_the_window_is_shown_in_the_business_timezone():
    with pytest.raises(domain.OutsideValidity) as refused:
        check(now=VOUCHER.valid_start_at - timedelta(minutes=1))
    assert details(refused)["message"] == ("This voucher is valid from 2026-11-21 10:00 to 2026-11-23 10:00: "
                                           "it cannot be used yet")
    assert details(refused)["details"]["reason_code"] == "NOT_YET_VALID"
    with pytest.raises(domain.OutsideValidity) as refused:
        check(now=VOUCHER.valid_end_at)
    assert details(refused, "zh-CN")["message"] == "该代金券有效期为 2026-11-21 10:00 至 2026-11-23 10:00：已过有效期"
    check(now=VOUCHER.valid_start_at)  # from its first instant
    check(now=VOUCHER.valid_end_at - timedelta(microseconds=1))  # up to, not including, its end


def test_by_value_takes_what_is_asked_capped_at_what_is_left_and_one_visit():
    taken = check()
    assert (taken.requested, taken.value, taken.times) == (3000, 3000, 1)
    assert (taken.before, taken.after, taken.status_after) == (Surplus(10000, 3), Surplus(7000, 2),
                                                               VoucherStatus.ACTIVE)
    assert taken.cost == 2550
    capped = check(replace(VOUCHER, surplus=Surplus(4000, 2), cost_settled=5100), request=VerifyRequest(9000, "CNY"))
    assert (capped.requested, capped.value, capped.after, capped.status_after) == (9000, 4000, Surplus(0, 1),
                                                                                    VoucherStatus.USED_UP)
    assert capped.cost == 3400, "the last value used settles the rest"
    exact = check(replace(VOUCHER, surplus=Surplus(4000, 2)), request=VerifyRequest(4000, "CNY"))
    assert exact.value == 4000 and exact.status_after is VoucherStatus.USED_UP


def test_by_value_is_used_up_by_its_last_visit_with_value_left():
    last = check(replace(VOUCHER, surplus=Surplus(8000, 1), cost_settled=1700), request=VerifyRequest(1000, "CNY"))
    assert (last.after, last.status_after) == (Surplus(7000, 0), VoucherStatus.USED_UP)
    assert last.cost == 850, "settled in proportion to the value used, not the visits"


def test_by_uses_each_use_takes_an_even_share_of_what_is_left_and_the_last_the_rest():
    first = check(TIMES, request=BY_USE)
    assert (first.requested, first.value, first.times, first.after) == (None, 33, 1, Surplus(67, 2))
    second = check(replace(TIMES, surplus=first.after, cost_settled=first.cost), request=BY_USE)
    assert (second.value, second.after, second.status_after) == (33, Surplus(34, 1), VoucherStatus.ACTIVE)
    third = check(replace(TIMES, surplus=second.after, cost_settled=first.cost + second.cost),
                  request=VerifyRequest(None, "CNY"))
    assert (third.value, third.after, third.status_after) == (34, Surplus(0, 0), VoucherStatus.USED_UP)
    assert [first.cost, second.cost, third.cost] == [29, 30, 31] and first.cost + second.cost + third.cost == 90


def test_settlement_follows_the_value_used_and_adds_up_to_the_cost():
    assert domain.settlement(8500, 10000, 3000, 0) == 2550
    assert domain.settlement(100, 3, 1, 0) == 33 and domain.settlement(100, 3, 2, 33) == 33
    assert domain.settlement(100, 3, 3, 66) == 34
    assert domain.settlement(100, 3, 3, 100) == 0
    assert domain.settlement(100, 3, 1, 34) == 0, "never negative after a reversal left more settled"
    assert domain.settlement(100, 3, 2, 10) == 56
    assert domain.settlement(100, 3, 2, 90) == 0
    assert domain.settlement(0, 500, 500, 0) == 0


@settings(max_examples=300, deadline=None)
@given(value=st.integers(1, 10_000), cost=st.integers(0, 10_000), steps=st.lists(
    st.tuples(st.integers(1, 10_000), st.booleans()), min_size=1, max_size=12))
def test_verifications_and_reversals_settle_the_cost_exactly(value, cost, steps):
    """Any run of verifications (some reversed right after) then the rest used: the settlements of
    the rows left add up to the cost, and none is negative."""
    cost = min(cost, value)
    voucher = replace(VOUCHER, value=value, cost=cost, surplus=Surplus(value, 100), max_using_times=100)
    rows = []
    for asked, reversed_ in [*steps, (value, False)]:
        if voucher.surplus.value == 0:
            break
        taken = domain.take(voucher, VerifyRequest(asked, "CNY"))
        assert taken.cost >= 0
        voucher = replace(voucher, surplus=taken.after, cost_settled=voucher.cost_settled + taken.cost)
        rows.append(taken.cost)
        if reversed_:
            back = domain.check_reversal(domain.RecordState(1, RecordKind.VERIFICATION, taken.value, taken.times,
                                                            taken.cost, NOW), voucher, NOW, 30, SHANGHAI)
            voucher = replace(voucher, surplus=back.after, cost_settled=voucher.cost_settled + back.cost)
            rows.append(back.cost)
        assert 0 <= voucher.cost_settled <= cost
    if voucher.surplus.value == 0:
        assert sum(rows) == cost == voucher.cost_settled


RECORD = domain.RecordState(id=3, kind=RecordKind.VERIFICATION, value=3000, times=1, cost=2550, created_at=NOW)


def test_a_reversal_gives_back_exactly_what_was_taken():
    voucher = replace(VOUCHER, surplus=Surplus(7000, 2), cost_settled=2550)
    back = domain.check_reversal(RECORD, voucher, NOW + timedelta(minutes=29), 30, SHANGHAI)
    assert (back.requested, back.value, back.times, back.cost) == (None, -3000, -1, -2550)
    assert (back.before, back.after, back.status_after) == (Surplus(7000, 2), Surplus(10000, 3),
                                                            VoucherStatus.ACTIVE)
    used_up = domain.check_reversal(RECORD, replace(VOUCHER, status=VoucherStatus.USED_UP, surplus=Surplus(0, 0)),
                                    NOW, 30, SHANGHAI)
    assert used_up.status_after is VoucherStatus.ACTIVE and used_up.after == Surplus(3000, 1)
    expired = domain.check_reversal(RECORD, replace(VOUCHER, status=VoucherStatus.EXPIRED), NOW, 30, SHANGHAI)
    assert expired.status_after is VoucherStatus.EXPIRED, "an expired voucher stays expired"


def test_a_reversal_is_refused_after_its_window_for_a_reversal_or_a_refunded_voucher():
    domain.check_reversal(RECORD, VOUCHER, NOW + timedelta(minutes=30) - timedelta(microseconds=1), 30, SHANGHAI)
    with pytest.raises(domain.ReversalWindowPassed) as refused:
        domain.check_reversal(RECORD, VOUCHER, NOW + timedelta(minutes=30), 30, SHANGHAI)
    assert details(refused)["message"] == ("A verification can be reversed within 30 minutes only "
                                           "(until 2026-11-22 10:30)")
    assert details(refused, "zh-CN")["message"] == "核销后 30 分钟内才可冲正（截至 2026-11-22 10:30）"
    with pytest.raises(domain.ReversalWindowPassed):
        domain.check_reversal(RECORD, VOUCHER, NOW + timedelta(minutes=5), 5, SHANGHAI)
    with pytest.raises(domain.NotReversible) as refused:
        domain.check_reversal(replace(RECORD, kind=RecordKind.REVERSAL), VOUCHER, NOW, 30, SHANGHAI)
    assert details(refused)["details"] == {"id": 3}
    with pytest.raises(domain.NotActive) as refused:
        domain.check_reversal(RECORD, replace(VOUCHER, status=VoucherStatus.REFUNDED), NOW, 30, SHANGHAI)
    assert details(refused)["details"]["reason_code"] == "REFUNDED"


def test_a_refund_takes_back_only_an_untouched_voucher():
    assert domain.refund_verdict(VOUCHER) is RefundVerdict.REFUND
    assert domain.refund_verdict(replace(VOUCHER, status=VoucherStatus.EXPIRED)) is RefundVerdict.REFUND, \
        "never used: refunded even past its validity"
    assert domain.refund_verdict(replace(VOUCHER, surplus=Surplus(9999, 3))) is RefundVerdict.REFUSE
    assert domain.refund_verdict(replace(VOUCHER, surplus=Surplus(10000, 2))) is RefundVerdict.REFUSE
    assert domain.refund_verdict(replace(VOUCHER, status=VoucherStatus.USED_UP, surplus=Surplus(0, 0))) \
        is RefundVerdict.REFUSE
    assert domain.refund_verdict(replace(VOUCHER, status=VoucherStatus.REFUNDED)) is RefundVerdict.DONE


def test_expiry_is_due_from_the_end_on_for_active_vouchers_only():
    end = NOW
    assert domain.is_expiry_due(VoucherStatus.ACTIVE, end, NOW)
    assert not domain.is_expiry_due(VoucherStatus.ACTIVE, end, NOW - timedelta(microseconds=1))
    for status in (VoucherStatus.USED_UP, VoucherStatus.EXPIRED, VoucherStatus.REFUNDED):
        assert not domain.is_expiry_due(status, end, NOW + timedelta(days=1))


def test_times_are_shown_in_the_business_timezone():
    assert verification.shown(NOW, SHANGHAI) == "2026-11-22 10:00"
    assert verification.shown(NOW, UTC) == "2026-11-22 02:00"
