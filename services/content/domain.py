"""Content rules: banner positions and the service's errors. No I/O.

Buyers see enabled records only, and an article only while its category is enabled too
(yudao shows disabled ones; we don't): see `repository.visible_articles`."""

from __future__ import annotations

from enum import IntEnum

from shared.errors import Conflict, NotFound, RuleViolation


class BannerPosition(IntEnum):
    HOME = 1
    SECKILL = 2
    GROUPBUY = 3
    DISCOUNT = 4
    REWARD = 5


class CategoryNotFound(NotFound):
    code = "ARTICLE_CATEGORY_NOT_FOUND"
    messages = {"en": "Article category {id} does not exist", "zh-CN": "文章分类 {id} 不存在"}


class UnknownCategory(RuleViolation):
    code = "ARTICLE_CATEGORY_UNKNOWN"
    messages = {"en": "Article category {category_id} does not exist",
                "zh-CN": "文章分类 {category_id} 不存在"}


class CategoryHasArticles(Conflict):
    code = "ARTICLE_CATEGORY_HAS_ARTICLES"
    messages = {"en": "Article category {id} still has articles and cannot be deleted",
                "zh-CN": "文章分类 {id} 下存在文章，不能删除"}


class ArticleNotFound(NotFound):
    code = "ARTICLE_NOT_FOUND"
    messages = {"en": "Article {id} does not exist", "zh-CN": "文章 {id} 不存在"}


class BannerNotFound(NotFound):
    code = "BANNER_NOT_FOUND"
    messages = {"en": "Banner {id} does not exist", "zh-CN": "轮播图 {id} 不存在"}
