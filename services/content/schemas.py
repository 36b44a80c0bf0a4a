"""Request and response bodies of the content service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from services.content.domain import BannerPosition
from shared.enums import CommonStatus
from shared.ids import Id
from shared.schemas import Input, Output
from shared.validation import check_reason, invalid

HTTP_URL = check_reason("HTTP_URL", en="must be an http(s) URL", zh="须为 http(s) 网址")
LINK = check_reason("LINK", en="must be an http(s) URL or an app path starting with '/'",
                    zh="须为 http(s) 网址，或以 / 开头的应用内路径")
NO_CONTROL_CHARS = check_reason("NO_CONTROL_CHARS", en="must not contain control characters", zh="不能包含控制字符")


def _http_url(value: str) -> str:
    if value and not value.startswith(("http://", "https://")):
        raise invalid(HTTP_URL)
    return value


def _link(value: str) -> str:
    if not value.startswith(("http://", "https://", "/")):
        raise invalid(LINK)
    return value


def _no_control_chars(value: str) -> str:
    if any(ord(ch) < 32 for ch in value):
        raise invalid(NO_CONTROL_CHARS)
    return value


Name = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_no_control_chars)]
Title = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_no_control_chars)]
PictureUrl = Annotated[str, Field(max_length=255), AfterValidator(_http_url)]
RequiredPictureUrl = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_http_url)]
Link = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_link)]
Sort = Annotated[int, Field(ge=0, le=1_000_000, description="smaller first")]



class CategoryIn(Input):
    name: Name
    pic_url: PictureUrl = ""
    status: CommonStatus = CommonStatus.ENABLED
    sort: Sort = 0


class CategoryOut(Output):
    id: int
    name: str
    pic_url: str
    status: CommonStatus
    sort: int
    created_at: datetime
    updated_at: datetime


class AppCategory(Output):
    id: int
    name: str
    pic_url: str


class ArticleIn(Input):
    category_id: Id
    title: Title
    author: Annotated[str, Field(max_length=64)] = ""
    pic_url: RequiredPictureUrl
    introduction: Annotated[str, Field(max_length=255)] = ""
    content: Annotated[str, Field(min_length=1, max_length=100_000, description="rich text (HTML)")]
    spu_id: Id | None = Field(default=None, description="related product")
    sort: Sort = 0
    status: CommonStatus = CommonStatus.ENABLED
    recommend_hot: bool = False
    recommend_banner: bool = False


class AppArticleSummary(Output):
    id: int
    category_id: int
    title: str
    author: str
    pic_url: str
    introduction: str
    spu_id: int | None
    recommend_hot: bool
    recommend_banner: bool
    browse_count: int
    created_at: datetime


class AppArticle(AppArticleSummary):
    content: str


class ArticleOut(AppArticle):
    sort: int
    status: CommonStatus
    updated_at: datetime


class BannerIn(Input):
    title: Name
    pic_url: RequiredPictureUrl
    url: Link
    position: BannerPosition
    sort: Sort = 0
    status: CommonStatus = CommonStatus.ENABLED
    memo: Annotated[str, Field(max_length=255)] = ""


class AppBanner(Output):
    id: int
    title: str
    pic_url: str
    url: str
    position: BannerPosition
    sort: int


class BannerOut(AppBanner):
    status: CommonStatus
    memo: str
    click_count: int
    created_at: datetime
    updated_at: datetime
