"""`python -m gateway` with GATEWAY_WORKERS=2: two processes on one port (SO_REUSEPORT) that both
serve, /metrics adding up both, SIGTERM ending them all, a killed worker replaced."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from promo.embedded import free_port, port_open
from tests.conftest import REDIS_URL


async def hello(request: web.Request) -> web.Response:
    return web.json_response({"path": request.path})


@pytest.fixture
async def upstream():
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", hello)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        found += [int(child) for child in open(f"/proc/{pid}/task/{task}/children").read().split()]
    return found


def spawn(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gateway"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


async def test_two_workers_share_the_port_and_the_metrics_and_end_together(upstream):
    port = free_port()
    env = {**os.environ, "ENV": "test", "LOG_JSON": "false", "REDIS_URL": REDIS_URL, "GATEWAY_WORKERS": "2",
           "GATEWAY_HOST": "127.0.0.1", "GATEWAY_PORT": str(port), "GATEWAY_SERVICES": '["content"]',
           "GATEWAY_UPSTREAMS": json.dumps({"content": f"http://127.0.0.1:{upstream.port}"})}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = spawn(env)
    try:
        deadline = time.monotonic() + 20
        while not port_open("127.0.0.1", port) or len(children(process.pid)) < 2:
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
            await asyncio.sleep(0.1)
        workers = children(process.pid)
        prefixes = set()
        deadline = time.monotonic() + 15  # the second may still be starting
        while time.monotonic() < deadline:  # a new connection each time: the kernel spreads them over the workers
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/app-api/content/x") as response:
                    assert response.status == 200
                    prefixes.add(response.headers["X-Request-Id"][:16])  # a random prefix per process
            if len(prefixes) == 2:
                break
        assert len(prefixes) == 2, "both workers answered"
        served = 0
        for _ in range(10):
            async with aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/app-api/content/y") as response:
                    served += response.status == 200
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                text = await response.text()
        counted = re.search(r'^gateway_requests_total\{service="content",status="200"\} (\S+)$', text, re.M)
        assert counted and float(counted[1]) >= served + len(prefixes), "one figure for both workers"

        os.kill(workers[0], signal.SIGKILL)  # a worker dies: the supervisor starts another
        deadline = time.monotonic() + 10
        while len([pid for pid in children(process.pid) if pid not in workers]) < 1:
            assert time.monotonic() < deadline, "no new worker"
            await asyncio.sleep(0.1)

        last_workers = children(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert not any(alive(pid) for pid in last_workers), "the workers ended too"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
