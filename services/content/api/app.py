"""/app-api/content: what buyers see. Anonymous callers are welcome; a bad token is still a 401."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from services.content import service
from services.content.api.deps import AppArticleQuery
from services.content.domain import ArticleNotFound, BannerNotFound, BannerPosition
from services.content.schemas import AppArticle, AppArticleSummary, AppBanner, AppCategory
from shared.auth import optional_principal
from shared.db import Session
from shared.errors import InvalidToken
from shared.ids import PathId
from shared.openapi import errors
from shared.pagination import Page, Paging

router = APIRouter(prefix="/app-api/content", tags=["app: content"],
                   dependencies=[Depends(optional_principal)], responses=errors(InvalidToken))


@router.get("/article-categories", response_model=list[AppCategory])
async def list_categories(session: Session):
    return await service.enabled_categories(session)


@router.get("/articles", response_model=Page[AppArticleSummary])
async def page_articles(session: Session, paging: Paging, f: AppArticleQuery):
    return await service.page_visible_articles(session, paging, f)


@router.get("/articles/{article_id}", response_model=AppArticle, responses=errors(ArticleNotFound))
async def view_article(article_id: PathId, session: Session):
    return await service.view_article(session, article_id)


@router.get("/banners", response_model=list[AppBanner])
async def list_banners(session: Session, position: BannerPosition):
    return await service.enabled_banners(session, position)


@router.post("/banners/{banner_id}/clicks", status_code=204, responses=errors(BannerNotFound))
async def click_banner(banner_id: PathId, session: Session):
    await service.click_banner(session, banner_id)
    return Response(status_code=204)
