"""A checkout whose pricing process is killed (SIGKILL) after the coupon service held the coupon
for the order, and before the checkout was stored: the retry must end where a checkout that never
crashed ends, with the coupon applied, and the payment must commit that very coupon."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from promo.embedded import free_port, port_open
from services.coupon import consumers as coupon_consumers
from services.coupon.domain import CouponStatus
from services.coupon.models import Coupon
from shared.events import new_event
from tests.conftest import REDIS_URL, database_url
from tests.pricing.conftest import give_coupon
from tests.pricing.test_quote import CART

DELAY = 0.5  # what the proxy holds each answer of the coupon service back: the window to kill in


@contextlib.asynccontextmanager
async def slow_answers(upstream: str):
    """A TCP proxy in front of `upstream` that passes requests at once and answers after DELAY."""
    host, port = upstream.removeprefix("http://").split(":")

    async def pipe(reader, writer, delay: float) -> None:
        try:
            while data := await reader.read(65536):
                if delay:
                    await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def serve(client_reader, client_writer) -> None:
        server_reader, server_writer = await asyncio.open_connection(host, int(port))
        await asyncio.gather(pipe(client_reader, server_writer, 0), pipe(server_reader, client_writer, DELAY))

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


@contextlib.asynccontextmanager
async def pricing_process(coupon_url: str, seckill_url: str, groupbuy_url: str, infra: dict):
    """The pricing service as its own process (it is what gets killed)."""
    port = free_port()
    env = {**os.environ, "ENV": "test", "DATABASE_URL": database_url("pricing"), "REDIS_URL": REDIS_URL,
           "KAFKA_BOOTSTRAP_SERVERS": infra["kafka_bootstrap_servers"], "KAFKA_ENABLE_IDEMPOTENCE": "false",
           "COUPON_URL": coupon_url, "SECKILL_URL": seckill_url, "GROUPBUY_URL": groupbuy_url, "LOG_JSON": "false",
           "DEPENDENCY_TIMEOUT_SECONDS": "30"}  # a loaded test machine must not end the attempt before the kill
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "services.pricing.main:create_app", "--factory", "--host", "127.0.0.1",
        "--port", str(port), "--log-level", "warning", env=env)
    try:
        for _ in range(300):
            if port_open("127.0.0.1", port):
                break
            await asyncio.sleep(0.05)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def held_by(coupon_app, coupon_id: int) -> Coupon:
    async with coupon_app.state.sessionmaker() as session:
        return await session.scalar(select(Coupon).where(Coupon.id == coupon_id)
                                    .execution_options(populate_existing=True))


@pytest.mark.parametrize("choice", ["coupon_id", "use_best_coupon"])
async def test_a_checkout_retried_after_pricing_was_killed_applies_the_coupon_it_held(
        choice, client, coupons, coupon_app, pricing_app, seckill_url, groupbuy_url, tokens, infra):
    coupon_id = await give_coupon(coupons, tokens, discount_type=1, discount_price=700)
    order_id = 9100 + (choice == "coupon_id")
    body = {"order_id": order_id, "user_id": 1001, "lines": CART[:2],
            **({"coupon_id": coupon_id} if choice == "coupon_id" else {"use_best_coupon": True})}
    async with slow_answers(coupon_app.state.url) as proxied, \
            pricing_process(proxied, seckill_url, groupbuy_url, infra) as (process, url):
        async with httpx.AsyncClient(base_url=url, timeout=30) as doomed:
            attempt = asyncio.create_task(doomed.post("/internal/pricing/checkout", json=body,
                                                      headers=tokens["service"]))
            for _ in range(3000):  # the coupon service has held the coupon; its answer is on its way
                if (await held_by(coupon_app, coupon_id)).use_order_id == order_id:
                    break
                assert not attempt.done(), f"the checkout ended before the hold: {attempt.result().text}"
                await asyncio.sleep(0.01)
            process.send_signal(signal.SIGKILL)
            with pytest.raises(httpx.TransportError):
                await attempt
    crashed = await held_by(coupon_app, coupon_id)
    assert crashed.use_order_id == order_id and crashed.status == CouponStatus.HELD, "killed after the hold"

    pricing_app.state.pricing.stale_seconds = 1  # CHECKOUT_STALE_SECONDS
    try:
        await asyncio.sleep(1.1)
        retry = await client.post("/internal/pricing/checkout", json=body, headers=tokens["service"])
    finally:
        pricing_app.state.pricing.stale_seconds = 30
    assert retry.status_code == 200, retry.text
    answer = retry.json()
    assert answer["coupons"]["applied_coupon_id"] == coupon_id and answer["totals"]["coupon"] == 700
    assert answer["totals"]["pay"] == answer["totals"]["original"] - 700
    assert [(h["owner"], h["reference"]) for h in answer["holds"]] == [("coupon", coupon_id)]

    async with coupon_app.state.sessionmaker() as session, session.begin():
        await coupon_consumers.on_order_paid(session, new_event(
            "order.paid", source="test", subject=order_id, time=datetime.now(UTC), data={
                "order_id": order_id, "user_id": 1001, "pay_price": answer["totals"]["pay"],
                "paid_at": datetime.now(UTC).isoformat(),
                "items": [{"sku_id": 1001, "spu_id": 101, "count": 1, "pay_price": answer["totals"]["pay"]}]}))
    used = await held_by(coupon_app, coupon_id)
    assert used.status == CouponStatus.USED and used.use_order_id == order_id, "the coupon the order paid with"
