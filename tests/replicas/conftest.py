"""The in-process apps the replica tests start their processes next to: the same session fixtures
as each service's own tests (a service's replicas share its database, Redis and broker)."""

from __future__ import annotations

from tests.bargain.conftest import bargain_app, members  # noqa: F401  (fixtures)
from tests.groupbuy.conftest import groupbuy_app  # noqa: F401  (a fixture)
from tests.points.conftest import points_app  # noqa: F401  (a fixture)
from tests.pricing.conftest import (  # noqa: F401  (fixtures: pricing calls the services above)
    bargain_url,
    coupon_app,
    coupons,
    groupbuy_url,
    points_url,
    pricing_app,
    seckill_url,
)
from tests.seckill.conftest import seckill_app  # noqa: F401  (a fixture: pricing calls the seckill service)
from tests.voucher.conftest import people, voucher_app  # noqa: F401  (fixtures)
