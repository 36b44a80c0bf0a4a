"""Rate limits: token buckets in Redis, checked by a Lua script that takes a token from every
bucket a request counts against, or from none.

A caller is a user (when a valid token came) or an IP. Its buckets share a hash tag
(`{rl:u:42}`, `{rl:ip:1.2.3.4}`). On one Redis server all of a request's buckets go to one
script call (one round trip, and an IP refusal spends none of the user's tokens); on Redis
Cluster (`RATE_LIMIT_CLUSTER_SAFE`) a script cannot span slots, so each hash tag gets its own
call, the IP's first; it is on by itself when REDIS_URL names a cluster (`redis+cluster://`),
where the calls go through redis-py's cluster client (gateway/redis_pipe.py `ClusterRedis`). On
one server, calls made in the same event-loop turn share one write to Redis
(gateway/redis_pipe.py). If Redis is down or slow the gateway lets traffic through: an outage
of the limiter must not become an outage of the mall. A request waits for Redis at most
RATE_LIMIT_TIMEOUT_MS; after a failure requests pass unchecked for RATE_LIMIT_RETRY_SECONDS
before one asks Redis again, and the outage is logged once when it starts and once when it ends.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources

from gateway.redis_pipe import ClusterRedis, PipelinedRedis, RedisReplyError
from gateway.settings import Bucket, GatewaySettings, RouteLimit
from shared.redis import is_cluster_url

log = logging.getLogger("gateway.ratelimit")
SCRIPT = resources.files("gateway").joinpath("ratelimit.lua").read_bytes()
SCRIPT_SHA = hashlib.sha1(SCRIPT).hexdigest().encode()
COMMANDS_KEPT = 50_000  # encoded script calls by (path's rules, user, ip): a crowd repeats itself


@dataclass(frozen=True)
class BucketCheck:
    tag: str
    name: str
    bucket: Bucket

    @property
    def key(self) -> str:
        return f"{{{self.tag}}}:{self.name}"


class RateLimiter:
    def __init__(self, redis: PipelinedRedis | ClusterRedis, settings: GatewaySettings) -> None:
        """`redis` gives up on a reply after RATE_LIMIT_TIMEOUT_MS (see `make_limiter_redis`)."""
        self.redis = redis
        self.settings = settings
        self.failures = 0
        self.down_until = 0.0  # monotonic time; while Redis is out, requests pass without asking it
        self._commands: dict[tuple[str, str, str | None, str], list] = {}

    def checks(self, path: str, method: str, user: str | None, ip: str) -> list[BucketCheck]:
        """`user` is "<role>:<subject>" for a caller with a valid token, else None."""
        s = self.settings
        user_tag, ip_tag = (f"rl:u:{user}" if user else None), f"rl:ip:{ip}"
        default = BucketCheck(user_tag, "all", s.rate_limit_user) if user_tag else None
        found = [default or BucketCheck(ip_tag, "all", s.rate_limit_ip)]
        for rule in s.rate_limit_routes:
            if _applies(rule, path, method):
                # Named by the rule itself, so reordering or editing rules never shares a bucket.
                name = f"route:{','.join(sorted(rule.methods))}:{rule.prefix}"
                if rule.per_user and user_tag:
                    found.append(BucketCheck(user_tag, name, rule.per_user))
                if rule.per_ip:
                    found.append(BucketCheck(ip_tag, name, rule.per_ip))
        return found

    def commands(self, path: str, method: bytes, user: str | None, ip: str) -> list:
        """The EVALSHA calls a request makes (as its client takes them), in order; cached, as they
        depend only on which rules the path matches, the user and the IP."""
        text = method.decode()
        rules = self._rules_key(path, text) if self.settings.rate_limit_routes else ""
        key = (rules, user, ip)
        found = self._commands.get(key)
        if found is None:
            if len(self._commands) >= COMMANDS_KEPT:
                self._commands.clear()
            found = self._commands[key] = [_evalsha(self.redis.command, group)
                                           for group in self._calls(self.checks(path, text, user, ip))]
        return found

    def _rules_key(self, path: str, method: str) -> str:
        """Which rules apply, by their position (the limiter's settings do not change)."""
        rules = self.settings.rate_limit_routes
        return ",".join(str(i) for i, rule in enumerate(rules) if _applies(rule, path, method))

    async def wait_ms(self, commands: list) -> int:
        """0 when the request may pass, else how long the caller should wait."""
        if self.down_until and time.monotonic() < self.down_until:
            return 0
        wait = 0
        try:
            for command in commands:
                reply = await self.redis.send(command)
                if type(reply) is not int:
                    reply = await self._retry(command, reply)
                wait = reply
                if wait:
                    break
        except (RedisReplyError, ConnectionError, OSError, TimeoutError) as exc:
            self._failed(exc)
            return 0
        if self.down_until:
            self.down_until = 0.0
            log.warning("rate limiter: redis is back, requests are limited again")
        return wait

    async def warm_up(self) -> None:
        """Connect and load the script now, so the first requests do not pay for it (a cold
        start slower than RATE_LIMIT_TIMEOUT_MS would let them through unchecked)."""
        try:
            async with asyncio.timeout(5):
                if isinstance(self.redis, ClusterRedis):  # the nodes and slots first, without the reply timeout
                    await self.redis.connect(self.settings.rate_limit_retry_seconds)
                loaded = await self.redis.send(self.redis.command(b"SCRIPT", b"LOAD", SCRIPT))
            if isinstance(loaded, RedisReplyError):
                raise loaded
        except (RedisReplyError, ConnectionError, OSError, TimeoutError) as exc:
            log.warning("rate limiter: could not load the script at start (%r); it is loaded when first needed", exc)

    async def _retry(self, command, reply: object) -> int:
        """The script call did not answer a number: after NOSCRIPT (Redis restarted or flushed
        its scripts) load it and ask again; else the error."""
        if isinstance(reply, RedisReplyError) and str(reply).startswith("NOSCRIPT"):
            loaded = await self.redis.send(self.redis.command(b"SCRIPT", b"LOAD", SCRIPT))
            if isinstance(loaded, RedisReplyError):
                raise loaded
            reply = await self.redis.send(command)
        if isinstance(reply, RedisReplyError):
            raise reply
        return int(reply)

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        if not self.down_until:
            log.warning("rate limiter: redis unavailable (%r); requests pass unchecked until it answers again", exc)
        self.down_until = time.monotonic() + self.settings.rate_limit_retry_seconds

    def _calls(self, checks: list[BucketCheck]) -> list[list[BucketCheck]]:
        if not self.settings.rate_limit_cluster_safe:
            return [checks]
        by_tag: dict[str, list[BucketCheck]] = defaultdict(list)
        for check in sorted(checks, key=lambda c: not c.tag.startswith("rl:ip:")):
            by_tag[check.tag].append(check)
        return list(by_tag.values())


def make_limiter_redis(settings: GatewaySettings) -> PipelinedRedis | ClusterRedis:
    timeout = settings.rate_limit_timeout_ms / 1000
    if is_cluster_url(settings.redis_url):
        return ClusterRedis(settings.redis_url, reply_timeout=timeout)
    return PipelinedRedis(settings.redis_url, reply_timeout=timeout)


def _evalsha(command, group: list[BucketCheck]):
    args: list[float | str] = []
    for check in group:
        args += [check.bucket.rate, check.bucket.burst]
    return command(b"EVALSHA", SCRIPT_SHA, len(group), *(c.key for c in group), *args)


def _applies(rule: RouteLimit, path: str, method: str) -> bool:
    return path.startswith(rule.prefix) and (not rule.methods or method in rule.methods)
