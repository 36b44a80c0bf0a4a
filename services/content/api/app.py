"""/app-api/content: what buyers see. Anonymous callers are welcome; a bad token is still a 401."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from services.content import repository as repo
from services.content import service
from services.content.domain import ArticleNotFound, BannerNotFound, BannerPosition
from services.content.schemas import AppArticle, AppArticleSummary, AppBanner, AppCategory
from shared.auth import optional_principal
from shared.db import Session
from shared.errors import InvalidToken
from shared.ids import PathId, QueryId
from shared.openapi import errors
from shared.pagination import Page, Paging, to_page

router = APIRouter(prefix="/app-api/content", tags=["app: content"],
                   dependencies=[Depends(optional_principal)], responses=errors(InvalidToken))


@router.get("/article-categories", response_model=list[AppCategory])
async def list_categories(session: Session):
    return await repo.list_enabled_categories(session)


@router.get("/articles", response_model=Page[AppArticleSummary])
async def page_articles(session: Session, paging: Paging, category_id: QueryId = None,
                        hot: Annotated[bool | None, Query(description="only hot (true) articles")] = None,
                        banner: Annotated[bool | None, Query(description="only banner-recommended")] = None,
                        title: Annotated[str | None, Query(max_length=64)] = None):
    f = repo.ArticleFilter(category_id=category_id, title=title, recommend_hot=hot, recommend_banner=banner)
    return to_page(AppArticleSummary, await repo.page_articles(session, paging, f, visible_only=True), paging)


@router.get("/articles/{article_id}", response_model=AppArticle, responses=errors(ArticleNotFound))
async def view_article(article_id: PathId, session: Session):
    return await service.view_article(session, article_id)


@router.get("/banners", response_model=list[AppBanner])
async def list_banners(session: Session, position: BannerPosition):
    return await repo.list_enabled_banners(session, position)


@router.post("/banners/{banner_id}/clicks", status_code=204, responses=errors(BannerNotFound))
async def click_banner(banner_id: PathId, session: Session):
    await service.click_banner(session, banner_id)
    return Response(status_code=204)
