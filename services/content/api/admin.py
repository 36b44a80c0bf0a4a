"""/admin-api/content: platform operators manage categories, articles and banners."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from services.content import service
from services.content.api.deps import AdminArticleQuery, Search
from services.content.domain import (
    ArticleNotFound,
    BannerNotFound,
    BannerPosition,
    CategoryHasArticles,
    CategoryNotFound,
    UnknownCategory,
)
from services.content.schemas import ArticleIn, ArticleOut, BannerIn, BannerOut, CategoryIn, CategoryOut
from shared.auth import Role, require_role
from shared.db import Session
from shared.deps import Now
from shared.enums import CommonStatus
from shared.errors import Forbidden, Unauthorized
from shared.ids import PathId
from shared.openapi import errors
from shared.pagination import Page, Paging

router = APIRouter(prefix="/admin-api/content", tags=["admin: content"],
                   dependencies=[Depends(require_role(Role.ADMIN))], responses=errors(Unauthorized, Forbidden))

@router.post("/article-categories", status_code=201, response_model=CategoryOut)
async def create_category(body: CategoryIn, session: Session, now: Now):
    return await service.create_category(session, body, now)


@router.get("/article-categories", response_model=Page[CategoryOut])
async def page_categories(session: Session, paging: Paging, name: Search = None,
                          status: CommonStatus | None = None):
    return await service.page_categories(session, paging, name, status)


@router.get("/article-categories/{category_id}", response_model=CategoryOut, responses=errors(CategoryNotFound))
async def get_category(category_id: PathId, session: Session):
    return await service.get_category(session, category_id)


@router.put("/article-categories/{category_id}", response_model=CategoryOut, responses=errors(CategoryNotFound))
async def update_category(category_id: PathId, body: CategoryIn, session: Session, now: Now):
    return await service.update_category(session, category_id, body, now)


@router.delete("/article-categories/{category_id}", status_code=204,
               responses=errors(CategoryNotFound, CategoryHasArticles))
async def delete_category(category_id: PathId, session: Session):
    await service.delete_category(session, category_id)
    return Response(status_code=204)


@router.post("/articles", status_code=201, response_model=ArticleOut, responses=errors(UnknownCategory))
async def create_article(body: ArticleIn, session: Session, now: Now):
    return await service.create_article(session, body, now)


@router.get("/articles", response_model=Page[ArticleOut])
async def page_articles(session: Session, paging: Paging, f: AdminArticleQuery):
    return await service.page_articles(session, paging, f)


@router.get("/articles/{article_id}", response_model=ArticleOut, responses=errors(ArticleNotFound))
async def get_article(article_id: PathId, session: Session):
    return await service.get_article(session, article_id)


@router.put("/articles/{article_id}", response_model=ArticleOut, responses=errors(ArticleNotFound, UnknownCategory))
async def update_article(article_id: PathId, body: ArticleIn, session: Session, now: Now):
    return await service.update_article(session, article_id, body, now)


@router.delete("/articles/{article_id}", status_code=204, responses=errors(ArticleNotFound))
async def delete_article(article_id: PathId, session: Session):
    await service.delete_article(session, article_id)
    return Response(status_code=204)


@router.post("/banners", status_code=201, response_model=BannerOut)
async def create_banner(body: BannerIn, session: Session, now: Now):
    return await service.create_banner(session, body, now)


@router.get("/banners", response_model=Page[BannerOut])
async def page_banners(session: Session, paging: Paging, title: Search = None,
                       position: BannerPosition | None = None, status: CommonStatus | None = None):
    return await service.page_banners(session, paging, title, position, status)


@router.get("/banners/{banner_id}", response_model=BannerOut, responses=errors(BannerNotFound))
async def get_banner(banner_id: PathId, session: Session):
    return await service.get_banner(session, banner_id)


@router.put("/banners/{banner_id}", response_model=BannerOut, responses=errors(BannerNotFound))
async def update_banner(banner_id: PathId, body: BannerIn, session: Session, now: Now):
    return await service.update_banner(session, banner_id, body, now)


@router.delete("/banners/{banner_id}", status_code=204, responses=errors(BannerNotFound))
async def delete_banner(banner_id: PathId, session: Session):
    await service.delete_banner(session, banner_id)
    return Response(status_code=204)
