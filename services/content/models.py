"""Tables owned by the content service."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, SmallInteger, String, Text
from sqlalchemy.dialects.mysql import MEDIUMTEXT
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import BigId, UTCDateTime, make_metadata
from shared.outbox import inbox_table, outbox_table


class Base(DeclarativeBase):
    metadata = make_metadata()


class ArticleCategory(Base):
    __tablename__ = "content_article_category"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    pic_url: Mapped[str] = mapped_column(String(255), default="")
    status: Mapped[int] = mapped_column(SmallInteger)
    sort: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "status", "sort"),)


class Article(Base):
    __tablename__ = "content_article"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # RESTRICT: the database refuses to delete a category that still has articles.
    category_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("content_article_category.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(255))
    author: Mapped[str] = mapped_column(String(64), default="")
    pic_url: Mapped[str] = mapped_column(String(255))
    introduction: Mapped[str] = mapped_column(String(255), default="")
    content: Mapped[str] = mapped_column(Text().with_variant(MEDIUMTEXT(), "mysql"))
    spu_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    sort: Mapped[int]
    status: Mapped[int] = mapped_column(SmallInteger)
    recommend_hot: Mapped[bool] = mapped_column(Boolean, default=False)
    recommend_banner: Mapped[bool] = mapped_column(Boolean, default=False)
    browse_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "category_id", "status", "sort"), Index(None, "status", "sort"))


class Banner(Base):
    __tablename__ = "content_banner"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(64))
    pic_url: Mapped[str] = mapped_column(String(255))
    url: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(SmallInteger)
    sort: Mapped[int]
    status: Mapped[int] = mapped_column(SmallInteger)
    memo: Mapped[str] = mapped_column(String(255), default="")
    click_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index(None, "position", "status", "sort"),)


outbox = outbox_table(Base.metadata, "content")
inbox = inbox_table(Base.metadata, "content")
