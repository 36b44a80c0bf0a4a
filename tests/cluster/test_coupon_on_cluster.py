"""The coupon rush on the Redis Cluster (its quota gate in front of the database), with the coupon
folder's own tests: the rush, Redis flushed mid-rush, warm-up at start and reconciliation."""

from __future__ import annotations

import asyncio

from shared.quota_gate import QuotaGate
from shared.redis import make_redis
from tests.conftest import free_port
from tests.coupon.conftest import client  # noqa: F401 - the coupon folder's fixture, on the cluster
from tests.coupon.test_api import make_template, take
from tests.coupon.test_rush import (  # noqa: F401 - collected here, run on the cluster
    in_database,
    test_300_users_for_50_coupons_get_50_and_redis_agrees,
    test_a_take_refused_in_redis_never_reaches_the_database,
    test_keys_of_a_template_with_fixed_dates_expire_a_day_after_its_end,
    test_merchant_templates_are_gated_too,
    test_more_stock_given_mid_rush_is_honoured,
    test_one_user_racing_30_takes_with_limit_2_gets_2,
    test_one_user_racing_with_redis_flushed_still_gets_2,
    test_redis_down_the_database_decides_alone,
    test_redis_flushed_mid_rush_is_rebuilt_and_the_result_stays_exact,
    test_start_and_reconciliation_rebuild_redis_from_the_database,
    test_template_writes_reload_redis,
    test_the_database_never_over_issues_when_redis_has_too_much_stock,
    test_what_the_database_refuses_is_given_back_in_redis,
)


async def test_the_app_talks_to_the_cluster(coupon_app, redis_cluster):
    assert coupon_app.state.settings.redis_url == redis_cluster.url
    assert type(coupon_app.state.redis).__name__ == "WaitingCluster"


async def test_a_cluster_nobody_answers_leaves_the_database_to_decide(client, tokens, coupon_app):  # noqa: F811
    """test_redis_down_the_database_decides_alone, with a cluster client: redis-py's
    RedisClusterException (no RedisError) became a ConnectionError, the "Redis is down" path."""
    template = await make_template(client, tokens, total_count=3, take_limit_count=2)
    gate = coupon_app.state.rush.templates.gate
    working, gate.redis = gate.redis, make_redis(f"redis+cluster://127.0.0.1:{free_port()}")
    scripts = {name: getattr(gate, name) for name in ("_reserve", "_release")}
    down = QuotaGate(gate.redis, "tpl", 1.0)
    gate._reserve, gate._release = down._reserve, down._release
    try:
        responses = await asyncio.gather(*(take(client, template["id"], tokens["member"]) for _ in range(5)))
        assert [r.status_code for r in responses].count(201) == 2, [r.text for r in responses]
        other = await take(client, template["id"], tokens["other_member"])
        assert other.status_code == 201
    finally:
        await gate.redis.aclose()
        gate.redis = working
        gate._reserve, gate._release = scripts["_reserve"], scripts["_release"]
    assert await in_database(coupon_app, template["id"]) == (3, 3)
