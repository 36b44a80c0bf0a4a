"""Demo data for `make run` / `promo seed`: a few categories, articles and banners."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.content import repository, service
from services.content.domain import BannerPosition
from services.content.schemas import ArticleIn, BannerIn, CategoryIn

CDN = "https://cdn.example.com/demo"


async def seed_demo(session: AsyncSession, now: datetime) -> bool:
    """Adds the demo rows unless the service already has data; True when it added them."""
    if await repository.has_any_content(session):
        return False
    news = await service.create_category(session, CategoryIn(name="商城公告", pic_url=f"{CDN}/news.png", sort=1), now)
    guide = await service.create_category(session, CategoryIn(name="购物指南", pic_url=f"{CDN}/guide.png", sort=2), now)
    articles = [
        (news, "双十一大促活动说明", True, True),
        (news, "春节物流安排", False, True),
        (guide, "如何领取和使用优惠券", True, False),
        (guide, "拼团玩法介绍", False, False),
    ]
    for sort, (category, title, hot, banner) in enumerate(articles):
        await service.create_article(session, ArticleIn(
            category_id=category.id, title=title, author="运营小编", pic_url=f"{CDN}/article-{sort}.png",
            introduction=title, content=f"<p>{title}：详情见活动页。</p>", sort=sort,
            recommend_hot=hot, recommend_banner=banner), now)
    banners = [
        ("新人专享券", BannerPosition.HOME, "/pages/coupon/center"),
        ("限时秒杀", BannerPosition.HOME, "/pages/seckill/index"),
        ("整点秒杀专场", BannerPosition.SECKILL, "/pages/seckill/index"),
        ("三人成团", BannerPosition.GROUPBUY, "/pages/groupbuy/index"),
        ("满199减30", BannerPosition.REWARD, "/pages/reward/index"),
    ]
    for sort, (title, position, url) in enumerate(banners):
        await service.create_banner(session, BannerIn(
            title=title, pic_url=f"{CDN}/banner-{sort}.png", url=url, position=position, sort=sort), now)
    return True
