"""The gateway's cache of verified tokens: bounded, least recently used out first, never past a
token's expiry; keys prepared once still refuse what they must."""

from __future__ import annotations

import time

import pytest

from gateway.tokens import TokenCache
from shared.auth import Role, TokenVerifier, issue_token
from shared.errors import InvalidToken
from shared.settings import CommonSettings


def settings(**values) -> CommonSettings:
    return CommonSettings(_env_file=None, env="test", **values)


def bearer(subject: int, ttl: int = 3600, **values) -> str:
    return "Bearer " + issue_token(settings(**values), subject, Role.MEMBER, ttl_seconds=ttl)


def test_the_cache_keeps_the_most_recently_used_tokens_up_to_its_size():
    cache = TokenCache(TokenVerifier(settings()), size=2)
    first, second, third = bearer(1), bearer(2), bearer(3)
    assert cache.principal(first).subject == "1" and cache.principal(second).subject == "2"
    cache.principal(first)  # used again: the second is now the oldest
    cache.principal(third)
    assert list(cache._known) == [first, third]


def test_a_cached_token_is_refused_once_it_expires():
    cache = TokenCache(TokenVerifier(settings(jwt_leeway_seconds=0)))
    token = bearer(7, ttl=1)
    assert cache.principal(token).subject == "7"
    time.sleep(1.1)
    with pytest.raises(InvalidToken):
        cache.principal(token)


def test_tokens_signed_with_another_secret_or_tampered_are_refused_after_good_ones_were_cached():
    cache = TokenCache(TokenVerifier(settings()))
    good = bearer(5)
    assert cache.principal(good).subject == "5"
    other = bearer(5, jwt_secret="another-secret-0123456789abcdef0123456789")
    header, payload, signature = good.split(".")
    tampered = ".".join([header, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], signature])
    for token in (other, tampered, "Bearer not.a.token", "Basic abc"):
        with pytest.raises(InvalidToken):
            cache.principal(token)
    assert cache.principal(None) is None and cache.principal(good).subject == "5"
