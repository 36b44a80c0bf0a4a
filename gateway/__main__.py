"""`python -m gateway`: serve the gateway on GATEWAY_HOST:GATEWAY_PORT with GATEWAY_WORKERS
processes (0: one per CPU core), each on its own uvloop event loop and its own listening socket
(SO_REUSEPORT: the kernel spreads the connections). The first process supervises: it restarts a
worker that dies and passes SIGTERM / SIGINT on. With several workers, /metrics adds up every
worker's figures (prometheus_client's multiprocess mode, in a temporary directory)."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time

from gateway.settings import GatewaySettings
from shared.logs import configure_logging

RESTART_PAUSE_SECONDS = 1.0


def main() -> None:
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level, settings.log_json)
    workers = settings.gateway_workers or len(os.sched_getaffinity(0)) or 1
    if workers == 1:
        serve(settings, reuse_port=False)
        return
    own_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # before prometheus_client is imported anywhere
        own_dir = tempfile.mkdtemp(prefix="gateway-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_dir
    try:
        supervise(settings, workers)
    finally:
        if own_dir:
            shutil.rmtree(own_dir, ignore_errors=True)


def serve(settings: GatewaySettings, reuse_port: bool) -> None:
    import uvloop

    from gateway.app import Gateway

    async def run() -> None:
        gateway = Gateway(settings)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        await gateway.start(settings.gateway_host, settings.gateway_port, reuse_port=reuse_port)
        await stopping.wait()
        await gateway.stop()

    uvloop.run(run())


def supervise(settings: GatewaySettings, workers: int) -> None:
    children: dict[int, int] = {}  # pid -> worker number
    stopping = False

    def spawn(number: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _end_with(parent)
            code = 0
            try:
                serve(settings, reuse_port=True)
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stderr.flush()
                os._exit(code)
        children[pid] = number

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for number in range(workers):
        spawn(number)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        number = children.pop(pid, None)
        if number is not None and not stopping:
            print(f"gateway worker {pid} ended ({status}); starting another", file=sys.stderr, flush=True)
            time.sleep(RESTART_PAUSE_SECONDS)
            spawn(number)


def _end_with(parent: int) -> None:
    """A worker gets SIGTERM when the supervisor dies, however it dies (Linux), so none is orphaned."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    main()
