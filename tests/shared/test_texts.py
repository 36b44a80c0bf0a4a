"""Every text a person reads exists in zh-CN and en, and the zh-CN one is Chinese: every error
class, every declared Reason and every {"en", "zh-CN"} table of every module of the suite."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

import pytest

import gateway
import services
import shared
from shared.errors import DomainError, Reason

CJK = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"\{[^}]*\}")
# Words that stay Latin in Chinese texts too.
LATIN_ALLOWED = {"SKU", "SPU", "ID", "URL", "API", "JSON", "HTTP", "Content-Type", "X-Device-Id", "Idempotency-Key",
                 "Token", "Bearer", "Accept-Language", "Redis", "Kafka", "ISO", "http", "https"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z_-]*[A-Za-z]")  # a single letter (the T of a time) is no word


def modules() -> Iterator[Any]:
    for package in (shared, gateway, services):
        yield package
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if ".migrations" in info.name:
                continue
            yield importlib.import_module(info.name)


def texts() -> Iterator[tuple[str, dict[str, str]]]:
    """(where, {"en": ..., "zh-CN": ...}) for everything declared at module or class level."""
    seen: set[int] = set()

    def walk(where: str, value: Any) -> Iterator[tuple[str, dict[str, str]]]:
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, type) and issubclass(value, DomainError):
            yield f"{value.__module__}.{value.__qualname__}", value.messages
        elif isinstance(value, Reason):
            yield f"{where} {value.code}", value.texts
        elif isinstance(value, dict):
            if set(value) == {"en", "zh-CN"}:
                yield where, value
            else:
                for key, item in value.items():
                    yield from walk(f"{where}[{key!r}]", item)
        elif isinstance(value, list | tuple):
            for item in value:
                yield from walk(where, item)

    for module in modules():
        for name, value in vars(module).items():
            yield from walk(f"{module.__name__}.{name}", value)


ALL_TEXTS = sorted(texts(), key=lambda t: t[0])


def latin_words(zh: str) -> list[str]:
    return [w for w in LATIN_WORD.findall(PLACEHOLDER.sub("", zh)) if w not in LATIN_ALLOWED]


def test_the_walk_finds_the_suites_texts():
    assert len(ALL_TEXTS) > 100


@pytest.mark.parametrize("where, text", ALL_TEXTS, ids=[where for where, _ in ALL_TEXTS])
def test_every_text_is_in_chinese_and_english(where, text):
    zh, en = text.get("zh-CN", ""), text.get("en", "")
    assert zh and en, f"{where}: both languages are needed"
    assert CJK.search(zh), f"{where}: the zh-CN text has no Chinese: {zh!r}"
    assert not latin_words(zh), f"{where}: English in the zh-CN text: {latin_words(zh)} in {zh!r}"
    assert not CJK.search(PLACEHOLDER.sub("", en)), f"{where}: Chinese in the en text: {en!r}"
    assert set(PLACEHOLDER.findall(zh)) == set(PLACEHOLDER.findall(en)), f"{where}: placeholders differ"


def test_a_reason_inside_an_error_speaks_the_callers_language():
    class Invalid(DomainError):
        code = "THING_INVALID"
        messages = {"en": "Invalid: {reason}", "zh-CN": "不正确：{reason}"}

    too_big = Reason("TOO_BIG", en="{name} is above {limit}", zh="{name} 超过 {limit}")
    error = Invalid(reason=too_big.with_(name="count", limit=3))
    assert error.message("zh-CN") == "不正确：count 超过 3"
    assert error.body("en")["error"] == {"code": "THING_INVALID", "message": "Invalid: count is above 3",
                                         "details": {"reason": "count is above 3", "reason_code": "TOO_BIG"}}
    listed = Invalid(reason=[too_big.with_(name="a", limit=1), Reason("NONE", en="nothing", zh="无")])
    assert listed.message("zh-CN") == "不正确：a 超过 1；无"
    assert listed.body("zh-CN")["error"]["details"]["reason_codes"] == ["TOO_BIG", "NONE"]
