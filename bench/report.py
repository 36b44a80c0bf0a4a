"""Turning the wrk results into the targets' verdicts, latest.md and latest.json.

Every scenario is measured once per round and the rounds interleave the scenarios, so a slow
stretch of the machine hits them all alike. A scenario's numbers are the medians over its rounds;
a ratio or a latency difference is taken within each round (same moment) and then the median."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median

from bench.wrk import WrkResult

LABELS = {
    "hello": "hello (bare FastAPI), direct",
    "content": "content, direct",
    "gateway": "content via gateway",
    "gateway_rl": "content via gateway, rate limit on",
    "nginx": "content via nginx",
    "gateway_hello": "hello via gateway (fast backend)",
    "nginx_hello": "hello via nginx (fast backend)",
}
GATEWAYS = {"gateway": "gateway", "gateway_rl": "gateway (rate limit on)"}
Results = dict[tuple[str, int], list[WrkResult]]  # (target, connections) -> one result per round


@dataclass
class Check:
    name: str
    value: float
    unit: str  # "x" (a ratio) or "ms"
    target: str
    passed: bool


def summary(rounds: list[WrkResult]) -> dict:
    rates = [r.requests_per_sec for r in rounds]
    return {"requests_per_sec": median(rates), "requests_per_sec_min": min(rates), "requests_per_sec_max": max(rates),
            "p50_ms": median(r.p50_ms for r in rounds), "p99_ms": median(r.p99_ms for r in rounds),
            "requests": sum(r.requests for r in rounds), "non_2xx": sum(r.non_2xx for r in rounds),
            "socket_errors": sum(r.socket_errors for r in rounds), "errors": sum(r.errors for r in rounds)}


def throughput_ratio(results: Results, name: str, target: str, against: str, connections: int,
                     minimum: float) -> Check:
    pairs = zip(results[target, connections], results[against, connections], strict=True)
    value = median(mine.requests_per_sec / theirs.requests_per_sec for mine, theirs in pairs)
    return Check(name, value, "x", f">= {minimum:g}x", value >= minimum)


def added_p50(results: Results, name: str, target: str, maximum_ms: float, direct: str = "content") -> Check:
    pairs = zip(results[target, 1], results[direct, 1], strict=True)
    value = median(mine.p50_ms - direct.p50_ms for mine, direct in pairs)
    return Check(name, value, "ms", f"<= {maximum_ms:g} ms", value <= maximum_ms)


def evaluate(results: Results, connections: int) -> list[Check]:
    """The issue's targets: throughput at `connections`, added p50 at one connection (over direct)."""
    checks = []
    for key, label in GATEWAYS.items():
        checks += [
            throughput_ratio(results, f"{label} / nginx throughput", key, "nginx", connections, 0.65),
            throughput_ratio(results, f"{label} / direct throughput", key, "content", connections, 0.6),
            added_p50(results, f"{label} added p50 (c=1)", key, 1.0),
        ]
    checks.append(added_p50(results, "nginx added p50 (c=1)", "nginx", 1.0))
    # The same targets with the bare hello app behind both proxies: the gateway's own ceiling.
    checks += [
        throughput_ratio(results, "fast backend: gateway / nginx throughput", "gateway_hello", "nginx_hello",
                         connections, 0.65),
        throughput_ratio(results, "fast backend: gateway / direct throughput", "gateway_hello", "hello",
                         connections, 0.6),
        added_p50(results, "fast backend: gateway added p50 (c=1)", "gateway_hello", 1.0, direct="hello"),
        added_p50(results, "fast backend: nginx added p50 (c=1)", "nginx_hello", 1.0, direct="hello"),
    ]
    return checks


def flagged(results: Results) -> list[str]:
    return [f"{LABELS[target]} c={connections}" for (target, connections), rounds in results.items()
            if any(r.errors for r in rounds)]


def _errors_cell(row: dict) -> str:
    if not row["errors"]:
        return "0"
    return f"**{row['errors']}** (non-2xx {row['non_2xx']}, socket {row['socket_errors']}) FLAGGED"


def _value(check: Check) -> str:
    return f"{check.value:.2f}x" if check.unit == "x" else f"{check.value:+.2f} ms"


def markdown(results: Results, checks: list[Check], meta: dict) -> str:
    lines = [
        "# Benchmark: content read endpoint, direct / gateway / nginx (and both proxies before a bare app)", "",
        f"- run: {meta['date']} on {meta['cpus']} CPUs ({meta['cpu_model']}), load average at start "
        f"{meta['load_before']}, at end {meta['load_after']}",
        f"- Python {meta['python']}, {meta['nginx']}, {meta['wrk']}; database: {meta['database']}",
        f"- endpoint: `GET {meta['endpoint']}` ({meta['banners']} banners from the database); baseline "
        "`GET /hello` on a bare FastAPI app, same uvicorn command line",
        f"- {meta['rounds']} interleaved rounds; in each, every scenario gets a {meta['warmup_s']:g} s warm-up, then "
        f"{meta['round_s']:g} s measured with `wrk --latency -t1` ({meta['rounds'] * meta['round_s']:g} s in all); "
        "every service is one process; both proxies run one process per core (the gateway's GATEWAY_WORKERS, "
        "nginx's worker_processes)",
        "- req/s, p50 and p99 are medians over the rounds; the range is the slowest and fastest round", "",
        "| scenario | connections | req/s | req/s range | p50 | p99 | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for (target, connections), rounds in results.items():
        row = summary(rounds)
        lines.append(f"| {LABELS[target]} | {connections} | {row['requests_per_sec']:,.0f} "
                     f"| {row['requests_per_sec_min']:,.0f}–{row['requests_per_sec_max']:,.0f} "
                     f"| {row['p50_ms']:.2f} ms | {row['p99_ms']:.2f} ms | {_errors_cell(row)} |")
    lines += ["", "## Targets", "", "| check | value | target | result |", "|---|---:|---|---|"]
    lines += [f"| {c.name} | {_value(c)} | {c.target} | {'PASS' if c.passed else 'FAIL'} |" for c in checks]
    lines += ["", f"Throughput ratios at {meta['connections']} connections; added p50 = p50 through the proxy "
              "minus p50 direct, both at one connection. Each is computed within a round, then the median "
              "over the rounds."]
    bad = flagged(results)
    if bad:
        lines += ["", f"**Runs with errors (numbers not trustworthy): {', '.join(bad)}.**"]
    return "\n".join(lines) + "\n"


def as_json(results: Results, checks: list[Check], meta: dict) -> str:
    scenarios = [{"scenario": LABELS[target], "target": target, "connections": connections, **summary(rounds),
                  "flagged": any(r.errors for r in rounds), "rounds": [asdict(r) for r in rounds]}
                 for (target, connections), rounds in results.items()]
    verdicts = [{**asdict(c), "value": round(c.value, 4)} for c in checks]
    return json.dumps({"meta": meta, "scenarios": scenarios, "checks": verdicts}, indent=2, ensure_ascii=False) + "\n"


def write(output_dir: Path, results: Results, checks: list[Check], meta: dict) -> str:
    output_dir.mkdir(parents=True, exist_ok=True)
    text = markdown(results, checks, meta)
    (output_dir / "latest.md").write_text(text)
    (output_dir / "latest.json").write_text(as_json(results, checks, meta))
    return text
