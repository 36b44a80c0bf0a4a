"""`python -m bench [--duration S] [--rounds N] [--connections N] [--output-dir DIR]`: see bench/README.md."""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench import cart_page, coupon_rush, pricing_quote, report, seckill_crowd, voucher_nearby, wrk
from bench.stack import BANNERS, Stack, fetch

WARMUP_SECONDS = 2
# each at --connections, then at one
TARGETS = ["hello", "content", "gateway", "gateway_rl", "nginx", "gateway_hello", "nginx_hello"]
PROXIED = ["content", "gateway", "gateway_rl", "nginx"]  # every way to reach the content endpoint


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--duration", type=float, default=10.0,
                        help="measured seconds per scenario over all rounds, whole seconds per round (default 10)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="interleaved rounds the duration is split into; medians are reported (default 3)")
    parser.add_argument("--connections", type=int, default=32, help="connections for the throughput runs (32)")
    parser.add_argument("--only", choices=["gateway", "coupon", "pricing", "seckill", "voucher", "cart"], default=None,
                        help="run one part: the proxy comparison, the hot coupon template race, the quote "
                             "benchmark, the flash crowd, stores near me or the cart page (default: all)")
    parser.add_argument("--output-dir", type=Path, default=Path(__file__).parent / "results",
                        help="where latest.md and latest.json go (default bench/results)")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.duration <= 0 or args.connections < 1:
        parser.error("--rounds and --connections must be at least 1, --duration positive")
    return args


def round_seconds(args: argparse.Namespace) -> int:
    """wrk takes whole seconds: the duration split over the rounds, rounded up."""
    return math.ceil(args.duration / args.rounds)


def path_of(target: str) -> str:
    return BANNERS  # the hello app answers every path, so every scenario requests the same one


def check_same_answer(stack: Stack) -> int:
    """Every route to the content endpoint answers 200 with the same banners; returns how many."""
    bodies = {}
    for target in PROXIED:
        status, body = fetch(stack.urls[target] + BANNERS)
        if status != 200:
            raise RuntimeError(f"{target} answered {status} for {BANNERS}")
        bodies[target] = json.loads(body)
    if any(body != bodies["content"] for body in bodies.values()):
        raise RuntimeError(f"the routes answer differently: {bodies}")
    return len(bodies["content"])


