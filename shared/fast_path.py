"""What the services' fast paths share: pure ASGI handlers of one hot route, served ahead of
FastAPI's routing, dependencies and validation (inside the request id, metrics and body
middleware). A fast path answers the common, well-formed case itself; whatever it leaves
(`None`) goes on to the FastAPI route with the body it read, for that route's usual answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import SimpleNamespace

from starlette.datastructures import Headers
from starlette.responses import Response

Answer = Callable[[object, Headers, bytes], Awaitable[Response | None]]


async def read_body(receive, limit: int | None = None) -> bytes | None:
    """The whole request body; None as soon as it is longer than `limit`."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def replay(body: bytes):
    """A `receive` giving the body already read, for the app behind."""
    sent = False

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def route_label(path: str) -> SimpleNamespace:
    """What the metrics label a request by (FastAPI's matched route has the same `path`)."""
    return SimpleNamespace(path=path)


def post_route(path: str, answer: Answer):
    """A fast path for `POST path`: `answer(app, headers, body)` gives the response, or None to
    leave the request to the FastAPI route."""
    route = route_label(path)

    class FastPath:
        answers = staticmethod(answer)

        def __init__(self, app) -> None:
            self.app = app

        async def __call__(self, scope, receive, send) -> None:
            if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != path:
                await self.app(scope, receive, send)
                return
            body = await read_body(receive)
            response = await self.answers(scope["app"], Headers(scope=scope), body)
            if response is None:
                await self.app(scope, replay(body), send)
                return
            scope["route"] = route
            await response(scope, receive, send)

    return FastPath
