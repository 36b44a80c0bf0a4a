"""What a 422 VALIDATION_FAILED says of each field, in the caller's language.

pydantic reports each problem with a `type` (`missing`, `greater_than_equal`, ...) and a `ctx`
(`{"ge": 1}`); its own `msg` is English only. Each type a client may meet has a Reason here, its
placeholders filled from `ctx`. A schema's own check raises `invalid(REASON)`, with a Reason
declared by `check_reason(...)`, so its text is translated the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError

from shared.errors import Reason

_DATETIME = Reason("DATETIME", en="should be a date and time with an offset (ISO 8601), e.g. 2026-01-31T08:00:00+08:00",
                   zh="须为带时区的日期时间（ISO 8601），例如 2026-01-31T08:00:00+08:00")
_DATE = Reason("DATE", en="should be a date, e.g. 2026-01-31", zh="须为日期，例如 2026-01-31")
_TIME = Reason("TIME", en="should be a time, e.g. 08:00:00", zh="须为时间，例如 08:00:00")
_INTEGER = Reason("INTEGER", en="should be an integer (a JSON number)", zh="须为整数")
_URL = Reason("URL", en="should be a URL", zh="须为网址")
_OBJECT = Reason("OBJECT", en="should be an object", zh="须为对象")
_ONE_OF = Reason("ONE_OF", en="should be one of {expected}", zh="须为以下之一：{expected}")

BY_TYPE: dict[str, Reason] = {
    "missing": Reason("MISSING", en="is required", zh="必填"),
    "extra_forbidden": Reason("EXTRA_FORBIDDEN", en="is not a known field", zh="不是可用的字段"),
    "int_type": _INTEGER, "int_parsing": _INTEGER, "int_from_float": _INTEGER,
    "float_type": Reason("NUMBER", en="should be a number", zh="须为数字"),
    "bool_type": Reason("BOOLEAN", en="should be a boolean (true or false)", zh="须为布尔值"),
    "bool_parsing": Reason("BOOLEAN_TEXT", en="should be true or false", zh="须为布尔值"),
    "string_type": Reason("STRING", en="should be a string", zh="须为字符串"),
    "string_too_short": Reason("TOO_SHORT", en="should have at least {min_length} characters",
                               zh="至少 {min_length} 个字符"),
    "string_too_long": Reason("TOO_LONG", en="should have at most {max_length} characters",
                              zh="最多 {max_length} 个字符"),
    "string_pattern_mismatch": Reason("PATTERN", en="should match {pattern}", zh="格式不正确，须符合 {pattern}"),
    "greater_than_equal": Reason("AT_LEAST", en="should be at least {ge}", zh="不能小于 {ge}"),
    "greater_than": Reason("ABOVE", en="should be greater than {gt}", zh="须大于 {gt}"),
    "less_than_equal": Reason("AT_MOST", en="should be at most {le}", zh="不能大于 {le}"),
    "less_than": Reason("BELOW", en="should be less than {lt}", zh="须小于 {lt}"),
    "too_short": Reason("TOO_FEW", en="should have at least {min_length} items", zh="至少 {min_length} 项"),
    "too_long": Reason("TOO_MANY", en="should have at most {max_length} items", zh="最多 {max_length} 项"),
    "enum": _ONE_OF, "literal_error": _ONE_OF,
    "datetime_type": _DATETIME, "datetime_parsing": _DATETIME, "datetime_from_date_parsing": _DATETIME,
    "timezone_aware": Reason("TIMEZONE_AWARE", en="should have a timezone offset, e.g. +08:00",
                             zh="须带时区，例如 +08:00"),
    "date_type": _DATE, "date_parsing": _DATE, "date_from_datetime_parsing": _DATE,
    "time_type": _TIME, "time_parsing": _TIME,
    "url_type": _URL, "url_parsing": _URL, "url_scheme": _URL,
    "json_invalid": Reason("JSON_INVALID", en="is not valid JSON", zh="不是合法的 JSON"),
    "model_type": _OBJECT, "model_attributes_type": _OBJECT, "dict_type": _OBJECT,
    "list_type": Reason("ARRAY", en="should be an array", zh="须为数组"),
    "value_error": Reason("INVALID_VALUE", en="is not valid", zh="取值不正确"),
}

_CHECKS: dict[str, Reason] = {}


def check_reason(code: str, *, en: str, zh: str) -> Reason:
    """A schema's own check (an AfterValidator): declare its Reason once, raise `invalid(it)`."""
    reason = _CHECKS[code] = Reason(code, en=en, zh=zh)
    return reason


def invalid(reason: Reason) -> PydanticCustomError:
    return PydanticCustomError(reason.code, reason.texts["en"])


def message(error: dict[str, Any], locale: str) -> str:
    """One problem pydantic found, as the caller reads it."""
    reason = _CHECKS.get(error["type"]) or BY_TYPE.get(error["type"])
    if reason is None:
        return error["msg"]
    context = {name: _plain(value) for name, value in (error.get("ctx") or {}).items()}
    return reason.with_(**context).render(locale)


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float) else str(value)


EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
IN_RANGE = check_reason("DATE_TIME_IN_RANGE", en="should be between 2000 and 2100", zh="须在 2000 年至 2100 年之间")


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise invalid(IN_RANGE)
    return value


# A moment a person sets (a window's start or end): with its offset, and far from the calendar's
# edges, where converting it to UTC (or adding a validity to it) would overflow.
Moment = Annotated[AwareDatetime, AfterValidator(_in_range)]
