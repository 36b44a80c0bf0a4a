"""A seckill replica for tests that run the service as separate processes (`uvicorn
tests.seckill.replica:create_replica --factory`): the service's own app, its settings from the
environment, without the outbox relay, the consumers and the jobs (the test's in-process app has
those; a second consumer group would handle the other tests' events)."""

from __future__ import annotations

from fastapi import FastAPI

from services.seckill.main import create_app
from services.seckill.settings import SeckillSettings


def create_replica() -> FastAPI:
    app = create_app(SeckillSettings(_env_file=None))
    app.state.background = False
    return app
