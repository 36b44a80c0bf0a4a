#!/usr/bin/env python3
"""Docker HEALTHCHECK: GET /healthz on this container's port (slim images have no curl).

The component comes from PROMO_COMPONENT or, when it was given as an argument, from the
command line of PID 1 (the entrypoint execs the server). Migrations have nothing to probe.
"""

import os
import sys
import urllib.request

from shared.ports import CONSOLE_PORT, GATEWAY_PORT, SERVICE_PORTS


def component() -> str:
    if name := os.environ.get("PROMO_COMPONENT", ""):
        return name
    try:
        with open("/proc/1/cmdline", "rb") as f:
            args = f.read().decode(errors="replace").split("\0")
    except OSError:
        return ""
    for arg in args:
        if arg.startswith("services.") and arg.endswith(".main:create_app"):
            return arg.split(".")[1]
    return next((name for name in ("gateway", "console") if name in args), "")


def main() -> int:
    name = component()
    if name.startswith("migrate-"):
        return 0
    if name == "gateway":
        port = int(os.environ.get("GATEWAY_PORT") or GATEWAY_PORT)
    elif name == "console":
        port = int(os.environ.get("CONSOLE_PORT") or CONSOLE_PORT)
    elif name in SERVICE_PORTS:
        port = SERVICE_PORTS[name]
    else:
        print(f"healthcheck: unknown component {name!r}", file=sys.stderr)
        return 1
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as resp:
            return 0 if resp.status == 200 else 1
    except OSError as exc:
        print(f"healthcheck: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
