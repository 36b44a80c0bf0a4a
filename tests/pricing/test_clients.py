"""The coupon service's answer read by CouponClient: line indexes outside the lines sent are dropped."""

from __future__ import annotations

from services.pricing.clients import _known_lines


def test_only_indexes_of_lines_sent_are_kept_in_their_order():
    assert _known_lines([], 3) == ()
    assert _known_lines([0, 2, 1], 3) == (0, 2, 1)
    assert _known_lines([0, 3, 2], 3) == (0, 2)
    assert _known_lines([-1, 1], 3) == (1,)
    assert _known_lines([5, 7], 3) == ()
