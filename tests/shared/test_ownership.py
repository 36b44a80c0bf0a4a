"""shared.ownership: what a merchant's and the admin's scopes see, and the admin's owner filter."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select

from shared.ownership import EVERYTHING, OwnerFilterConflict, OwnerScope, _admin_scope

rows = Table("owned", MetaData(), Column("business_id", Integer, nullable=True))


def sql(scope: OwnerScope) -> str:
    return str(select(rows).where(scope.where(rows.c.business_id)).compile(compile_kwargs={"literal_binds": True}))


def test_a_merchant_sees_only_its_own_and_creates_for_itself():
    mine = OwnerScope(business_id=7, merchant=True)
    assert [mine.sees(b) for b in (7, 8, None)] == [True, False, False]
    assert mine.owner == 7
    assert sql(mine).endswith("WHERE owned.business_id = 7")


def test_the_admin_sees_everything_or_one_owner_and_creates_for_the_platform():
    assert [EVERYTHING.sees(b) for b in (7, None)] == [True, True]
    assert EVERYTHING.owner is None and sql(EVERYTHING).endswith("WHERE true")
    one = OwnerScope(business_id=7)
    assert [one.sees(b) for b in (7, 8, None)] == [True, False, False] and one.owner is None
    platform = OwnerScope(platform_only=True)
    assert [platform.sees(b) for b in (7, None)] == [False, True]
    assert sql(platform).endswith("WHERE owned.business_id IS NULL")


async def test_the_admin_filter_takes_one_owner_and_refuses_both():
    assert await _admin_scope(business_id=5) == OwnerScope(business_id=5)
    assert await _admin_scope(platform=True) == OwnerScope(platform_only=True)
    assert await _admin_scope() == EVERYTHING
    with pytest.raises(OwnerFilterConflict) as refused:
        await _admin_scope(business_id=5, platform=True)
    assert refused.value.status == 422 and refused.value.code == "OWNER_FILTER_CONFLICT"
    assert {"en", "zh-CN"} <= set(refused.value.messages)
