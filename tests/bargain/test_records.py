"""Buyers: starting a bargain, friends' helps (砍一刀) to exactly the floor, success and failure
(the job, the record lifetime, the activity's end) with their events, and the pages."""

from __future__ import annotations

from datetime import timedelta

from services.bargain import jobs
from tests.bargain.conftest import APP, NOW, events, help_, make_activity, start, succeeded_record


async def test_friends_help_a_record_to_exactly_the_floor_and_it_succeeds_once(client, tokens, members,
                                                                               bargain_app):
    activity_id = await make_activity(client, tokens["admin"])
    record = await start(client, members[1001], activity_id)
    assert record["price"] == 10_000 and record["status"] == 1 and record["helps_needed"] == 3
    assert record["expires_at"] == "2026-11-23T02:30:00Z"
    cuts = []
    for helper in (1002, 1003, 1004):
        helped = await help_(client, members[helper], record["id"])
        assert helped.status_code == 201, helped.text
        cuts.append(helped.json()["cut"])
        assert 2_000 <= cuts[-1] <= 4_000
    assert sum(cuts) == 9_000
    mine = (await client.get(f"{APP}/my-records", headers=members[1001])).json()["items"][0]
    assert mine["status"] == 2 and mine["price"] == 1_000 and mine["end_reason"] == "reached_floor"
    assert [h["user_id"] for h in mine["helps"]] == [1002, 1003, 1004]
    late = await help_(client, members[1005], record["id"])
    assert late.status_code == 409 and late.json()["error"]["code"] == "BARGAIN_RECORD_NOT_IN_PROGRESS"
    succeeded = await events(bargain_app, "promo.bargain.succeeded")
    assert [(e.data["record_id"], e.data["price"], e.data["help_count"]) for e in succeeded] == [
        (record["id"], 1_000, 3)]


async def test_starting_refuses_a_second_record_in_progress_and_past_the_success_limit(client, tokens, members):
    activity_id = await make_activity(client, tokens["admin"], total_limit=1)
    await start(client, members[1001], activity_id)
    again = await client.post(f"{APP}/records", json={"activity_id": activity_id}, headers=members[1001])
    assert again.status_code == 409 and again.json()["error"]["code"] == "BARGAIN_RECORD_IN_PROGRESS"
    await succeeded_record(client, tokens["admin"], members, user=1002, activity_id=activity_id,
                           helpers=(1003, 1004, 1005))
    limit = await client.post(f"{APP}/records", json={"activity_id": activity_id}, headers=members[1002])
    assert limit.status_code == 409 and limit.json()["error"]["code"] == "BARGAIN_RECORD_LIMIT_REACHED"
    assert limit.json()["error"]["message"] == "该活动每人最多砍价成功 1 次"
    anonymous = await client.post(f"{APP}/records", json={"activity_id": activity_id})
    assert anonymous.status_code == 401
    sold_out = await make_activity(client, tokens["admin"], spu_id=502, stock=0)
    refused = await client.post(f"{APP}/records", json={"activity_id": sold_out}, headers=members[1001])
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "BARGAIN_STOCK_NOT_ENOUGH"


async def test_a_helper_cannot_help_their_own_record_twice_or_past_the_activitys_helps(client, tokens, members):
    activity_id = await make_activity(client, tokens["admin"], helpers=5, rmin=1_000, rmax=2_000, bargain_count=2)
    records = [await start(client, members[user], activity_id) for user in (1001, 1002, 1003)]
    own = await help_(client, members[1001], records[0]["id"])
    assert own.status_code == 409 and own.json()["error"]["code"] == "BARGAIN_HELP_OWN_RECORD"
    assert (await help_(client, members[1010], records[0]["id"])).status_code == 201
    twice = await help_(client, members[1010], records[0]["id"])
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "BARGAIN_HELP_ALREADY_HELPED"
    assert (await help_(client, members[1010], records[1]["id"])).status_code == 201
    third = await help_(client, members[1010], records[2]["id"])
    assert third.status_code == 409 and third.json()["error"]["code"] == "BARGAIN_HELP_LIMIT_REACHED"
    missing = await help_(client, members[1010], 10**9)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "BARGAIN_RECORD_NOT_FOUND"


