"""Content rules: banner positions and the service's errors. No I/O.

Buyers see enabled records only, and an article only while its category is enabled too
(yudao shows disabled ones; we don't): see `repository.visible_articles`."""

from __future__ import annotations

from shared.enums import DescribedIntEnum
from shared.errors import Conflict, NotFound, RuleViolation


class BannerPosition(DescribedIntEnum):
    """The page a banner is shown on (yudao's numbers)."""

    HOME = 1, "the home page"
    SECKILL = 2, "the flash sale page"
    GROUPBUY = 3, "the group buy page"
    DISCOUNT = 4, "the limited-time discount page"
    REWARD = 5, "the spend-and-save page"


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
