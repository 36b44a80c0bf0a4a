"""The suite as `make run` starts it (separate processes, embedded Redis and Tansu), exercised
through the gateway: once on SQLite, as `make run` keeps its data, and once on MariaDB, as
production does (the same tests)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from promo.embedded import port_open
from shared.events import Envelope
from shared.ports import CONSOLE_PORT, GATEWAY_PORT, SERVICE_PORTS
from tests.conftest import DATABASE_URL, drop_database

pytestmark = pytest.mark.e2e


def pick_offset() -> int:
    for offset in range(1100, 3000, 100):
        if not any(port_open("127.0.0.1", p + offset) for p in (GATEWAY_PORT, CONSOLE_PORT, *SERVICE_PORTS.values())):
            return offset
    raise RuntimeError("no free port range")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split()[2] != "Z"


def database_url_for(database: str, var_dir: Path, prefix: str = "e2e") -> str:
    if database == "sqlite":
        return f"sqlite+aiosqlite:///{var_dir}/{{service}}.db"
    url = DATABASE_URL.replace("{service}", f"{prefix}_{{service}}")
    for service in SERVICE_PORTS:  # new, empty databases: promo run migrates them and adds the demo
        asyncio.run(drop_database(url.replace("{service}", service)))
    return url


@pytest.fixture(scope="module", params=["sqlite", "mariadb"])
def suite(request, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp(f"suite-{request.param}")
    offset = pick_offset()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "ENV")}
    env["DATABASE_URL"] = database_url_for(request.param, var_dir)
    env["RATE_LIMIT_ROUTES"] = json.dumps(
        [{"prefix": "/app-api/content/article-categories", "per_ip": {"rate": 0.05, "burst": 3}},
         {"prefix": "/app-api/seckill/reservations", "methods": ["POST"], "per_user": {"rate": 0.05, "burst": 2}}])
    env["GROUPBUY_JOB_INTERVAL_SECONDS"] = "0.5"
    log = open(var_dir / "promo-run.out", "wb")
    process = subprocess.Popen([sys.executable, "-m", "promo", "run", "--port-offset", str(offset),
                                "--var-dir", str(var_dir)], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    output = var_dir / "promo-run.out"
    while "Promotion Center is up." not in output.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"promo run did not come up:\n{output.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)
    state = json.loads((var_dir / "run.json").read_text())
    yield {"process": process, "state": state, "gateway": f"http://127.0.0.1:{GATEWAY_PORT + offset}",
           "content": f"http://127.0.0.1:{SERVICE_PORTS['content'] + offset}",
           "seckill": f"http://127.0.0.1:{SERVICE_PORTS['seckill'] + offset}",
           "bargain": f"http://127.0.0.1:{SERVICE_PORTS['bargain'] + offset}",
           "points": f"http://127.0.0.1:{SERVICE_PORTS['points'] + offset}",
           "pricing": f"http://127.0.0.1:{SERVICE_PORTS['pricing'] + offset}", "var_dir": var_dir, "output": output,
           "database_url": env["DATABASE_URL"]}
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(30)
    log.close()


def test_banner_through_the_gateway_like_the_readme_says(suite):
    response = httpx.get(f"{suite['gateway']}/app-api/content/banners", params={"position": 1})
    assert response.status_code == 200
    assert [b["title"] for b in response.json()] == ["新人专享券", "限时秒杀"]
    assert response.headers["x-request-id"]


def test_banner_printed_tokens_work(suite):
    output = suite["output"].read_text()
    admin_token = next(line.split()[1] for line in output.splitlines() if line.strip().startswith("admin "))
    response = httpx.post(f"{suite['content']}/admin-api/content/banners", json={
        "title": "e2e", "pic_url": "https://cdn.example.com/e.png", "url": "/e2e", "position": 2},
        headers={"Authorization": f"Bearer {admin_token}"})
    assert response.status_code == 201, response.text
    seckill = httpx.get(f"{suite['gateway']}/app-api/content/banners", params={"position": 2}).json()
    assert "e2e" in [b["title"] for b in seckill]


def member_headers(subject: str = "1001") -> dict[str, str]:
    plain_env = {k: v for k, v in os.environ.items() if k != "ENV"}
    token = subprocess.run([sys.executable, "-m", "promo", "token", "member", subject], capture_output=True,
                           text=True, check=True, env=plain_env).stdout.strip()
    return {"Authorization": f"Bearer {token}"}


def test_cart_quote_with_demo_promotions_and_a_taken_coupon(suite):
    """The banner's pricing example, then the same cart for a member who took a coupon: the
    pricing service calls the coupon service, all on SQLite."""
    gw = suite["gateway"]
    cart = {"lines": [{"sku_id": 1001, "spu_id": 101, "category_id": 11, "unit_price": 19900, "count": 1}]}
    anonymous = httpx.post(f"{gw}/app-api/pricing/quote", json=cart)
    assert anonymous.status_code == 200, anonymous.text
    totals = anonymous.json()["totals"]
    assert (totals["discount"], totals["reward"], totals["pay"]) == (2985, 1000, 19900 - 2985 - 1000)
    member = member_headers("4321")
    center = httpx.get(f"{gw}/app-api/coupon/templates", headers=member).json()
    template = next(t for t in center if t["name"] == "满100减10")
    taken = httpx.post(f"{gw}/app-api/coupon/templates/{template['id']}/take", headers=member)
    assert taken.status_code == 201, taken.text
    quoted = httpx.post(f"{gw}/app-api/pricing/quote", json={**cart, "use_best_coupon": True}, headers=member)
    assert quoted.status_code == 200, quoted.text
    assert quoted.json()["coupons"]["applied_coupon_id"] == taken.json()["coupon_id"]
    assert quoted.json()["totals"]["pay"] == 19900 - 2985 - 1000 - 1000


def test_seckill_reservation_through_the_gateway(suite):
    """A sale on now (in the demo's whole-day slot, next to the demo flash sale), grabbed through
    the gateway on SQLite: a retried request gets the first answer, and the reservation route's own
    per-user limit answers 429."""
    output = suite["output"].read_text()
    admin = {"Authorization": "Bearer " + next(line.split()[1] for line in output.splitlines()
                                               if line.strip().startswith("admin "))}
    today = httpx.get(f"{suite['gateway']}/app-api/seckill/slots/today").json()
    slot_id = today["current_slot_id"]
    assert slot_id is not None, today
    demo = httpx.get(f"{suite['gateway']}/app-api/seckill/slots/{slot_id}/activities").json()
    assert [a["spu_id"] for a in demo] == [103], "the demo flash sale is on"
    day = date.fromisoformat(today["date"])
    sale = httpx.post(f"{suite['seckill']}/admin-api/seckill/activities", headers=admin, json={
        "name": "e2e 秒杀", "spu_id": 777, "slot_ids": [slot_id], "start_date": day.isoformat(),
        "end_date": (day + timedelta(days=1)).isoformat(), "user_limit": 2,
        "products": [{"sku_id": 7771, "price": 100, "stock": 3}]})
    assert sale.status_code == 201, sale.text
    url, grab = f"{suite['gateway']}/app-api/seckill/reservations", {"activity_id": sale.json()["id"], "sku_id": 7771}
    member = {**member_headers("5151"), "Idempotency-Key": "e2e-1"}
    first = httpx.post(url, json=grab, headers=member)
    assert first.status_code == 201, first.text
    retried = httpx.post(url, json=grab, headers=member)
    assert retried.status_code == 200 and retried.json() == first.json()
    limited = httpx.post(url, json=grab, headers={**member, "Idempotency-Key": "e2e-2"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    live = httpx.get(f"{suite['gateway']}/app-api/seckill/activities/{sale.json()['id']}").json()
    assert live["stock"] == 2


def service_headers() -> dict[str, str]:
    plain_env = {k: v for k, v in os.environ.items() if k != "ENV"}
    token = subprocess.run([sys.executable, "-m", "promo", "token", "service", "order-service"],
                           capture_output=True, text=True, check=True, env=plain_env).stdout.strip()
    return {"Authorization": f"Bearer {token}"}


def publish(suite, event_type: str, data: dict) -> None:
    plain_env = {k: v for k, v in os.environ.items() if k not in ("ENV", "KAFKA_BOOTSTRAP_SERVERS")}
    done = subprocess.run([sys.executable, "-m", "promo", "publish", event_type, json.dumps(data), "--var-dir",
                           str(suite["var_dir"])], capture_output=True, text=True, env=plain_env, timeout=60)
    assert done.returncode == 0, done.stderr


def wait_until(check, what: str, seconds: float = 30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"never happened: {what}")


def test_group_buy_through_the_gateway_succeeds_and_an_expired_group_fails(suite):
    """The demo group buy: a leader opens a group at the leader price through pricing's checkout,
    two members find it through the gateway, join and pay; the group succeeds and the event is on
    Kafka. A second group runs out of time and fails with its paid order to refund."""
    gw, pricing, headers = suite["gateway"], suite["pricing"], service_headers()
    [demo] = httpx.get(f"{gw}/app-api/groupbuy/activities", params={"spu_id": 104}).json()["items"]
    line = {"sku_id": 1004, "spu_id": 104, "category_id": 11, "unit_price": 9900, "count": 1}

    def checkout(order_id: int, user_id: int, group_id: int | None) -> dict:
        done = httpx.post(f"{pricing}/internal/pricing/checkout", headers=headers, json={
            "order_id": order_id, "user_id": user_id, "lines": [line], "activity": {
                "type": "groupbuy", "activity_id": demo["id"], "group_id": group_id, "nickname": f"买家{user_id}"}})
        assert done.status_code == 200, done.text
        return done.json()

    def paid(order_id: int, user_id: int, price: int) -> None:
        publish(suite, "order.paid", {"order_id": order_id, "user_id": user_id, "order_type": "groupbuy",
                                      "pay_price": price, "items": [{"sku_id": 1004, "spu_id": 104, "count": 1,
                                                                     "pay_price": price}]})

    quote = httpx.post(f"{gw}/app-api/pricing/quote", headers=member_headers("6100"), json={
        "lines": [line], "activity": {"type": "groupbuy", "activity_id": demo["id"]}})
    assert quote.status_code == 200 and quote.json()["totals"]["pay"] == 4900, quote.text
    opened = checkout(61001, 6100, None)
    assert opened["totals"]["pay"] == 4900
    group_id = next(h["reference"] for h in opened["holds"] if h["owner"] == "groupbuy")
    paid(61001, 6100, 4900)

    def listed():
        groups = httpx.get(f"{gw}/app-api/groupbuy/activities/{demo['id']}/groups", params={"limit": 50}).json()
        return next((g for g in groups if g["id"] == group_id), None)
    assert wait_until(listed, "the leader's paid group is open to join")["seats_left"] == 2
    for order_id, user_id in ((61002, 6101), (61003, 6102)):
        assert checkout(order_id, user_id, group_id)["totals"]["pay"] == 5900
        paid(order_id, user_id, 5900)

    def succeeded():
        group = httpx.get(f"{gw}/app-api/groupbuy/groups/{group_id}").json()
        return group["status"] == 20 and group
    assert [m["nickname"] for m in wait_until(succeeded, "the group succeeded")["members"]] == [
        "买家6100", "买家6101", "买家6102"]
    mine = httpx.get(f"{gw}/app-api/groupbuy/my-groups", headers=member_headers("6101")).json()
    assert [(i["order_id"], i["status"]) for i in mine["items"]] == [(61002, 20)]

    def event(event_type: str, wanted_group: int):
        for raw in read_all(suite["state"]["kafka"], event_type):
            envelope = Envelope.model_validate_json(raw)
            if envelope.data["group_id"] == wanted_group:
                return envelope
        return None
    done = wait_until(lambda: event("promo.groupbuy.group-succeeded", group_id), "the success event on Kafka")
    assert sorted(done.data["order_ids"]) == [61001, 61002, 61003]

    lonely = checkout(62001, 6200, None)
    lonely_group = next(h["reference"] for h in lonely["holds"] if h["owner"] == "groupbuy")
    paid(62001, 6200, 4900)
    wait_until(lambda: httpx.get(f"{gw}/app-api/groupbuy/groups/{lonely_group}").status_code == 200,
               "the second group started")
    expire_now(suite["database_url"], lonely_group)  # its 24 hours pass
    failed = wait_until(lambda: event("promo.groupbuy.group-failed", lonely_group), "the failure event on Kafka")
    assert failed.data["order_ids"] == [62001] and failed.data["reason"] == "expired"
    assert httpx.get(f"{gw}/app-api/groupbuy/groups/{lonely_group}").json()["status"] == 30


def expire_now(database_url: str, group_id: int) -> None:
    """Time travel in the suite's group-buy database: the group's time is up now."""
    from datetime import UTC, datetime

    from sqlalchemy import update

    from services.groupbuy.models import Group
    from shared.db import create_engine

    async def move() -> None:
        engine = create_engine(database_url.replace("{service}", "groupbuy"))
        try:
            async with engine.begin() as conn:
                await conn.execute(update(Group).where(Group.id == group_id).values(expires_at=datetime.now(UTC)))
        finally:
            await engine.dispose()

    asyncio.run(move())


def test_anonymous_member_and_bad_tokens(suite):
    # as the README shows it: a plain shell, no ENV set
    plain_env = {k: v for k, v in os.environ.items() if k != "ENV"}
    member = subprocess.run([sys.executable, "-m", "promo", "token", "member", "77"], capture_output=True,
                            text=True, check=True, env=plain_env).stdout.strip()
    url = f"{suite['gateway']}/app-api/content/articles"
    assert httpx.get(url).status_code == 200
    with_token = httpx.get(url, headers={"Authorization": f"Bearer {member}"})
    assert with_token.status_code == 200 and with_token.json()["total"] == 4
    bad = httpx.get(url, headers={"Authorization": "Bearer forged.token.here"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "AUTH_INVALID_TOKEN"


def test_internal_and_admin_are_not_forwarded(suite):
    assert httpx.get(f"{suite['gateway']}/internal/content/anything").status_code == 404
    assert httpx.get(f"{suite['gateway']}/admin-api/content/banners").status_code == 404


def test_rate_limit_answers_429_with_retry_after(suite):
    url = f"{suite['gateway']}/app-api/content/article-categories"
    statuses = [httpx.get(url).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    limited = httpx.get(url)
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1


def test_publish_an_event_by_hand(suite, tmp_path):
    plain_env = {k: v for k, v in os.environ.items() if k not in ("ENV", "KAFKA_BOOTSTRAP_SERVERS")}
    var_dir = str(suite["output"].parent)  # the suite's run.json names its broker
    done = subprocess.run([sys.executable, "-m", "promo", "publish", "user.registered", '{"user_id": 5}',
                           "--var-dir", var_dir], capture_output=True, text=True, env=plain_env, timeout=60)
    assert done.returncode == 0, done.stderr
    event_id = done.stdout.strip()
    assert event_id in [Envelope.model_validate_json(v).id for v in read_all(suite["state"]["kafka"],
                                                                                 "user.registered")]
    bad = subprocess.run([sys.executable, "-m", "promo", "publish", "order.paid", '{"order_id": 1}',
                          "--var-dir", var_dir], capture_output=True, text=True, env=plain_env, timeout=60)
    assert bad.returncode != 0 and "not a valid order.paid event" in bad.stderr and "user_id" in bad.stderr


def read_all(bootstrap: str, topic: str) -> list[bytes]:
    async def read() -> list[bytes]:
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                    group_id=f"e2e-{uuid.uuid4().hex}")
        await consumer.start()
        try:
            batch = await consumer.getmany(timeout_ms=5000)
            return [m.value for messages in batch.values() for m in messages]
        finally:
            await consumer.stop()

    return asyncio.run(read())


def merchant_headers(subject: str, business_id: int) -> dict[str, str]:
    plain_env = {k: v for k, v in os.environ.items() if k != "ENV"}
    token = subprocess.run([sys.executable, "-m", "promo", "token", "merchant", subject, "--business-id",
                            str(business_id)], capture_output=True, text=True, check=True, env=plain_env).stdout.strip()
    return {"Authorization": f"Bearer {token}"}


def test_a_voucher_bought_listed_and_verified_through_the_gateway(suite):
    """The voucher service's quick start: the demo stores are found near a point, a payment for the
    demo voucher SKU issues a voucher the buyer lists through the gateway, and the demo merchant's
    staff (user 38 of business 194) verify part of it with a retried key, then see it in their report."""
    gw = suite["gateway"]
    near = httpx.get(f"{gw}/app-api/voucher/stores/nearby", params={"lat": 31.2304, "lon": 121.4737,
                                                                     "radius_m": 10000})
    assert near.status_code == 200, near.text
    assert {s["id"] for s in near.json()["items"]} >= {254, 255}
    publish(suite, "order.paid", {"order_id": 900001, "user_id": 7007, "pay_price": 8800,
                                  "items": [{"sku_id": 537, "spu_id": 537, "count": 1, "pay_price": 8800}]})
    buyer = member_headers("7007")
    mine = wait_until(lambda: httpx.get(f"{gw}/app-api/voucher/vouchers", headers=buyer).json()["items"],
                      "the voucher issued")
    [voucher] = mine
    detail = httpx.get(f"{gw}/app-api/voucher/vouchers/{voucher['id']}", headers=buyer).json()
    staff = {**merchant_headers("38", 194), "Idempotency-Key": "e2e-verify-1"}
    body = {"code": detail["code"], "store_id": 254, "minus_value": 3000, "currency": "CNY"}
    first = httpx.post(f"{gw}/merchant-api/voucher/verifications", headers=staff, json=body)
    assert first.status_code == 201, first.text
    retried = httpx.post(f"{gw}/merchant-api/voucher/verifications", headers=staff, json=body)
    assert retried.status_code == 200 and retried.json()["id"] == first.json()["id"]
    after = httpx.get(f"{gw}/app-api/voucher/vouchers/{voucher['id']}", headers=buyer).json()
    assert after["surplus_value"] == detail["surplus_value"] - 3000, after
    other = merchant_headers("99", 195)
    assert httpx.get(f"{gw}/merchant-api/voucher/verifications/{first.json()['id']}",
                     headers=other).status_code == 404, "another merchant never sees it"
    report = httpx.get(f"{gw}/merchant-api/voucher/reports/daily", headers=staff)
    assert report.status_code == 200, report.text


def test_a_device_cart_merged_on_login_priced_and_emptied_by_payment(suite):
    """An anonymous device fills a cart through the gateway, the member logs in and merges, the page
    shows the demo promotions, the order is paid and the bought lines leave the cart."""
    gw, device = suite["gateway"], {"X-Device-Id": "e2e-phone-0001"}
    member = member_headers("7101")
    for line in ({"sku_id": 1001, "spu_id": 101, "category_id": 11, "quantity": 1, "unit_price": 19900},
                 {"sku_id": 1002, "spu_id": 102, "category_id": 11, "quantity": 2, "unit_price": 5900}):
        added = httpx.post(f"{gw}/app-api/cart/lines", json=line, headers=device)
        assert added.status_code == 200, added.text
    anonymous = httpx.get(f"{gw}/app-api/cart", headers=device).json()
    assert anonymous["promotions_available"] and anonymous["count"]["lines"] == 2
    merged = httpx.post(f"{gw}/app-api/cart/merge", headers={**member, **device})
    assert merged.status_code == 200 and merged.json()["moved"] == 2, merged.text
    assert httpx.get(f"{gw}/app-api/cart/count", headers=device).json()["lines"] == 0
    page = httpx.get(f"{gw}/app-api/cart", headers=member).json()
    assert {p["name"] for p in page["promotions"] if p["applied"]} == {"双11 限时折扣", "全场满减"}
    assert page["totals"]["pay"] < page["totals"]["original"] == 19900 + 2 * 5900
    publish(suite, "order.paid", {"order_id": 910001, "user_id": 7101, "pay_price": 25215,
                                  "items": [{"sku_id": 1001, "spu_id": 101, "count": 1, "pay_price": 15389},
                                            {"sku_id": 1002, "spu_id": 102, "count": 1, "pay_price": 4913}]})
    wait_until(lambda: httpx.get(f"{gw}/app-api/cart/count", headers=member).json()["lines"] == 1,
               "the bought lines left the cart")
    count = httpx.get(f"{gw}/app-api/cart/count", headers=member).json()
    assert count == {"lines": 1, "quantity": 1, "selected_lines": 1}, "1001 left; one of the two 1002 stays"


def test_the_demo_bargain_through_the_gateway_reaches_its_floor_with_five_friends_and_is_bought(suite):
    """A member starts the demo bargain through the gateway, shares the record's page (public),
    five friends help; the record reaches exactly the floor price. The cart quote shows the floor
    price, pricing's checkout holds the record (the order service's call), `order.paid` is
    published, and the bargain service counts the record ordered and the sale."""
    gw = suite["gateway"]
    [demo] = httpx.get(f"{gw}/app-api/bargain/activities", params={"spu_id": 105}).json()["items"]
    owner = member_headers("8100")
    started = httpx.post(f"{gw}/app-api/bargain/records", json={"activity_id": demo["id"]}, headers=owner)
    assert started.status_code == 201, started.text
    record_id = started.json()["id"]
    shared = httpx.get(f"{gw}/app-api/bargain/records/{record_id}")
    assert shared.status_code == 200 and shared.json()["viewer"] == "anonymous"
    anonymous = httpx.post(f"{gw}/app-api/bargain/records/{record_id}/help", json={})
    assert anonymous.status_code == 401
    cuts = []
    for friend in range(8101, 8106):
        helped = httpx.post(f"{gw}/app-api/bargain/records/{record_id}/help", json={}, headers=member_headers(
            str(friend)))
        assert helped.status_code == 201, helped.text
        cuts.append(helped.json()["cut"])
    [mine] = httpx.get(f"{gw}/app-api/bargain/my-records", headers=owner).json()["items"]
    assert (mine["status"], mine["price"], len(mine["helps"])) == (2, demo["floor_price"], 5)
    assert demo["first_price"] - sum(cuts) == demo["floor_price"]

    line = {"sku_id": 1005, "spu_id": 105, "category_id": 11, "unit_price": demo["first_price"], "count": 1}
    order = {"lines": [line], "activity": {"type": "bargain", "activity_id": demo["id"], "record_id": record_id}}
    quote = httpx.post(f"{gw}/app-api/pricing/quote", headers=owner, json=order)
    assert quote.status_code == 200 and quote.json()["totals"]["pay"] == demo["floor_price"], quote.text
    checkout = httpx.post(f"{suite['pricing']}/internal/pricing/checkout", headers=service_headers(),
                          json={"order_id": 81001, "user_id": 8100, **order})
    assert checkout.status_code == 200, checkout.text
    assert checkout.json()["totals"]["pay"] == demo["floor_price"]
    assert [h["owner"] for h in checkout.json()["holds"]] == ["bargain"]
    [held] = httpx.get(f"{gw}/app-api/bargain/my-records", headers=owner).json()["items"]
    assert held["order_id"] == 81001
    publish(suite, "order.paid", {"order_id": 81001, "user_id": 8100, "order_type": "bargain",
                                  "pay_price": demo["floor_price"], "items": [
                                      {"sku_id": 1005, "spu_id": 105, "count": 1, "pay_price": demo["floor_price"]}]})
    output = suite["output"].read_text()
    admin = {"Authorization": "Bearer " + next(row.split()[1] for row in output.splitlines()
                                               if row.strip().startswith("admin "))}

    def sold():
        figures = httpx.get(f"{suite['bargain']}/admin-api/bargain/activities/{demo['id']}/stats", headers=admin)
        assert figures.status_code == 200, figures.text
        return figures.json()["records_ordered"] == 1 and figures.json()
    figures = wait_until(sold, "the bargain service took the payment")
    assert (figures["sales"], figures["orders_held"]) == (demo["floor_price"], 0)


def test_the_demo_points_mall_exchange_through_the_gateway_is_held_paid_and_limited(suite):
    """The points mall through the gateway: the demo activity anonymously and with the buyer's
    limit; a quote of 2 units (points and cash, nothing else applied) and of a pure-points unit
    (pays 0); pricing's checkout holds the stock and the count (the order service's call);
    `order.paid` commits it, and the buyer's limit is then used up."""
    gw = suite["gateway"]
    anonymous = httpx.get(f"{gw}/app-api/points/activities")
    assert anonymous.status_code == 200, anonymous.text
    [demo] = [a for a in anonymous.json()["items"] if a["spu_id"] == 106]
    cash = next(p for p in demo["products"] if p["price"] > 0)
    pure = next(p for p in demo["products"] if p["price"] == 0)
    assert cash["my_remaining"] is None
    buyer = member_headers("8200")
    [mine] = [a for a in httpx.get(f"{gw}/app-api/points/activities", headers=buyer).json()["items"]
              if a["id"] == demo["id"]]
    assert [p["my_remaining"] for p in mine["products"]] == [p["limit_count"] for p in demo["products"]]

    def order(product: dict, count: int) -> dict:
        line = {"sku_id": product["sku_id"], "spu_id": 106, "category_id": 11, "unit_price": 5_900, "count": count}
        return {"lines": [line], "activity": {"type": "points_mall", "activity_id": demo["id"]}}
    units = cash["limit_count"]
    quote = httpx.post(f"{gw}/app-api/pricing/quote", headers=buyer, json=order(cash, units))
    assert quote.status_code == 200, quote.text
    totals = quote.json()["totals"]
    assert (totals["pay"], totals["points_spent"]) == (cash["price"] * units, cash["points"] * units)
    assert [p["kind"] for p in quote.json()["promotions"] if p["applied"]] == ["special"]
    free = httpx.post(f"{gw}/app-api/pricing/quote", headers=buyer, json=order(pure, 1))
    assert (free.json()["totals"]["pay"], free.json()["totals"]["points_spent"]) == (0, pure["points"])

    checkout = httpx.post(f"{suite['pricing']}/internal/pricing/checkout", headers=service_headers(),
                          json={"order_id": 82001, "user_id": 8200, **order(cash, units)})
    assert checkout.status_code == 200, checkout.text
    assert [h["owner"] for h in checkout.json()["holds"]] == ["points_mall"]
    publish(suite, "order.paid", {"order_id": 82001, "user_id": 8200, "order_type": "points",
                                  "pay_price": cash["price"] * units, "items": [
                                      {"sku_id": cash["sku_id"], "spu_id": 106, "count": units,
                                       "pay_price": cash["price"] * units}]})
    output = suite["output"].read_text()
    admin = {"Authorization": "Bearer " + next(row.split()[1] for row in output.splitlines()
                                               if row.strip().startswith("admin "))}

    def sold():
        figures = httpx.get(f"{suite['points']}/admin-api/points/activities/{demo['id']}/stats", headers=admin)
        assert figures.status_code == 200, figures.text
        return figures.json()["orders_paid"] == 1 and figures.json()
    figures = wait_until(sold, "the points service took the payment")
    assert (figures["units_sold"], figures["points_used"], figures["orders_held"]) == (
        units, cash["points"] * units, 0)
    [after] = [a for a in httpx.get(f"{gw}/app-api/points/activities", headers=buyer).json()["items"]
               if a["id"] == demo["id"]]
    assert next(p for p in after["products"] if p["sku_id"] == cash["sku_id"])["my_remaining"] == 0
    again = httpx.post(f"{gw}/app-api/pricing/quote", headers=buyer, json=order(cash, 1))
    assert again.status_code == 409 and again.json()["error"]["details"]["owner_code"] == "POINTS_LIMIT_EXCEEDED"


