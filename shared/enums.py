"""Enumerations every service uses the same way."""

from enum import IntEnum


class CommonStatus(IntEnum):
    """Status of a configurable record. Numbers follow yudao (0 enabled, 1 disabled), which
    mall teams migrating from it already store."""

    ENABLED = 0
    DISABLED = 1


class ProductScope(IntEnum):
    """Which products a coupon or an activity covers (yudao's numbers); SPU and CATEGORY come
    with a list of ids."""

    ALL = 1
    SPU = 2
    CATEGORY = 3
