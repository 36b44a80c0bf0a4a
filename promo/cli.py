"""promo: dev tokens, migrations, demo data, hand-published events, and `promo run`.

    promo run [--port-offset N]          the suite on embedded defaults (make run)
    promo token member 1001              a dev JWT (HS256, dev/test only)
    promo migrate [service ...]          alembic upgrade head for each service's DATABASE_URL
    promo seed [service ...]             demo data where a service has none (`promo run` seeds new databases only)
    promo publish order.paid '{"order_id": 1, ...}'   an event, validated against its contract
    promo replay <service> [event-id ...]  handle parked events again
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from promo import registry
from promo.databases import migrate, seed
from promo.run import run as run_suite
from shared.auth import Role, issue_token
from shared.consumer import ConsumerRunner
from shared.events import CONTRACTS, encode, new_event
from shared.kafka import make_producer
from shared.settings import CommonSettings


def replay(service: str, event_ids: list[str]) -> None:
    """Parked events through the service's own handlers, with its resources set up as when it
    serves (a handler may need more than the database), but no relay, consumer or job."""

    async def run() -> dict:
        app = registry.create_app(service)
        app.state.background = False
        async with app.router.lifespan_context(app):
            messaging, settings = app.state.messaging, app.state.settings
            runner = ConsumerRunner(handlers=messaging.handlers, inbox=messaging.inbox,
                                    sessionmaker=app.state.sessionmaker, clock=app.state.clock,
                                    max_attempts=settings.consumer_max_attempts)
            return await runner.replay(event_ids or None)

    outcomes = asyncio.run(run())
    for event_id, outcome in outcomes.items():
        print(f"{event_id}: {outcome}")
    print(f"{len(outcomes)} parked event(s) replayed" if outcomes else "no parked events")


def _running_suite_env(var_dir: Path) -> None:
    """Point at the broker of the suite `promo run` started, unless KAFKA_BOOTSTRAP_SERVERS is set."""
    state_file = var_dir / "run.json"
    if "KAFKA_BOOTSTRAP_SERVERS" not in os.environ and state_file.exists():
        os.environ["KAFKA_BOOTSTRAP_SERVERS"] = json.loads(state_file.read_text())["kafka"]
        os.environ.setdefault("KAFKA_ENABLE_IDEMPOTENCE", "false")  # the embedded broker is Tansu


def publish(event_type: str, data: dict, subject: str | None) -> str:
    contract = CONTRACTS.get(event_type)
    if contract is None:
        raise SystemExit(f"unknown event type {event_type!r}; known: {', '.join(CONTRACTS)}")
    now = datetime.now(UTC)
    for field_name in contract.model_fields:
        if field_name.endswith("_at"):
            data.setdefault(field_name, now.isoformat())
    try:
        payload = contract.model_validate(data)
    except ValidationError as exc:
        raise SystemExit(f"not a valid {event_type} event:\n{exc}") from exc
    subject = subject or str(data.get("order_id") or data.get("user_id"))
    envelope = new_event(event_type, source="promo-cli", subject=subject, data=payload, time=now)

    async def send() -> None:
        producer = make_producer(CommonSettings())
        await producer.start()
        try:
            await producer.send_and_wait(event_type, encode(envelope), key=subject.encode())
        finally:
            await producer.stop()

    asyncio.run(send())
    return envelope.id


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="promo", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the whole suite (make run)")
    run.add_argument("--port-offset", type=int, default=0, help="add this to every port (two suites on one machine)")
    run.add_argument("--var-dir", type=Path, default=Path("var"), help="SQLite files, logs, run.json")
    run.add_argument("--no-seed", action="store_true", help="do not add demo data")
    run.add_argument("services", nargs="*", help="default: every implemented service")

    token = sub.add_parser("token", help="print a dev JWT")
    token.add_argument("role", choices=[r.value for r in Role])
    token.add_argument("subject", nargs="?", default=None, help="user id (or service name); default by role")
    token.add_argument("--business-id", type=int, default=None, help="merchant's business id (default 1)")
    token.add_argument("--ttl", type=int, default=86400, help="seconds")

    for name, text in (("migrate", "alembic upgrade head"), ("seed", "add demo data")):
        cmd = sub.add_parser(name, help=text)
        cmd.add_argument("services", nargs="*")

    rep = sub.add_parser("replay", help="handle parked events again (after fixing what made them fail)")
    rep.add_argument("service")
    rep.add_argument("event_ids", nargs="*", help="default: every parked event of the service")

    pub = sub.add_parser("publish", help="publish an order.paid / order.cancelled / user.registered event")
    pub.add_argument("type")
    pub.add_argument("data", help="the event's data as JSON; *_at fields default to now")
    pub.add_argument("--subject", default=None, help="message key; default order_id or user_id")
    pub.add_argument("--var-dir", type=Path, default=Path("var"),
                     help="without KAFKA_BOOTSTRAP_SERVERS: the broker of the `promo run` using this folder")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    # A developer's tool: without ENV it acts as in dev (a dev token, a migration from a plain
    # shell). Services started with ENV=prod still refuse the dev secret: this weakens nothing.
    os.environ.setdefault("ENV", "dev")
    try:
        _dispatch(args)
    except ValidationError as exc:  # settings from the environment that do not hold together
        raise SystemExit(f"promo {args.command}: invalid settings:\n{exc}") from exc


def _dispatch(args: argparse.Namespace) -> None:
    if args.command == "run":
        run_suite(args.var_dir, args.port_offset, not args.no_seed, registry.check(args.services))
    elif args.command == "token":
        role = Role(args.role)
        default_subject = {Role.MEMBER: "1001", Role.MERCHANT: "2001", Role.ADMIN: "1", Role.SERVICE: "order-service"}
        business_id = args.business_id or (1 if role is Role.MERCHANT else None)
        print(issue_token(CommonSettings(), args.subject or default_subject[role], role,
                          business_id=business_id, ttl_seconds=args.ttl))
    elif args.command == "migrate":
        migrate(args.services)
    elif args.command == "seed":
        seed(args.services)
    elif args.command == "replay":
        replay(registry.check([args.service])[0], args.event_ids)
    elif args.command == "publish":
        try:
            data = json.loads(args.data)
        except json.JSONDecodeError as exc:
            raise SystemExit(f"data is not JSON: {exc}") from exc
        _running_suite_env(args.var_dir)
        print(publish(args.type, data, args.subject))


if __name__ == "__main__":
    main(sys.argv[1:])
