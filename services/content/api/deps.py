"""Typed dependencies of the content routers: the article filters built from their query
parameters (operators filter on status too; buyers see only what is visible)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from services.content.service import ArticleFilter
from shared.enums import CommonStatus
from shared.ids import QueryId

Search = Annotated[str | None, Query(max_length=64)]


async def _admin_articles(category_id: QueryId = None, title: Search = None, status: CommonStatus | None = None,
                          recommend_hot: bool | None = None, recommend_banner: bool | None = None) -> ArticleFilter:
    return ArticleFilter(category_id, title, status, recommend_hot, recommend_banner)


async def _app_articles(category_id: QueryId = None,
                        hot: Annotated[bool | None, Query(description="only hot (true) articles")] = None,
                        banner: Annotated[bool | None, Query(description="only banner-recommended")] = None,
                        title: Search = None) -> ArticleFilter:
    return ArticleFilter(category_id=category_id, title=title, recommend_hot=hot, recommend_banner=banner)


AdminArticleQuery = Annotated[ArticleFilter, Depends(_admin_articles)]
AppArticleQuery = Annotated[ArticleFilter, Depends(_app_articles)]
