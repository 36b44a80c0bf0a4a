"""Seckill on the Redis Cluster: the flash crowd, cancels and payments, the repair of a user's
count and the reconciliation, with the seckill folder's own tests and helpers (their `redis` and
REDIS_URL are this folder's cluster; `seckill_app` is tests/cluster/conftest.py's)."""

from __future__ import annotations

from tests.seckill.conftest import client  # noqa: F401 - the seckill folder's fixture, on the cluster
from tests.seckill.test_reconcile import (  # noqa: F401 - collected here, run on the cluster
    test_a_drift_seen_once_is_left_and_seen_twice_is_reloaded,
    test_an_activity_missing_from_redis_is_loaded_by_the_first_round,
    test_the_admin_endpoint_reloads_a_drift_at_once,
)
from tests.seckill.test_reservations import (  # noqa: F401
    test_2000_attempts_by_500_users_on_stock_100_sell_exactly_100,
    test_a_reservation_follows_the_rules_and_a_repeated_key_gets_the_first_answer,
    test_cancel_and_expiry_give_stock_back_exactly_once,
    test_paid_orders_keep_their_stock,
)
from tests.seckill.test_user_repair import (  # noqa: F401
    test_a_buyer_locked_out_by_a_crash_leftover_is_served_at_once,
    test_a_count_without_a_token_is_lowered_to_mysqls_and_a_real_limit_still_refuses,
    test_a_retry_of_a_request_that_died_before_mysql_runs_again,
    test_tokens_mysql_released_or_paid_are_given_back_or_dropped,
)


async def test_the_app_talks_to_the_cluster(seckill_app, client, redis_cluster):  # noqa: F811
    assert seckill_app.state.settings.redis_url == redis_cluster.url
    assert type(seckill_app.state.redis).__name__ == "WaitingCluster"
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["redis"] == "ok", ready.text