async def test_a_friends_page_says_what_the_viewer_may_do(client, tokens, members):
    activity_id = await make_activity(client, tokens["admin"], bargain_count=1)
    record = await start(client, members[1001], activity_id)
    other = await start(client, members[1002], activity_id)
    assert (await help_(client, members[1003], other["id"])).status_code == 201
    helped = await help_(client, members[1004], record["id"])

    async def viewer(token=None) -> dict:
        page = await client.get(f"{APP}/records/{record['id']}", headers=token or {})
        assert page.status_code == 200, page.text
        return page.json()

    assert (await viewer())["viewer"] == "anonymous" and (await viewer())["can_help"]
    assert (await viewer(members[1001]))["viewer"] == "own"
    seen = await viewer(members[1004])
    assert (seen["viewer"], seen["viewer_cut"], seen["can_help"]) == ("helped", helped.json()["cut"], False)
    assert (await viewer(members[1003]))["viewer"] == "no_helps_left"
    fresh = await viewer(members[1005])
    assert (fresh["viewer"], fresh["can_help"], fresh["helps_left"]) == ("help", True, 2)
    helpers = (await client.get(f"{APP}/records/{record['id']}/helps")).json()
    assert [h["user_id"] for h in helpers["items"]] == [1004]
    running = (await client.get(f"{APP}/activities")).json()
    assert [a["id"] for a in running["items"]] == [activity_id]


async def test_a_record_fails_when_its_lifetime_or_the_activity_ends_first_once(client, tokens, members,
                                                                                bargain_app):
    bg = bargain_app.state.bargain
    long_one = await make_activity(client, tokens["admin"], spu_id=501)
    short_one = await make_activity(client, tokens["admin"], spu_id=502, end=NOW + timedelta(hours=2))
    by_lifetime = await start(client, members[1001], long_one)
    by_window = await start(client, members[1001], short_one)
    assert (await help_(client, members[1002], by_lifetime["id"])).status_code == 201
    assert await jobs.run_once(bg, NOW + timedelta(hours=1)) == {"records_failed": 0, "holds_released": 0}
    assert await jobs.run_once(bg, NOW + timedelta(hours=2)) == {"records_failed": 1, "holds_released": 0}
    later = NOW + timedelta(days=1)
    bargain_app.state.test_clock.at = later
    late = await help_(client, members[1003], by_lifetime["id"])  # past its time, before the job ran
    assert late.status_code == 409 and late.json()["error"]["code"] == "BARGAIN_RECORD_NOT_IN_PROGRESS"
    assert await jobs.run_once(bg, later) == {"records_failed": 1, "holds_released": 0}
    assert await jobs.run_once(bg, later) == {"records_failed": 0, "holds_released": 0}
    failed = await events(bargain_app, "promo.bargain.failed")
    assert [(e.data["record_id"], e.data["reason"]) for e in failed] == [
        (by_window["id"], "activity_ended"), (by_lifetime["id"], "lifetime_ended")]
    mine = {r["id"]: r for r in (await client.get(f"{APP}/my-records", headers=members[1001])).json()["items"]}
    assert mine[by_lifetime["id"]]["status"] == 3 and mine[by_lifetime["id"]]["price"] < 10_000
    again = await start(client, members[1001], long_one)  # a failed record no longer blocks a new one
    assert again["id"] != by_lifetime["id"]


