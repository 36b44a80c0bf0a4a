"""The activity lifecycle the group-buy, bargain and points services share, with their own errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.bargain import domain as bargain
from services.groupbuy import domain as groupbuy
from services.points import domain as points
from shared.enums import CommonStatus
from shared.lifecycle import windows_overlap

NOW = datetime(2026, 12, 2, 8, tzinfo=UTC)
HOUR = timedelta(hours=1)
ON, OFF = CommonStatus.ENABLED, CommonStatus.DISABLED


def test_windows_are_half_open():
    assert windows_overlap(NOW, NOW + HOUR, NOW + HOUR / 2, NOW + 2 * HOUR)
    assert windows_overlap(NOW, NOW + 2 * HOUR, NOW + HOUR / 2, NOW + HOUR), "one inside the other"
    assert not windows_overlap(NOW, NOW + HOUR, NOW + HOUR, NOW + 2 * HOUR), "end meets start"
    assert not windows_overlap(NOW + HOUR, NOW + 2 * HOUR, NOW, NOW + HOUR)


@pytest.mark.parametrize("service", [points, bargain, groupbuy], ids=["points", "bargain", "groupbuy"])
def test_each_service_raises_its_own_errors(service):
    service.check_can_update(ON)
    service.check_can_close(ON)
    with pytest.raises(service.ActivityClosed):
        service.check_can_update(OFF)
    with pytest.raises(service.AlreadyClosed):
        service.check_can_close(OFF)


@pytest.mark.parametrize("service", [points, bargain], ids=["points", "bargain"])
def test_delete_once_closed_or_ended_and_running_only_within_the_window(service):
    with pytest.raises(service.DeleteRefused):
        service.check_can_delete(ON, NOW + HOUR, NOW)
    service.check_can_delete(OFF, NOW + HOUR, NOW)
    service.check_can_delete(ON, NOW, NOW)  # ended at this very moment
    lifecycle = service.rules.LIFECYCLE
    lifecycle.check_running(ON, NOW, NOW + HOUR, NOW)
    for status, start, end, error in ((OFF, NOW - HOUR, NOW + HOUR, service.ActivityClosed),
                                      (ON, NOW + timedelta(seconds=1), NOW + HOUR, service.NotStarted),
                                      (ON, NOW - HOUR, NOW, service.Ended)):
        with pytest.raises(error):
            lifecycle.check_running(status, start, end, NOW)


def test_a_group_buy_with_running_groups_is_not_deleted():
    with pytest.raises(groupbuy.DeleteRefused):
        groupbuy.check_can_delete(OFF, NOW - HOUR, NOW, running_groups=1)
    groupbuy.check_can_delete(OFF, NOW + HOUR, NOW, running_groups=0)
