"""The crowd filter in Redis: one Lua script checks stock, the user's total and the order limit
and reserves atomically, so most of a flash crowd is turned away without reaching MySQL.

Keys of one activity share the hash tag `{sk:<id>}` (Redis Cluster runs a script on one slot):
`stock` (sku -> left), `users` (user -> held or bought), `held` (token -> "sku:user:count:since",
the reservations Redis counts, which makes a release count once; `since` is Redis's clock when it
was taken, absent for those loaded from MySQL; ages are measured by Redis's clock too, never this
host's) and `warm` (the stock was loaded).
MySQL stays the final guard (flows/writer.py); Redis is derived from it by `load` (warm-up and
reconciliation, flows/reconcile.py), and one user's count is repaired on the spot by `repair_user`
(flows/reservations.py decides when, flows/repair.py how).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.redis import entity_key, load_lua

# What an unreachable Redis raises (redis-py's own ConnectionError/TimeoutError are RedisErrors)
REDIS_DOWN = (RedisError, OSError)


class Verdict(IntEnum):
    RESERVED = 0
    NOT_LOADED = -1
    REPLAY = -2
    NOT_IN_ACTIVITY = -3
    SOLD_OUT = -4
    USER_LIMIT = -5
    ORDER_LIMIT = -6
    NOT_ENOUGH = -7  # some left, fewer than asked for


@dataclass(frozen=True)
class Answer:
    verdict: Verdict
    left: int  # the stock left after a reservation; what is left for NOT_ENOUGH (and USER_LIMIT)


@dataclass(frozen=True)
class Held:
    """A reservation Redis counts."""

    count: int
    age: int | None  # seconds since Redis took it, by Redis's clock; None for those loaded from MySQL

    @classmethod
    def parse(cls, value: bytes | str, redis_now: int) -> tuple[int, Held]:
        """(user, held) from "sku:user:count[:since]", `redis_now` being Redis's TIME (this host's
        clock may differ from the one that stamped it)."""
        _, user, count, *since = _text(value).split(":")
        return int(user), cls(int(count), redis_now - int(since[0]) if since else None)


@dataclass(frozen=True)
class Loaded:
    """What Redis should hold for an activity, as derived from MySQL."""

    stock: Mapping[int, int]  # sku -> left
    users: Mapping[int, int]  # user -> held + bought
    held: Mapping[str, str]  # token -> "sku:user:count" of the HELD reservations


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def keys(activity_id: int) -> list[str]:
    return [entity_key("sk", activity_id, part) for part in ("stock", "users", "held", "warm")]


class StockFilter:
    def __init__(self, redis: Redis, sold_out_seconds: float) -> None:
        self.redis = redis
        self._reserve = load_lua(redis, "services.seckill", "reserve.lua")
        self._release = load_lua(redis, "services.seckill", "release.lua")
        self._repair = load_lua(redis, "services.seckill", "repair.lua")
        self._take_again = load_lua(redis, "services.seckill", "take_again.lua")
        self._sold_out: dict[tuple[int, int], float] = {}  # (activity, sku) -> until (monotonic)
        self._at_limit: dict[tuple[int, int], float] = {}  # (activity, user) -> until: MySQL said so
        self._sold_out_seconds = sold_out_seconds
        self._in_flight: Counter[str] = Counter()  # tokens of this process's requests between Redis and MySQL

    def known_sold_out(self, activity_id: int, sku_id: int) -> bool:
        """Sold out a moment ago in this process: answer without asking Redis. The flag is short
        lived, as a cancelled order puts stock back."""
        until = self._sold_out.get((activity_id, sku_id))
        return until is not None and time.monotonic() < until

    async def reserve(self, activity_id: int, token: str, sku_id: int, user_id: int, count: int,
                      user_limit: int, order_limit: int) -> Answer:
        """RESERVED and the stock left, or why not. Only "nothing left" flags the SKU sold out: a
        request larger than what is left says nothing of the next, smaller one."""
        verdict, left = await self._reserve(keys=keys(activity_id),
                                            args=[token, sku_id, user_id, count, user_limit, order_limit])
        answer = Answer(Verdict(int(verdict)), int(left))
        if answer.verdict == Verdict.SOLD_OUT:
            self._sold_out[(activity_id, sku_id)] = time.monotonic() + self._sold_out_seconds
        return answer

    async def release(self, activity_id: int, token: str) -> bool:
        """The reservation's stock goes back (once, however often this is called)."""
        self._forget_flags(activity_id)
        return bool(await self._release(keys=keys(activity_id)[:3], args=[token, "1"]))

    @contextmanager
    def flying(self, token: str) -> Iterator[None]:
        """The request with this token is on its way through Redis to MySQL in this process."""
        self._in_flight[token] += 1
        try:
            yield
        finally:
            self._in_flight[token] -= 1
            if self._in_flight[token] <= 0:
                del self._in_flight[token]

    def in_flight(self, token: str, *, besides_me: bool = False) -> bool:
        """Some request of this process (besides the caller's, itself in `flying`) has the token
        between Redis and MySQL."""
        return self._in_flight.get(token, 0) > (1 if besides_me else 0)

    def known_at_limit(self, activity_id: int, user_id: int) -> bool:
        """MySQL confirmed a moment ago that the user is at the limit: no need to ask it again."""
        until = self._at_limit.get((activity_id, user_id))
        return until is not None and time.monotonic() < until

    def remember_at_limit(self, activity_id: int, user_id: int) -> None:
        if len(self._at_limit) > 100_000:
            self._at_limit.clear()
        self._at_limit[(activity_id, user_id)] = time.monotonic() + self._sold_out_seconds

    async def held_by(self, activity_id: int, user_id: int) -> dict[str, Held]:
        """token -> the user's reservations Redis holds (a scan of the held hash: only on the rare
        path where Redis and MySQL disagree on the user). Ages by Redis's clock before the scan."""
        redis_now = (await self.redis.time())[0]
        found = {}
        async for token, value in self.redis.hscan_iter(keys(activity_id)[2], count=1000):
            holder, held = Held.parse(value, redis_now)
            if holder == user_id:
                found[_text(token)] = held
        return found

    async def held(self, activity_id: int, token: str) -> Held | None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hget(keys(activity_id)[2], token)
            pipe.time()
            value, (redis_now, _) = await pipe.execute()
        return None if value is None else Held.parse(value, redis_now)[1]

    async def repair_user(self, activity_id: int, user_id: int, counted: int, give_back: list[str],
                          final: list[str]) -> int:
        """Atomically: `give_back` tokens return their stock and count, `final` ones stop being
        held, and the user's count is lowered to `counted` if above it. The user's count after."""
        self._forget_flags(activity_id)
        return int(await self._repair(keys=keys(activity_id)[:3],
                                      args=[user_id, counted, len(give_back), *give_back, *final]))

    async def take_again(self, activity_id: int, token: str, sku_id: int, user_id: int, count: int) -> None:
        """A payment that came after its reservation gave the stock back took it again in MySQL:
        Redis follows (the caller makes sure this runs once: MySQL's state change)."""
        await self._take_again(keys=keys(activity_id)[:3], args=[token, sku_id, user_id, count])

    def _forget_flags(self, activity_id: int) -> None:
        """Stock or a user's count went back: what this process remembered may be stale."""
        self._sold_out = {key: until for key, until in self._sold_out.items() if key[0] != activity_id}
        self._at_limit = {key: until for key, until in self._at_limit.items() if key[0] != activity_id}

    async def restock(self, activity_id: int, sku_id: int, user_id: int, count: int) -> None:
        """A paid reservation given back (the order was closed after payment). Redis no longer
        tracks it by token: the caller makes sure this runs once (MySQL's state change)."""
        stock, users, _, _ = keys(activity_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(stock, str(sku_id), count)
            pipe.hincrby(users, str(user_id), -count)
            await pipe.execute()
        self._forget_flags(activity_id)

    async def commit(self, activity_id: int, token: str) -> None:
        """The reservation is final: it stays counted, it is no longer held."""
        await self._release(keys=keys(activity_id)[:3], args=[token, "0"])

    async def load(self, activity_id: int, loaded: Loaded) -> None:
        """Replace the activity's keys with what MySQL says, in one MULTI/EXEC."""
        stock, users, held, warm = keys(activity_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(stock, users, held, warm)
            if loaded.stock:
                pipe.hset(stock, mapping=dict(loaded.stock))
            if loaded.users:
                pipe.hset(users, mapping=dict(loaded.users))
            if loaded.held:
                pipe.hset(held, mapping=dict(loaded.held))
            pipe.set(warm, "1")
            await pipe.execute()
        self._forget_flags(activity_id)

    async def unload(self, activity_id: int) -> None:
        await self.redis.delete(*keys(activity_id))

    async def stock_left(self, activity_id: int) -> dict[int, int] | None:
        """sku -> left, as Redis has it; None when the activity is not loaded."""
        stock, _, _, warm = keys(activity_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(warm)
            pipe.hgetall(stock)
            is_warm, left = await pipe.execute()
        if not is_warm:
            return None
        return {int(sku): int(value) for sku, value in left.items()}
