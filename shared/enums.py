"""Enumerations every service uses the same way, and the base class of integer enums that a
client reads: each member carries its meaning, which the OpenAPI schema lists."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any

from shared.errors import Reason


class DescribedIntEnum(IntEnum):
    """`USER = 1, "the buyer takes it"`: the value, then what it means. The OpenAPI schema of
    the enum lists every value with its name and meaning (`description`, and the
    `x-enum-varnames` / `x-enum-descriptions` that client generators read)."""

    meaning: str

    def __new__(cls, value: int, meaning: str = "") -> DescribedIntEnum:
        member = int.__new__(cls, value)
        member._value_ = value
        member.meaning = meaning
        return member

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        schema = handler(core_schema)
        target = handler.resolve_ref_schema(schema)
        head = " ".join((cls.__doc__ or cls.__name__).strip().split("\n\n")[0].split())
        values = "; ".join(f"{m.value} = {m.name}: {m.meaning}" for m in cls)
        target["description"] = f"{head} {values}"
        target["x-enum-varnames"] = [m.name for m in cls]
        target["x-enum-descriptions"] = [m.meaning for m in cls]
        return schema


class CommonStatus(DescribedIntEnum):
    """Status of a configurable record (yudao's numbers, which mall teams migrating from it
    already store)."""

    ENABLED = 0, "enabled: in effect"
    DISABLED = 1, "disabled / closed: not in effect"


class ProductScope(DescribedIntEnum):
    """Which products a coupon or an activity covers (yudao's numbers)."""

    ALL = 1, "every product"
    SPU = 2, "the SPUs listed in the scope values"
    CATEGORY = 3, "the categories listed in the scope values"


SCOPE_ALL_WITH_VALUES = Reason("SCOPE_ALL_WITH_VALUES", en="product_scope_values must be empty when the scope is "
                               "all products", zh="适用范围为全部商品时，不能指定商品或分类")
SCOPE_WITHOUT_VALUES = Reason("SCOPE_WITHOUT_VALUES", en="product_scope_values are required for an SPU or category "
                              "scope", zh="适用范围为指定商品或分类时，须列出商品或分类")
SCOPE_DUPLICATES = Reason("SCOPE_DUPLICATES", en="product_scope_values has duplicates", zh="商品或分类有重复")


def scope_problems(scope: ProductScope, values: Sequence[int]) -> list[Reason]:
    """What is wrong with a product scope and its values (coupons and activities alike)."""
    problems = []
    if scope is ProductScope.ALL and values:
        problems.append(SCOPE_ALL_WITH_VALUES)
    if scope is not ProductScope.ALL and not values:
        problems.append(SCOPE_WITHOUT_VALUES)
    if len(set(values)) != len(values):
        problems.append(SCOPE_DUPLICATES)
    return problems
