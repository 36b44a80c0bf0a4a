"""The lifecycle every promotion activity with a window shares (group buy, bargain, points mall):
enabled until closed for good, running within [start, end), and the checks that go with it, each
service raising its own errors (their codes name the service). Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.enums import CommonStatus
from shared.errors import DomainError


def windows_overlap(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open windows [start, end)."""
    return a_start < b_end and b_start < a_end


@dataclass(frozen=True, slots=True)
class Lifecycle:
    """One service's errors for each way an activity's state refuses something."""

    closed: type[DomainError]  # updated, joined or bought from after its close
    already_closed: type[DomainError]
    delete_refused: type[DomainError]  # still enabled and not ended
    not_started: type[DomainError]
    ended: type[DomainError]

    def check_can_update(self, status: CommonStatus) -> None:
        if status != CommonStatus.ENABLED:
            raise self.closed()

    def check_can_close(self, status: CommonStatus) -> None:
        if status != CommonStatus.ENABLED:
            raise self.already_closed()

    def check_can_delete(self, status: CommonStatus, end_at: datetime, now: datetime) -> None:
        """Closed, or past its end: what it sold stays recorded, the activity is no longer offered."""
        if status == CommonStatus.ENABLED and end_at > now:
            raise self.delete_refused()

    def check_running(self, status: CommonStatus, start_at: datetime, end_at: datetime, now: datetime) -> None:
        if status != CommonStatus.ENABLED:
            raise self.closed()
        if now < start_at:
            raise self.not_started()
        if now >= end_at:
            raise self.ended()
