"""A quota gate in Redis in front of the database: one Lua script per attempt checks the stock left,
the user's count and the order limit and reserves atomically, so most of a crowd is turned away
without reaching the database, which stays the final guard (its conditional updates).

Used by seckill (an activity: items are its SKUs) and by the coupon rush (a self-take template:
one item, its remaining stock). Keys of one entity share the hash tag `{<entity>:<id>}` (Redis
Cluster runs a script on one slot): `stock` (item -> left), `users` (user -> held or taken),
`held` (token -> "item:user:count:since", the reservations Redis counts, which makes a release
count once; `since` is Redis's clock when it was taken, absent for those loaded from the
database; ages are measured by Redis's clock too, never this host's) and `warm` (the stock was
loaded). Redis is derived from the database by `load` (warm-up, reconciliation, a rebuild after
Redis lost the keys); the caller decides when.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
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
    NOT_IN_ENTITY = -3
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
    age: int | None  # seconds since Redis took it, by Redis's clock; None for those loaded from the database

    @classmethod
    def parse(cls, value: bytes | str, redis_now: int) -> tuple[int, Held]:
        """(user, held) from "item:user:count[:since]", `redis_now` being Redis's TIME (this host's
        clock may differ from the one that stamped it)."""
        _, user, count, *since = _text(value).split(":")
        return int(user), cls(int(count), redis_now - int(since[0]) if since else None)


@dataclass(frozen=True)
class Loaded:
    """What Redis should hold for an entity, as derived from the database."""

    stock: Mapping[int, int]  # item -> left
    users: Mapping[int, int]  # user -> held + taken
    held: Mapping[str, str]  # token -> "item:user:count" of the reservations still held


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def gate_keys(entity: str, entity_id: int) -> list[str]:
    """stock, users, held, warm of one entity, on one hash tag."""
    return [entity_key(entity, entity_id, part) for part in ("stock", "users", "held", "warm")]


def _script(redis: Redis, name: str):
    return load_lua(redis, "shared", f"quota_gate_{name}.lua")


class QuotaGate:
    """The gate of every entity of one kind (`entity`: the hash tag's prefix, "sk" or "tpl")."""

    def __init__(self, redis: Redis, entity: str, sold_out_seconds: float) -> None:
        self.redis = redis
        self.entity = entity
        self._reserve = _script(redis, "reserve")
        self._release = _script(redis, "release")
        self._repair = _script(redis, "repair")
        self._take_again = _script(redis, "take_again")
        self._clock = _script(redis, "clock")
        self._sold_out: dict[tuple[int, int], float] = {}  # (entity, item) -> until (monotonic)
        self._at_limit: dict[tuple[int, int], float] = {}  # (entity, user) -> until: the database said so
        self._sold_out_seconds = sold_out_seconds
        self._in_flight: Counter[str] = Counter()  # tokens of this process's requests between Redis and the database

    def keys(self, entity_id: int) -> list[str]:
        return gate_keys(self.entity, entity_id)

    def known_sold_out(self, entity_id: int, item: int) -> bool:
        """Sold out a moment ago in this process: answer without asking Redis. The flag is short
        lived, as stock may come back."""
        until = self._sold_out.get((entity_id, item))
        return until is not None and time.monotonic() < until

    def remember_sold_out(self, entity_id: int, item: int) -> None:
        self._sold_out[(entity_id, item)] = time.monotonic() + self._sold_out_seconds

    async def reserve(self, entity_id: int, token: str, item: int, user_id: int, count: int,
                      user_limit: int, order_limit: int) -> Answer:
        """RESERVED and the stock left, or why not (limits: 0 for none). Only "nothing left" flags
        the item sold out: a request larger than what is left says nothing of the next, smaller one."""
        verdict, left = await self._reserve(keys=self.keys(entity_id),
                                            args=[token, item, user_id, count, user_limit, order_limit])
        answer = Answer(Verdict(int(verdict)), int(left))
        if answer.verdict == Verdict.SOLD_OUT:
            self.remember_sold_out(entity_id, item)
        return answer

    async def release(self, entity_id: int, token: str) -> bool:
        """The reservation's stock goes back (once, however often this is called)."""
        self._forget_flags(entity_id)
        return bool(await self._release(keys=self.keys(entity_id)[:3], args=[token, "1"]))

    @contextmanager
    def flying(self, token: str) -> Iterator[None]:
        """The request with this token is on its way through Redis to the database in this process."""
        self._in_flight[token] += 1
        try:
            yield
        finally:
            self._in_flight[token] -= 1
            if self._in_flight[token] <= 0:
                del self._in_flight[token]

    def in_flight(self, token: str, *, besides_me: bool = False) -> bool:
        """Some request of this process (besides the caller's, itself in `flying`) has the token
        between Redis and the database."""
        return self._in_flight.get(token, 0) > (1 if besides_me else 0)

    def known_at_limit(self, entity_id: int, user_id: int) -> bool:
        """The database confirmed a moment ago that the user is at the limit: no need to ask it again."""
        until = self._at_limit.get((entity_id, user_id))
        return until is not None and time.monotonic() < until

    def remember_at_limit(self, entity_id: int, user_id: int) -> None:
        if len(self._at_limit) > 100_000:
            self._at_limit.clear()
        self._at_limit[(entity_id, user_id)] = time.monotonic() + self._sold_out_seconds

    async def held_by(self, entity_id: int, user_id: int) -> dict[str, Held]:
        """token -> the user's reservations Redis holds (a scan of the held hash: only on the rare
        path where Redis and the database disagree on the user). Ages by Redis's clock before the scan."""
        redis_now, *_ = await self._clock(keys=self.keys(entity_id)[2:3], args=[""])
        found = {}
        async for token, value in self.redis.hscan_iter(self.keys(entity_id)[2], count=1000):
            holder, held = Held.parse(value, int(redis_now))
            if holder == user_id:
                found[_text(token)] = held
        return found

    async def held(self, entity_id: int, token: str) -> Held | None:
        redis_now, value = await self._clock(keys=self.keys(entity_id)[2:3], args=[token])  # one node's clock
        return None if value is None else Held.parse(value, int(redis_now))[1]

    async def repair_user(self, entity_id: int, user_id: int, counted: int, give_back: list[str],
                          final: list[str]) -> int:
        """Atomically: `give_back` tokens return their stock and count, `final` ones stop being
        held, and the user's count is lowered to `counted` if above it. The user's count after."""
        self._forget_flags(entity_id)
        return int(await self._repair(keys=self.keys(entity_id)[:3],
                                      args=[user_id, counted, len(give_back), *give_back, *final]))

    async def take_again(self, entity_id: int, token: str, item: int, user_id: int, count: int) -> None:
        """A reservation that gave its stock back was taken again in the database: Redis follows
        (the caller makes sure this runs once: the database's state change)."""
        await self._take_again(keys=self.keys(entity_id)[:3], args=[token, item, user_id, count])

    def _forget_flags(self, entity_id: int) -> None:
        """Stock or a user's count went back: what this process remembered may be stale."""
        self._sold_out = {key: until for key, until in self._sold_out.items() if key[0] != entity_id}
        self._at_limit = {key: until for key, until in self._at_limit.items() if key[0] != entity_id}

    async def restock(self, entity_id: int, item: int, user_id: int, count: int) -> None:
        """A final reservation given back. Redis no longer tracks it by token: the caller makes
        sure this runs once (the database's state change)."""
        stock, users, _, _ = self.keys(entity_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hincrby(stock, str(item), count)
            pipe.hincrby(users, str(user_id), -count)
            await pipe.execute()
        self._forget_flags(entity_id)

    async def commit(self, entity_id: int, token: str) -> None:
        """The reservation is final: it stays counted, it is no longer held."""
        await self._release(keys=self.keys(entity_id)[:3], args=[token, "0"])

    async def settle(self, entity_id: int, *, kept: list[str], given_back: list[str]) -> None:
        """Many reservations at once, in one round trip: `kept` ones are final (`commit`),
        `given_back` ones return their stock (`release`)."""
        if not kept and not given_back:
            return
        if given_back:
            self._forget_flags(entity_id)
        entity_keys = self.keys(entity_id)[:3]
        async with self.redis.pipeline(transaction=False) as pipe:
            for tokens, give_back in ((kept, "0"), (given_back, "1")):
                for token in tokens:
                    await self._release(keys=entity_keys, args=[token, give_back], client=pipe)
            await pipe.execute()

    async def load(self, entity_id: int, loaded: Loaded, *, expire_at: datetime | None = None) -> None:
        """Replace the entity's keys with what the database says, in one MULTI/EXEC; with
        `expire_at` (when the entity can no longer be reserved), Redis drops them then itself."""
        keys = self.keys(entity_id)
        stock, users, held, warm = keys
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(*keys)
            if loaded.stock:
                pipe.hset(stock, mapping=dict(loaded.stock))
            if loaded.users:
                pipe.hset(users, mapping=dict(loaded.users))
            if loaded.held:
                pipe.hset(held, mapping=dict(loaded.held))
            pipe.set(warm, "1")
            if expire_at is not None:
                for key in keys:
                    pipe.expireat(key, expire_at)
            await pipe.execute()
        self._forget_flags(entity_id)

    async def unload(self, entity_id: int) -> None:
        await self.redis.delete(*self.keys(entity_id))
        self._forget_flags(entity_id)

    async def stock_left(self, entity_id: int) -> dict[int, int] | None:
        """item -> left, as Redis has it; None when the entity is not loaded."""
        stock, _, _, warm = self.keys(entity_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.exists(warm)
            pipe.hgetall(stock)
            is_warm, left = await pipe.execute()
        if not is_warm:
            return None
        return {int(item): int(value) for item, value in left.items()}