def test_two_shops_promotions_and_the_platform_s_priced_and_checked_out_together(suite):
    """Merchants A and B each run a shop coupon and a shop spend-and-save through /merchant-api (the
    merchant app, through the gateway); the platform's demo 全场满减 spans the shops. A buyer takes
    the coupons, prices a cart of both shops' lines and the platform's own, and checks it out: each
    shop's promotions touch only its lines, each coupon is held and then used by the payment."""
    gw, shops, buyer, user_id = suite["gateway"], {}, member_headers("7201"), 7201
    now = datetime.now(UTC)
    for shop, business_id, off in (("A", 3101, 1500), ("B", 3102, 800)):
        merchant = merchant_headers(f"{business_id}0", business_id)
        template = httpx.post(f"{gw}/merchant-api/coupon/templates", headers=merchant, json={
            "name": f"{shop}店满50减5", "take_type": 1, "total_count": 100, "take_limit_count": 1, "use_price": 5000,
            "validity_type": 2, "fixed_start_term": 0, "fixed_end_term": 7, "discount_type": 1, "discount_price": 500})
        assert template.status_code == 201 and template.json()["business_id"] == business_id, template.text
        reward = httpx.post(f"{gw}/merchant-api/pricing/rewards", headers=merchant, json={
            "name": f"{shop}店满减", "start_at": (now - timedelta(minutes=5)).isoformat(),
            "end_at": (now + timedelta(days=7)).isoformat(), "condition_type": 10, "product_scope": 1,
            "product_scope_values": [], "levels": [{"threshold": 10000, "amount_off": off}]})
        assert reward.status_code == 201 and reward.json()["business_id"] == business_id, reward.text
        taken = httpx.post(f"{gw}/app-api/coupon/templates/{template.json()['id']}/take", headers=buyer)
        assert taken.status_code == 201, taken.text
        shops[business_id] = {"merchant": merchant, "template_id": template.json()["id"],
                              "reward_id": reward.json()["id"], "coupon_id": taken.json()["coupon_id"]}
    a, b = shops[3101], shops[3102]
    for service, path in (("pricing", f"rewards/{b['reward_id']}"), ("coupon", f"templates/{b['template_id']}")):
        url = f"{gw}/merchant-api/{service}/{path}"
        assert httpx.get(url, headers=a["merchant"]).status_code == 404, "A never sees B's"
        assert httpx.get(url, headers=b["merchant"]).status_code == 200
        assert [httpx.get(url, headers=h).status_code for h in ({}, buyer)] == [401, 403], "the gateway checks the role"
    platform = next(t for t in httpx.get(f"{gw}/app-api/coupon/templates", headers=buyer).json()
                    if t["name"] == "满100减10")
    assert platform["business_id"] is None
    platform_coupon = httpx.post(f"{gw}/app-api/coupon/templates/{platform['id']}/take", headers=buyer).json()
    lines = [{"sku_id": 5101, "spu_id": 511, "category_id": 21, "unit_price": 12000, "count": 1, "business_id": 3101},
             {"sku_id": 5201, "spu_id": 521, "category_id": 21, "unit_price": 15000, "count": 1, "business_id": 3102},
             {"sku_id": 1001, "spu_id": 101, "category_id": 11, "unit_price": 19900, "count": 1}]
    quoted = httpx.post(f"{gw}/app-api/pricing/quote", json={"lines": lines, "use_best_coupon": True}, headers=buyer)
    assert quoted.status_code == 200, quoted.text
    quote = quoted.json()
    assert [(s["business_id"], s["line_indexes"]) for s in quote["shops"]] == [(3101, [0]), (3102, [1]), (None, [2])]
    for index, shop in enumerate(shops.values()):
        part = quote["shops"][index]
        assert [p["id"] for p in part["promotions"] if p["applied"] and p["kind"] == "reward"] == [shop["reward_id"]]
        assert part["applied_coupon_id"] == shop["coupon_id"]
        touching = [i for i, line in enumerate(quote["lines"]) if any(
            x["promotion_id"] == shop["reward_id"] and x["kind"] == "reward" for x in line["adjustments"])]
        assert touching == [index], "a shop's spend-and-save touches its own line only"
    assert set(quote["coupons"]["applied_coupon_ids"]) == {a["coupon_id"], b["coupon_id"], platform_coupon["coupon_id"]}
    cross_shop = next(p for p in quote["promotions"] if p["name"] == "全场满减")
    assert cross_shop["applied"] and cross_shop["business_id"] is None
    assert sum(line["pay_amount"] for line in quote["lines"]) == quote["totals"]["pay"] < quote["totals"]["original"]
    done = httpx.post(f"{suite['pricing']}/internal/pricing/checkout", headers=service_headers(), json={
        "order_id": 920001, "user_id": user_id, "lines": lines, "use_best_coupon": True})
    assert done.status_code == 200, done.text
    assert done.json()["totals"] == quote["totals"], "the checkout prices as the quote did"
    items = [{"sku_id": x["sku_id"], "spu_id": x["spu_id"], "count": 1, "pay_price": p["pay_amount"]}
             for x, p in zip(lines, quote["lines"], strict=True)]
    publish(suite, "order.paid", {"order_id": 920001, "user_id": user_id, "pay_price": quote["totals"]["pay"],
                                  "items": items})

    def used() -> set[int]:
        page = httpx.get(f"{gw}/app-api/coupon/coupons", params={"status": 2}, headers=buyer).json()
        return {c["id"] for c in page["items"]}

    wait_until(lambda: used() == {a["coupon_id"], b["coupon_id"], platform_coupon["coupon_id"]},
               "the payment used the three coupons")
    stats = httpx.get(f"{gw}/merchant-api/coupon/templates/{a['template_id']}/stats", headers=a["merchant"]).json()
    assert (stats["used"], stats["orders"]) == (1, 1) and stats["discount_given"] == 500


def test_zz_upstream_killed_is_502_and_ctrl_c_leaves_no_orphans(suite):
    pids = suite["state"]["pids"]
    os.kill(pids["content"], signal.SIGKILL)
    for _ in range(50):
        if not alive(pids["content"]):
            break
        time.sleep(0.1)
    response = httpx.get(f"{suite['gateway']}/app-api/content/banners", params={"position": 1})
    assert response.status_code == 502 and response.json()["error"]["code"] == "UPSTREAM_UNAVAILABLE"
    children = [int(p) for p in subprocess.run(["pgrep", "-P", str(suite["process"].pid)], capture_output=True,
                                                text=True).stdout.split()]
    assert len(children) >= 3  # gateway, redis, tansu still running
    suite["process"].send_signal(signal.SIGINT)
    assert suite["process"].wait(30) == 0
    time.sleep(0.5)
    assert [pid for pid in children if alive(pid)] == []
