"""Enumerations every service uses the same way."""

from enum import IntEnum


class CommonStatus(IntEnum):
    """Status of a configurable record. Numbers follow yudao (0 enabled, 1 disabled), which
    mall teams migrating from it already store."""

    ENABLED = 0
    DISABLED = 1
