#!/bin/sh
# Starts one part of the suite. What to run comes from the first argument or, without
# arguments, from PROMO_COMPONENT:
#   gateway            python -m gateway            (GATEWAY_PORT, default 8000)
#   console            python -m console            (the operators' console, CONSOLE_PORT, default 8010)
#   <service>          uvicorn services.<service>.main:create_app on its port from shared/ports.py
#   migrate-<service>  promo migrate <service>      (creates the database, runs Alembic)
# Any other arguments are run as a command, e.g. `docker run ... promo --help`; an unknown
# component or command exits 64 with the list of components.
set -eu

service_port() {
    python -c 'import sys; from shared.ports import SERVICE_PORTS; print(SERVICE_PORTS[sys.argv[1]])' "$1" 2>/dev/null
}

run() {
    component=$1
    shift
    case "$component" in
        gateway) exec python -m gateway "$@" ;;
        console) exec python -m console ;;
        migrate-?*) exec promo migrate "${component#migrate-}" "$@" ;;
    esac
    if port=$(service_port "$component"); then
        # --lifespan on: a failing startup (database, Redis, Kafka) exits instead of serving.
        exec uvicorn "services.${component}.main:create_app" --factory --host 0.0.0.0 --port "$port" \
            --lifespan on --no-server-header "$@"
    fi
    return 1
}

usage() {
    services=$(python -c 'from shared.ports import IMPLEMENTED_SERVICES; print(" ".join(IMPLEMENTED_SERVICES))' \
        2>/dev/null) || services="?"
    echo "$1; set PROMO_COMPONENT or pass one of: gateway | console | <service> | migrate-<service>" \
        "(services: $services), or a command" >&2
    exit 64
}

if [ "$#" -gt 0 ]; then
    run "$@" || { command -v "$1" >/dev/null 2>&1 || usage "unknown component or command: $1"; exec "$@"; }
elif [ -n "${PROMO_COMPONENT:-}" ]; then
    run "$PROMO_COMPONENT" || usage "unknown PROMO_COMPONENT=$PROMO_COMPONENT"
else
    usage "nothing to run"
fi