async def test_a_record_of_a_closed_or_deleted_activity_takes_no_more_helps(client, tokens, members, bargain_app):
    from sqlalchemy import func, select

    from services.bargain.models import Help, Helper, Record

    admin = tokens["admin"]
    activity_id = await make_activity(client, admin)
    record = await start(client, members[1001], activity_id)
    for helper in (1002, 1003):
        assert (await help_(client, members[helper], record["id"])).status_code == 201
    before = (await client.get(f"{APP}/records/{record['id']}")).json()
    assert (await client.post(f"/admin-api/bargain/activities/{activity_id}/close", headers=admin)).status_code == 204
    page = (await client.get(f"{APP}/records/{record['id']}", headers=members[1004])).json()
    assert (page["viewer"], page["can_help"]) == ("ended", False)
    assert (await client.get(f"{APP}/records/{record['id']}")).json()["can_help"] is False

    refused = await help_(client, members[1004], record["id"])  # the last required helper: would succeed
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "BARGAIN_ACTIVITY_CLOSED"
    assert refused.json()["error"]["message"] == "砍价活动已关闭"
    english = await client.post(f"{APP}/records/{record['id']}/help", json={},
                                headers={**members[1005], "Accept-Language": "en"})
    assert english.status_code == 409 and english.json()["error"]["message"] == "The bargain activity is closed"

    assert (await client.delete(f"/admin-api/bargain/activities/{activity_id}", headers=admin)).status_code == 204
    deleted = await help_(client, members[1006], record["id"])
    assert deleted.status_code == 409 and deleted.json()["error"]["code"] == "BARGAIN_ACTIVITY_CLOSED"
    gone = (await client.get(f"{APP}/records/{record['id']}", headers=members[1006])).json()
    assert (gone["viewer"], gone["can_help"]) == ("ended", False)

    after = (await client.get(f"{APP}/records/{record['id']}")).json()
    assert {k: after[k] for k in ("price", "help_count", "status")} == {
        k: before[k] for k in ("price", "help_count", "status")}
    async with bargain_app.state.sessionmaker() as session:
        assert (await session.get(Record, record["id"])).status == 1
        assert await session.scalar(select(func.count()).select_from(Help)) == 2
        assert await session.scalar(select(func.count()).select_from(Helper).where(
            Helper.user_id.in_((1004, 1005, 1006)))) == 0
    assert await events(bargain_app, "promo.bargain.succeeded") == []


async def test_a_friends_page_says_ended_once_the_record_succeeded_or_passed_its_time(client, tokens, members,
                                                                                      bargain_app):
    activity_id = await make_activity(client, tokens["admin"], end=NOW + timedelta(hours=2))
    done = await succeeded_record(client, tokens["admin"], members, activity_id=activity_id)
    running = await start(client, members[1005], activity_id)

    async def page(record_id: int, token=None) -> dict:
        read = await client.get(f"{APP}/records/{record_id}", headers=token or {})
        assert read.status_code == 200, read.text
        return read.json()

    assert ((await page(done["id"], members[1009]))["viewer"], (await page(done["id"], members[1009]))["can_help"]) \
        == ("ended", False)
    assert (await page(done["id"]))["can_help"] is False  # anonymous
    assert (await page(done["id"], members[1002]))["viewer"] == "helped"  # a helper still sees their cut
    assert (await page(running["id"], members[1009]))["viewer"] == "help"
    bargain_app.state.test_clock.at = NOW + timedelta(hours=2)  # past its time, before the job ran
    late = await page(running["id"], members[1009])
    assert (late["viewer"], late["can_help"], late["status"]) == ("ended", False, 1)
    assert (await page(running["id"]))["can_help"] is False


async def test_an_activity_that_ended_without_being_closed_can_be_deleted(client, tokens, bargain_app):
    admin = tokens["admin"]
    activity_id = await make_activity(client, admin, end=NOW + timedelta(hours=1))
    url = f"/admin-api/bargain/activities/{activity_id}"
    early = await client.delete(url, headers=admin)
    assert early.status_code == 409 and early.json()["error"]["code"] == "BARGAIN_ACTIVITY_DELETE_REFUSED"
    bargain_app.state.test_clock.at = NOW + timedelta(hours=1)
    assert (await client.get(url, headers=admin)).json()["status"] == 0  # never closed
    assert (await client.delete(url, headers=admin)).status_code == 204
    assert (await client.get(url, headers=admin)).status_code == 404
