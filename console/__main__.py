"""`python -m console`: serve the operators' console on CONSOLE_HOST:CONSOLE_PORT."""

import uvicorn

from console.server import create_app
from console.settings import ConsoleSettings

settings = ConsoleSettings()
uvicorn.run(create_app(settings), host=settings.console_host, port=settings.console_port, log_level="warning",
            access_log=False)
