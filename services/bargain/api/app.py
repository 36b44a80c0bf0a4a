"""/app-api/bargain: the buyer's bargain pages, starting a bargain and helping a friend (砍一刀).
A successful record is bought through pricing's checkout."""

from __future__ import annotations

from fastapi import APIRouter

from services.bargain import activities, domain, flows, service
from services.bargain.api.deps import BargainContext
from services.bargain.schemas import (
    AppActivityOut,
    FriendRecordOut,
    HelpIn,
    HelpOut,
    MyRecordOut,
    RecordOut,
    StartIn,
)
from shared.auth import MaybePrincipal, Member, Role
from shared.db import Session
from shared.deps import Now
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.pagination import Page, Paging

router = APIRouter(prefix="/app-api/bargain", tags=["app: bargain"])

START_ERRORS = (domain.ActivityNotFound, domain.ActivityClosed, domain.NotStarted, domain.Ended, domain.SoldOut,
                domain.RecordInProgress, domain.SuccessLimitReached)
HELP_ERRORS = (domain.RecordNotFound, domain.RecordNotInProgress, domain.OwnRecord, domain.AlreadyHelped,
               domain.HelpLimitReached)


@router.get("/activities", response_model=Page[AppActivityOut])
async def running_activities(session: Session, paging: Paging, now: Now, spu_id: QueryId = None):
    """Activities running now (for a product page: `?spu_id=`)."""
    return await activities.running_page(session, now, spu_id, paging)


@router.get("/activities/{activity_id}", response_model=AppActivityOut,
            responses=errors(domain.ActivityNotFound, domain.ActivityClosed))
async def activity(activity_id: PathId, session: Session):
    return await activities.app_activity(session, activity_id)


@router.post("/records", status_code=201, response_model=RecordOut,
             responses=errors(Unauthorized, Forbidden, *START_ERRORS))
async def start(body: StartIn, member: Member, bg: BargainContext, now: Now):
    """Start a bargain: one in progress per activity; it fails when the activity ends or its
    lifetime runs out before its helpers reach the floor."""
    return await flows.start(bg, member.user_id, body.activity_id, body.nickname, body.avatar, now)


@router.get("/my-records", response_model=Page[MyRecordOut], responses=errors(Unauthorized, Forbidden))
async def my_records(member: Member, session: Session, paging: Paging):
    """My records, newest first, each with its helpers."""
    return await service.my_records(session, member.user_id, paging)


@router.get("/records/{record_id}", response_model=FriendRecordOut, responses=errors(domain.RecordNotFound))
async def record(record_id: PathId, principal: MaybePrincipal, session: Session, now: Now):
    """A record's page (shared with friends), with what the viewer may do."""
    viewer = principal.user_id if principal is not None and principal.role == Role.MEMBER else None
    return await service.friend_view(session, record_id, viewer, now)


@router.get("/records/{record_id}/helps", response_model=Page[HelpOut], responses=errors(domain.RecordNotFound))
async def helps(record_id: PathId, session: Session, paging: Paging):
    """The helpers of a record, in the order they helped."""
    return await service.helps_page(session, record_id, paging)


@router.post("/records/{record_id}/help", status_code=201, response_model=HelpOut,
             responses=errors(Unauthorized, Forbidden, *HELP_ERRORS))
async def help_record(record_id: PathId, member: Member, bg: BargainContext, now: Now, body: HelpIn | None = None):
    """砍一刀: a random cut within the activity's range, planned so the last required helper brings
    the record exactly to the floor. Concurrent helps queue; each sees the price left before it."""
    body = body or HelpIn()
    return await flows.help_record(bg, record_id, member.user_id, body.nickname, body.avatar, now)
