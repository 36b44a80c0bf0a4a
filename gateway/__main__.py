"""`python -m gateway`: serve the gateway on GATEWAY_HOST:GATEWAY_PORT."""

import asyncio

from aiohttp import web

from gateway.app import SETTINGS, create_app


def main() -> None:
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    app = create_app()
    settings = app[SETTINGS]
    web.run_app(app, host=settings.gateway_host, port=settings.gateway_port, access_log=None, print=None, loop=loop)


if __name__ == "__main__":
    main()
