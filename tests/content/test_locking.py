"""A buyer viewing an article must not lock its category: admins edit categories while
articles are read all day.

MySQL (the production database) share-locks the rows an UPDATE's IN-subquery reads, under
REPEATABLE READ; that is why the view counter checks visibility with a plain read first. This
test fails on MySQL 8 if the counter goes back to one UPDATE with the subquery. MariaDB 10.11
(CI) does not take those locks, so there it passes either way."""

from __future__ import annotations

from sqlalchemy import text, update

from services.content import repository
from services.content.models import ArticleCategory
from tests.content.test_api import make_article, make_category


async def test_an_open_view_transaction_does_not_block_a_category_update(client, tokens, content_app):
    category = await make_category(client, tokens)
    article = await make_article(client, tokens, category["id"])
    sessionmaker = content_app.state.sessionmaker
    async with sessionmaker() as viewer, viewer.begin():
        assert await repository.count_browse_if_visible(viewer, article["id"])  # locks held until commit
        async with sessionmaker() as admin, admin.begin():
            await admin.execute(text("SET SESSION innodb_lock_wait_timeout = 1"))
            result = await admin.execute(update(ArticleCategory).where(ArticleCategory.id == category["id"])
                                         .values(name="renamed while being read"))
            assert result.rowcount == 1