def measure(stack: Stack, target: str, connections: int, seconds: int) -> wrk.WrkResult:
    url = stack.urls[target] + path_of(target)
    wrk.run(url, connections, WARMUP_SECONDS)  # warm-up, discarded
    result = wrk.run(url, connections, seconds)
    flag = f"  ERRORS: {result.errors}" if result.errors else ""
    print(f"    {report.LABELS[target]:<36} c={connections:<3} {result.requests_per_sec:>9,.0f} req/s  "
          f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms{flag}", flush=True)
    return result


def measure_rounds(stack: Stack, connections: int, rounds: int, seconds: int) -> report.Results:
    scenarios = [(target, connections) for target in TARGETS] + [(target, 1) for target in TARGETS]
    results: report.Results = {scenario: [] for scenario in scenarios}
    for number in range(1, rounds + 1):
        print(f"round {number}/{rounds} ({WARMUP_SECONDS:g} s warm-up + {seconds:g} s per scenario):", flush=True)
        for target, clients in scenarios:
            results[target, clients].append(measure(stack, target, clients, seconds))
    return results


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.only in (None, "gateway"):
        gateway_bench(args)
    if args.only in (None, "coupon"):
        coupon_bench(args)
    if args.only in (None, "pricing"):
        pricing_bench(args)
    if args.only in (None, "seckill"):
        seckill_bench(args)
    if args.only in (None, "voucher"):
        voucher_bench(args)
    if args.only in (None, "cart"):
        cart_bench(args)


def cart_bench(args: argparse.Namespace) -> None:
    _wrk_part(args, cart_page, "cart", "cart page", "redis, tansu, the coupon, pricing and cart services")


def voucher_bench(args: argparse.Namespace) -> None:
    """Stores near me on 100,000 stores in MariaDB (no service process: the search is timed through
    the voucher service's own code, and EXPLAIN shows its index)."""
    print("filling promo_bench_voucher with 100,000 stores...", flush=True)
    result = voucher_nearby.run()
    result["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    result["cpu"], result["load_average"] = cpu_model(), load_average()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    text = (f"# Benchmark: stores near me ({result['date']}, {os.cpu_count()} CPUs {result['cpu']}, "
            f"MariaDB, load {result['load_average']})\n\n") + voucher_nearby.markdown(result)
    (args.output_dir / "voucher.md").write_text(text)
    (args.output_dir / "voucher.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(text, flush=True)


def pricing_bench(args: argparse.Namespace) -> None:
    _wrk_part(args, pricing_quote, "pricing", "pricing quote",
              "redis, tansu, the coupon and pricing services for the quote benchmark")


def seckill_bench(args: argparse.Namespace) -> None:
    _wrk_part(args, seckill_crowd, "seckill", "seckill flash crowd",
              "redis, tansu, two seckill services, the gateway and hello for the flash crowd")


def _wrk_part(args: argparse.Namespace, part, service: str, title: str, starting: str) -> None:
    """Run `part` (a module with run(stack, seconds, rounds) and markdown(result)) on its own
    stack; the report goes to <service>.md and <service>.json."""
    with tempfile.TemporaryDirectory(prefix=f"promo-bench-{service}-") as workdir:
        stack = Stack(Path(workdir))
        try:
            print(f"starting {starting}...", flush=True)
            wrk.ensure_installed({"wrk": "wrk"})
            result = part.run(stack, round_seconds(args), args.rounds)
        except Exception:
            print(f"{service} service log (tail):\n" + stack.log_tail(service, 40), file=sys.stderr)
            raise
        finally:
            stack.stop()
    result["date"], result["database"] = datetime.now(UTC).isoformat(timespec="seconds"), stack.database
    result["cpu"], result["load_average"] = cpu_model(), load_average()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    text = (f"# Benchmark: {title} ({result['date']}, {os.cpu_count()} CPUs {result['cpu']}, "
            f"{stack.database}, load {result['load_average']})\n\n")
    text += part.markdown(result)
    (args.output_dir / f"{service}.md").write_text(text)
    (args.output_dir / f"{service}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(text, flush=True)


def coupon_bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="promo-bench-coupon-") as workdir:
        stack = Stack(Path(workdir))
        try:
            print("starting redis, tansu and the coupon service for the hot-template race...", flush=True)
            result = coupon_rush.run(stack)
            if result["unexpected"]:
                print("coupon service log (tail):\n" + stack.log_tail("coupon", 40), file=sys.stderr)
        finally:
            stack.stop()
    result["date"], result["database"] = datetime.now(UTC).isoformat(timespec="seconds"), stack.database
    args.output_dir.mkdir(parents=True, exist_ok=True)
    text = f"# Benchmark: hot coupon template ({result['date']}, {os.cpu_count()} CPUs, {stack.database})\n\n"
    text += coupon_rush.markdown(result)
    (args.output_dir / "coupon.md").write_text(text)
    (args.output_dir / "coupon.json").write_text(json.dumps(result, indent=2) + "\n")
    print("\n" + text)


def gateway_bench(args: argparse.Namespace) -> None:
    wrk.ensure_installed({"wrk": "wrk", "nginx": "nginx"})
    meta = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(), "cpu_model": cpu_model(),
            "python": platform.python_version(), "platform": platform.platform(), "nginx": wrk.version("nginx", "-v"),
            "wrk": wrk.version("wrk", "--version").split(" [")[0], "endpoint": BANNERS, "load_before": load_average(),
            "warmup_s": WARMUP_SECONDS, "duration_s": args.duration, "rounds": args.rounds,
            "round_s": round_seconds(args), "connections": args.connections}
    with tempfile.TemporaryDirectory(prefix="promo-bench-") as workdir:
        os.chmod(workdir, 0o755)  # nginx workers run as nobody
        stack = Stack(Path(workdir))
        try:
            print("starting redis, tansu, content, hello, three gateways and two nginx...", flush=True)
            stack.start()
            meta["database"] = stack.database
            meta["banners"] = check_same_answer(stack)
            results = measure_rounds(stack, args.connections, args.rounds, round_seconds(args))
        finally:
            stack.stop()
    meta["load_after"] = load_average()
    checks = report.evaluate(results, args.connections)
    print("\n" + report.write(args.output_dir, results, checks, meta))
    failed = [c.name for c in checks if not c.passed]
    print(f"targets missed: {', '.join(failed)}" if failed else "all targets met")
    if report.flagged(results):
        print(f"WARNING: runs with errors: {', '.join(report.flagged(results))}", file=sys.stderr)


if __name__ == "__main__":
    main()
