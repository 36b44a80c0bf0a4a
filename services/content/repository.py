"""Every query of the content service."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.content.models import Article, ArticleCategory, Banner
from shared.enums import CommonStatus
from shared.pagination import PageParams, fetch_page


@dataclass(frozen=True)
class ArticleFilter:
    category_id: int | None = None
    title: str | None = None
    status: CommonStatus | None = None
    recommend_hot: bool | None = None
    recommend_banner: bool | None = None


# --- categories -------------------------------------------------------------------------------

async def get_category(session: AsyncSession, category_id: int) -> ArticleCategory | None:
    return await session.get(ArticleCategory, category_id)


async def page_categories(session: AsyncSession, paging: PageParams, *, name: str | None,
                          status: CommonStatus | None) -> tuple[Sequence[ArticleCategory], int]:
    query = select(ArticleCategory).order_by(ArticleCategory.sort, ArticleCategory.id.desc())
    if name:
        query = query.where(ArticleCategory.name.contains(name, autoescape=True))
    if status is not None:
        query = query.where(ArticleCategory.status == status)
    return await fetch_page(session, query, paging)


async def list_enabled_categories(session: AsyncSession) -> Sequence[ArticleCategory]:
    return (await session.scalars(
        select(ArticleCategory).where(ArticleCategory.status == CommonStatus.ENABLED)
        .order_by(ArticleCategory.sort, ArticleCategory.id.desc()))).all()


async def has_any_content(session: AsyncSession) -> bool:
    """A category (articles need one) or a banner."""
    return bool(await session.scalar(select(exists().where(ArticleCategory.id.is_not(None)))) or
                await session.scalar(select(exists().where(Banner.id.is_not(None)))))


async def category_has_articles(session: AsyncSession, category_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(Article.category_id == category_id))))


# --- articles ---------------------------------------------------------------------------------

def visible_articles() -> ColumnElement[bool]:
    """What buyers may see: an enabled article in an enabled category."""
    enabled_categories = select(ArticleCategory.id).where(ArticleCategory.status == CommonStatus.ENABLED)
    return (Article.status == CommonStatus.ENABLED) & Article.category_id.in_(enabled_categories)


def _article_conditions(f: ArticleFilter) -> list[ColumnElement[bool]]:
    conditions = []
    if f.category_id is not None:
        conditions.append(Article.category_id == f.category_id)
    if f.title:
        conditions.append(Article.title.contains(f.title, autoescape=True))
    if f.status is not None:
        conditions.append(Article.status == f.status)
    if f.recommend_hot is not None:
        conditions.append(Article.recommend_hot == f.recommend_hot)
    if f.recommend_banner is not None:
        conditions.append(Article.recommend_banner == f.recommend_banner)
    return conditions


async def get_article(session: AsyncSession, article_id: int) -> Article | None:
    return await session.get(Article, article_id)


async def page_articles(session: AsyncSession, paging: PageParams, f: ArticleFilter, *,
                        visible_only: bool) -> tuple[Sequence[Article], int]:
    conditions = _article_conditions(f) + ([visible_articles()] if visible_only else [])
    query = select(Article).where(*conditions).order_by(Article.sort, Article.id.desc())
    return await fetch_page(session, query, paging)


async def count_browse_if_visible(session: AsyncSession, article_id: int) -> bool:
    """+1 view in one statement (no lost updates under concurrency); False if not visible.

    Visibility is a plain read first: inside an UPDATE, InnoDB would share-lock the category
    rows of the subquery, and every view would then hold up category edits."""
    if not await session.scalar(select(exists().where(Article.id == article_id, visible_articles()))):
        return False
    result = await session.execute(
        update(Article).where(Article.id == article_id, Article.status == CommonStatus.ENABLED)
        .values(browse_count=Article.browse_count + 1).execution_options(synchronize_session=False))
    return result.rowcount == 1


async def get_article_fresh(session: AsyncSession, article_id: int) -> Article | None:
    return await session.scalar(select(Article).where(Article.id == article_id)
                                .execution_options(populate_existing=True))


# --- banners ----------------------------------------------------------------------------------

async def get_banner(session: AsyncSession, banner_id: int) -> Banner | None:
    return await session.get(Banner, banner_id)


async def page_banners(session: AsyncSession, paging: PageParams, *, title: str | None,
                       position: int | None, status: CommonStatus | None) -> tuple[Sequence[Banner], int]:
    query = select(Banner).order_by(Banner.position, Banner.sort, Banner.id.desc())
    if title:
        query = query.where(Banner.title.contains(title, autoescape=True))
    if position is not None:
        query = query.where(Banner.position == position)
    if status is not None:
        query = query.where(Banner.status == status)
    return await fetch_page(session, query, paging)


async def list_enabled_banners(session: AsyncSession, position: int) -> Sequence[Banner]:
    return (await session.scalars(
        select(Banner).where(Banner.position == position, Banner.status == CommonStatus.ENABLED)
        .order_by(Banner.sort, Banner.id.desc()))).all()


async def count_click_if_enabled(session: AsyncSession, banner_id: int) -> bool:
    result = await session.execute(
        update(Banner).where(Banner.id == banner_id, Banner.status == CommonStatus.ENABLED)
        .values(click_count=Banner.click_count + 1).execution_options(synchronize_session=False))
    return result.rowcount == 1
