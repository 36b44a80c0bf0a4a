"""Use cases of the content service. They flush, never commit: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.content import repository as repo
from services.content.domain import (
    ArticleNotFound,
    BannerNotFound,
    BannerPosition,
    CategoryHasArticles,
    CategoryNotFound,
    UnknownCategory,
)
from services.content.models import Article, ArticleCategory, Banner, Base
from services.content.schemas import (
    AppArticleSummary,
    ArticleIn,
    ArticleOut,
    BannerIn,
    BannerOut,
    CategoryIn,
    CategoryOut,
)
from shared.enums import CommonStatus
from shared.errors import NotFound
from shared.pagination import PageParams, to_page

M = TypeVar("M", bound=Base)
ArticleFilter = repo.ArticleFilter


async def _add(session: AsyncSession, model: type[M], data: BaseModel, now: datetime) -> M:
    row = model(**data.model_dump(), created_at=now, updated_at=now)
    session.add(row)
    await session.flush()
    return row


def _found(row: M | None, not_found: type[NotFound], row_id: int) -> M:
    if row is None:
        raise not_found(id=row_id)
    return row


async def _delete(session: AsyncSession, row: Base) -> None:
    await session.delete(row)
    await session.flush()


async def _replace(session: AsyncSession, row: M, data: BaseModel, now: datetime) -> M:
    for name, value in data.model_dump().items():
        setattr(row, name, value)
    row.updated_at = now
    await session.flush()
    return row


# --- categories -------------------------------------------------------------------------------

async def get_category(session: AsyncSession, category_id: int) -> ArticleCategory:
    return _found(await repo.get_category(session, category_id), CategoryNotFound, category_id)


async def page_categories(session: AsyncSession, paging: PageParams, name: str | None,
                          status: CommonStatus | None) -> dict:
    return to_page(CategoryOut, await repo.page_categories(session, paging, name=name, status=status), paging)


async def enabled_categories(session: AsyncSession) -> Sequence[ArticleCategory]:
    return await repo.list_enabled_categories(session)


async def create_category(session: AsyncSession, data: CategoryIn, now: datetime) -> ArticleCategory:
    return await _add(session, ArticleCategory, data, now)


async def update_category(session: AsyncSession, category_id: int, data: CategoryIn,
                          now: datetime) -> ArticleCategory:
    return await _replace(session, await get_category(session, category_id), data, now)


async def delete_category(session: AsyncSession, category_id: int) -> None:
    category = await get_category(session, category_id)
    if await repo.category_has_articles(session, category_id):
        raise CategoryHasArticles(id=category_id)
    try:
        await _delete(session, category)
    except IntegrityError as exc:  # an article was added meanwhile; the foreign key said no
        raise CategoryHasArticles(id=category_id) from exc


# --- articles ---------------------------------------------------------------------------------

async def get_article(session: AsyncSession, article_id: int) -> Article:
    return _found(await repo.get_article(session, article_id), ArticleNotFound, article_id)


async def _check_category(session: AsyncSession, category_id: int) -> None:
    if await repo.get_category(session, category_id) is None:
        raise UnknownCategory(category_id=category_id)


async def page_articles(session: AsyncSession, paging: PageParams, f: ArticleFilter) -> dict:
    """Operators' list: every article, whatever its status or its category's."""
    return to_page(ArticleOut, await repo.page_articles(session, paging, f, visible_only=False), paging)


async def page_visible_articles(session: AsyncSession, paging: PageParams, f: ArticleFilter) -> dict:
    """Buyers' list: enabled articles of enabled categories."""
    return to_page(AppArticleSummary, await repo.page_articles(session, paging, f, visible_only=True), paging)


async def create_article(session: AsyncSession, data: ArticleIn, now: datetime) -> Article:
    await _check_category(session, data.category_id)
    return await _add(session, Article, data, now)


async def update_article(session: AsyncSession, article_id: int, data: ArticleIn, now: datetime) -> Article:
    article = await get_article(session, article_id)
    await _check_category(session, data.category_id)
    return await _replace(session, article, data, now)


async def delete_article(session: AsyncSession, article_id: int) -> None:
    await _delete(session, await get_article(session, article_id))


async def view_article(session: AsyncSession, article_id: int) -> Article:
    """A buyer opens an article: count the view, then return it with the new count."""
    if not await repo.count_browse_if_visible(session, article_id):
        raise ArticleNotFound(id=article_id)
    article = await repo.get_article_fresh(session, article_id)
    assert article is not None
    return article


# --- banners ----------------------------------------------------------------------------------

async def get_banner(session: AsyncSession, banner_id: int) -> Banner:
    return _found(await repo.get_banner(session, banner_id), BannerNotFound, banner_id)


async def page_banners(session: AsyncSession, paging: PageParams, title: str | None, position: BannerPosition | None,
                       status: CommonStatus | None) -> dict:
    result = await repo.page_banners(session, paging, title=title, position=position, status=status)
    return to_page(BannerOut, result, paging)


async def enabled_banners(session: AsyncSession, position: BannerPosition) -> Sequence[Banner]:
    return await repo.list_enabled_banners(session, position)


async def create_banner(session: AsyncSession, data: BannerIn, now: datetime) -> Banner:
    return await _add(session, Banner, data, now)


async def update_banner(session: AsyncSession, banner_id: int, data: BannerIn, now: datetime) -> Banner:
    return await _replace(session, await get_banner(session, banner_id), data, now)


async def delete_banner(session: AsyncSession, banner_id: int) -> None:
    await _delete(session, await get_banner(session, banner_id))


async def click_banner(session: AsyncSession, banner_id: int) -> None:
    if not await repo.count_click_if_enabled(session, banner_id):
        raise BannerNotFound(id=banner_id)
