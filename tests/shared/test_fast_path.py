"""shared/fast_path.py: a POST route's fast path answers what its `answer` serves, and hands
everything else to the app behind with the body it read, whole."""

from __future__ import annotations

from starlette.responses import JSONResponse

from shared.fast_path import post_route, read_body, replay

PATH = "/app-api/things"


def scope_of(method: str = "POST", path: str = PATH, kind: str = "http") -> dict:
    return {"type": kind, "method": method, "path": path, "headers": [(b"x-who", b"tester")], "app": "the app"}


def chunks(*parts: bytes):
    messages = [{"type": "http.request", "body": p, "more_body": n < len(parts) - 1} for n, p in enumerate(parts)]

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return receive


class Behind:
    """The app behind the fast path: records what reaches it."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict, bytes]] = []

    async def __call__(self, scope, receive, send) -> None:
        self.seen.append((scope, await read_body(receive) if scope["type"] == "http" else b""))
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b"behind"})


async def run(handler, scope: dict, receive) -> list[dict]:
    sent: list[dict] = []

    async def send(message) -> None:
        sent.append(message)

    await handler(scope, receive, send)
    return sent


async def test_the_answer_is_sent_and_labelled_by_the_route():
    asked = []

    async def answer(app, headers, body):
        asked.append((app, headers["x-who"], body))
        return JSONResponse({"ok": True}, status_code=201)

    behind = Behind()
    scope = scope_of()
    sent = await run(post_route(PATH, answer)(behind), scope, chunks(b'{"a":', b" 1}"))
    assert asked == [("the app", "tester", b'{"a": 1}')] and behind.seen == []
    assert sent[0]["status"] == 201 and sent[1]["body"] == b'{"ok":true}'
    assert scope["route"].path == PATH


async def test_what_the_answer_leaves_reaches_the_app_with_the_whole_body():
    async def leave(app, headers, body):
        return None

    behind = Behind()
    scope = scope_of()
    sent = await run(post_route(PATH, leave)(behind), scope, chunks(b"first ", b"second ", b"third"))
    assert behind.seen == [(scope, b"first second third")] and sent[0]["status"] == 418
    assert "route" not in scope, "the FastAPI route labels it"


async def test_other_methods_paths_and_scopes_pass_through_unread():
    async def never(app, headers, body):
        raise AssertionError("not this path's POST")

    for scope in (scope_of("GET"), scope_of(path=PATH + "/1"), scope_of(path="/app-api/thing"),
                  scope_of(kind="websocket"), {"type": "lifespan"}):
        behind = Behind()
        await run(post_route(PATH, never)(behind), scope, chunks(b"body"))
        assert [s for s, _ in behind.seen] == [scope]


async def test_replay_gives_the_body_once_then_a_disconnect():
    receive = replay(b"abc")
    assert await receive() == {"type": "http.request", "body": b"abc", "more_body": False}
    assert await receive() == {"type": "http.disconnect"}
    assert await read_body(chunks()) == b""
