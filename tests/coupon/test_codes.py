"""Coupon codes: generate, export, redeem once."""

from __future__ import annotations

import asyncio
import csv
import io

from sqlalchemy import func, select

from services.coupon.domain import CODE_ALPHABET
from services.coupon.models import Coupon
from shared.auth import Role
from tests.conftest import bearer
from tests.coupon.test_api import TEMPLATES, make_template

REDEEM = "/app-api/coupon/codes/redeem"


async def codes_of(client, tokens, template_id: int) -> list[dict]:
    return (await client.get(f"{TEMPLATES}/{template_id}/codes", params={"size": 100},
                             headers=tokens["admin"])).json()["items"]


async def test_generated_codes_are_unique_readable_and_exportable(client, tokens):
    template = await make_template(client, tokens, take_type=2, take_limit_count=-1)
    response = await client.post(f"{TEMPLATES}/{template['id']}/codes",
                                 json={"count": 60, "prefix": "VP8", "length": 8}, headers=tokens["admin"])
    assert response.json() == {"template_id": template["id"], "created": 60}
    codes = [c["code"] for c in await codes_of(client, tokens, template["id"])]
    assert len(set(codes)) == 60
    assert all(c.startswith("VP8") and len(c) == 11 and set(c[3:]) <= set(CODE_ALPHABET) for c in codes)
    exported = await client.get(f"{TEMPLATES}/{template['id']}/codes.csv", headers=tokens["admin"])
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert exported.headers["content-type"].startswith("text/csv") and sorted(r["code"] for r in rows) == sorted(codes)


async def test_code_generation_rules(client, tokens):
    self_take = await make_template(client, tokens, take_type=1)
    refused = await client.post(f"{TEMPLATES}/{self_take['id']}/codes", json={"count": 5}, headers=tokens["admin"])
    assert refused.status_code == 409
    admin_give = await make_template(client, tokens, take_type=2)
    for body in ({"count": 0}, {"count": 5, "prefix": "O0"}, {"count": 5, "length": 3}):
        bad = await client.post(f"{TEMPLATES}/{admin_give['id']}/codes", json=body, headers=tokens["admin"])
        assert bad.status_code == 422, body


async def test_a_code_redeems_once_into_a_coupon(client, tokens):
    template = await make_template(client, tokens, take_type=2, take_limit_count=-1)
    await client.post(f"{TEMPLATES}/{template['id']}/codes", json={"count": 1, "length": 8}, headers=tokens["admin"])
    code = (await codes_of(client, tokens, template["id"]))[0]["code"]
    typed = f" {code[:4].lower()}-{code[4:]} "
    redeemed = await client.post(REDEEM, json={"code": typed}, headers=tokens["member"])
    assert redeemed.status_code == 201 and redeemed.json()["template_id"] == template["id"]
    again = await client.post(REDEEM, json={"code": code}, headers=tokens["other_member"])
    assert again.status_code == 409 and again.json()["error"]["code"] == "COUPON_CODE_ALREADY_REDEEMED"
    wrong = await client.post(REDEEM, json={"code": "NOPE12345"}, headers=tokens["member"])
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "COUPON_CODE_NOT_FOUND"
    listed = (await codes_of(client, tokens, template["id"]))[0]
    assert listed["redeemed_by"] == 1001 and listed["coupon_id"] == redeemed.json()["id"]


async def test_ten_users_racing_for_one_code_one_coupon(client, tokens, dev_settings, coupon_app):
    template = await make_template(client, tokens, take_type=2, take_limit_count=-1)
    await client.post(f"{TEMPLATES}/{template['id']}/codes", json={"count": 1}, headers=tokens["admin"])
    code = (await codes_of(client, tokens, template["id"]))[0]["code"]
    users = [bearer(dev_settings, Role.MEMBER, 600000 + i) for i in range(10)]
    responses = await asyncio.gather(*(client.post(REDEEM, json={"code": code}, headers=h) for h in users))
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9
    async with coupon_app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Coupon)) == 1
