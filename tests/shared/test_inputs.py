"""What every service's app does to a request body before a route sees it: strict numbers and
booleans, JSON only (415), and the same size cap as the gateway (413)."""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated

import pytest
from fastapi import APIRouter
from pydantic import AwareDatetime, Field, ValidationError

from shared.app import Messaging, create_service_app
from shared.db import make_metadata
from shared.enums import DescribedIntEnum
from shared.ids import Id
from shared.outbox import inbox_table, outbox_table
from shared.schemas import Input
from shared.settings import ServiceSettings
from tests.conftest import asgi_client


class Color(IntEnum):
    RED = 1


class Line(Input):
    sku_id: Id
    count: Annotated[int, Field(ge=1)] = 1


class Order(Input):
    user_id: Id
    amount: int | None = None
    paid: bool = False
    lines: list[Line] = []
    color: Color = Color.RED
    at: AwareDatetime | None = None
    give: dict[int, int] = {}


@pytest.mark.parametrize("body", [
    {"user_id": True}, {"user_id": "1"}, {"user_id": 1.0}, {"user_id": 1, "amount": "5"},
    {"user_id": 1, "paid": 1}, {"user_id": 1, "paid": "true"}, {"user_id": 1, "lines": [{"sku_id": True}]},
    {"user_id": 1, "give": {"3": "1"}},
])
def test_numbers_and_booleans_are_strict(body):
    with pytest.raises(ValidationError):
        Order.model_validate(body)


def test_what_json_cannot_say_otherwise_still_parses():
    order = Order.model_validate({"user_id": 1, "color": 1, "at": "2026-01-01T08:00:00+08:00", "give": {"3": 2},
                                  "lines": [{"sku_id": 5, "count": 2}], "paid": True})
    assert order.color is Color.RED and order.give == {3: 2} and order.lines[0].count == 2 and order.paid


class Kind(DescribedIntEnum):
    """What a thing is."""

    BIG = 1, "a big one"
    SMALL = 2, "a small one"


class KindIn(Input):
    kind: Kind


def test_described_enums_list_their_values_in_the_schema():
    schema = KindIn.model_json_schema()["$defs"]["Kind"]
    assert schema["enum"] == [1, 2]
    assert schema["x-enum-varnames"] == ["BIG", "SMALL"]
    assert schema["description"] == "What a thing is. 1 = BIG: a big one; 2 = SMALL: a small one"
    assert Kind(2) is Kind.SMALL and Kind.SMALL == 2 and Kind.BIG.meaning == "a big one"


class TinySettings(ServiceSettings):
    service_name = "tiny"


def tiny_app():
    router = APIRouter()

    @router.post("/things")
    async def things(body: Order) -> dict:
        return {"user_id": body.user_id}

    metadata = make_metadata()
    messaging = Messaging(outbox_table(metadata, "tiny"), inbox_table(metadata, "tiny"))
    return create_service_app(TinySettings(_env_file=None, env="test", max_body_bytes=1000), title="tiny",
                              routers=[router], messaging=messaging)


async def test_a_body_that_is_not_json_is_415():
    async with asgi_client(tiny_app()) as client:
        ok = await client.post("/things", json={"user_id": 1})
        plain = await client.post("/things", content=b'{"user_id": 1}', headers={"Content-Type": "text/plain"})
        missing = await client.post("/things", content=b'{"user_id": 1}')
        problem = await client.post("/things", content=b'{"user_id": 1}',
                                    headers={"Content-Type": "application/merge-patch+json"})
    assert ok.status_code == 200 and problem.status_code == 200
    assert plain.status_code == 415 and plain.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert missing.status_code == 415


async def test_a_body_over_the_cap_is_413_in_the_callers_language():
    big = {"user_id": 1, "lines": [{"sku_id": n} for n in range(1, 200)]}
    async with asgi_client(tiny_app()) as client:
        response = await client.post("/things", json=big, headers={"Accept-Language": "en"})
    assert response.status_code == 413
    assert response.json()["error"] == {"code": "PAYLOAD_TOO_LARGE", "message": "Request body too large",
                                         "details": {}}


async def test_a_chunked_body_over_the_cap_is_413_and_under_it_is_read():
    async def chunks(total: int):
        for _ in range(total // 100):
            yield b" " * 100

    async def body(prefix: bytes, pad: int):
        yield prefix
        async for chunk in chunks(pad):
            yield chunk

    async with asgi_client(tiny_app()) as client:
        big = await client.post("/things", content=body(b'{"user_id": 1}', 2000),
                                headers={"Content-Type": "application/json"})
        small = await client.post("/things", content=body(b'{"user_id": 1}', 300),
                                  headers={"Content-Type": "application/json"})
    assert big.status_code == 413
    assert small.status_code == 200 and small.json() == {"user_id": 1}


async def test_each_problem_of_a_422_is_said_in_the_callers_language():
    body = {"user_id": 0, "lines": [{"sku_id": "7"}], "surprise": 1}
    async with asgi_client(tiny_app()) as client:
        zh = await client.post("/things", json=body, headers={"Accept-Language": "zh-CN"})
        en = await client.post("/things", json=body, headers={"Accept-Language": "en"})
    assert zh.status_code == en.status_code == 422
    by_field = {".".join(e["loc"]): e["msg"] for e in zh.json()["error"]["details"]["errors"]}
    assert by_field == {"body.user_id": "不能小于 1", "body.lines.0.sku_id": "须为整数",
                        "body.surprise": "不是可用的字段"}
    assert {".".join(e["loc"]): e["msg"] for e in en.json()["error"]["details"]["errors"]}["body.user_id"] == \
        "should be at least 1"


def test_a_schemas_own_check_is_translated_too():
    from pydantic import AfterValidator, ValidationError

    from shared import validation

    no_tabs = validation.check_reason("TEST_NO_TABS", en="must not contain tabs", zh="不能包含制表符")

    def check(value: str) -> str:
        if "\t" in value:
            raise validation.invalid(no_tabs)
        return value

    class Named(Input):
        name: Annotated[str, AfterValidator(check)]

    with pytest.raises(ValidationError) as caught:
        Named.model_validate({"name": "a\tb"})
    [error] = caught.value.errors()
    assert validation.message(error, "zh-CN") == "不能包含制表符"
    assert validation.message(error, "en") == "must not contain tabs"
