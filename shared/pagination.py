"""Page requests and page responses: `?page=1&size=20` -> `{items, total, page, size}`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.ownership import EVERYTHING, OwnerScope

T = TypeVar("T")

MAX_PAGE_SIZE = 100


class PageParams(BaseModel):
    page: int = 1
    size: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


async def page_params(page: Annotated[int, Query(ge=1, le=10_000)] = 1,
                      size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20) -> PageParams:
    return PageParams(page=page, size=size)


Paging = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int


def to_page(schema: type[BaseModel], result: tuple[object, int], paging: PageParams) -> dict:
    rows, total = result
    return {"items": [schema.model_validate(row, from_attributes=True) for row in rows],  # type: ignore[attr-defined]
            "total": total, "page": paging.page, "size": paging.size}


async def fetch_page(session: AsyncSession, query: Select, paging: PageParams) -> tuple[list, int]:
    """One page of `query`'s rows and the total count of all of them."""
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = (await session.scalars(query.offset(paging.offset).limit(paging.size))).all()
    return list(rows), total or 0


@dataclass(frozen=True)
class ActivityFilter:
    """The operators' activity list of a one-SPU promotion (seckill, group buy...)."""

    name: str | None = None
    status: int | None = None
    spu_id: int | None = None


async def page_activities(session: AsyncSession, model: Any, f: ActivityFilter, paging: PageParams,
                          scope: OwnerScope = EVERYTHING, *also: Any) -> tuple[list, int]:
    """`model` has name, status, spu_id, sort, id and business_id columns: name contains, status
    and SPU equal, what the owner `scope` sees, and the conditions `also` (e.g. not deleted);
    highest sort, then newest, first."""
    query = (select(model).where(scope.where(model.business_id), *also)
             .order_by(model.sort.desc(), model.id.desc()))
    if f.name:
        query = query.where(model.name.contains(f.name, autoescape=True))
    if f.status is not None:
        query = query.where(model.status == f.status)
    if f.spu_id is not None:
        query = query.where(model.spu_id == f.spu_id)
    return await fetch_page(session, query, paging)
