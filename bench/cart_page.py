"""The cart page against pricing's bare quote: a 20-line cart with the demo promotions.

The stack: the coupon and pricing services (pricing seeded with its demo promotions: a
limited-time discount on SKUs 1001/1002 and 满100减10 / 满200减25 over every product) and the cart
service, each one uvicorn process on MariaDB (SQLite if none answers). Two carts of the same 20
lines: a device's (anonymous) and a member's. Measured with wrk in interleaved rounds:

- `cart_device`: `GET /app-api/cart` with `X-Device-Id` (the cart calls pricing's anonymous quote);
- `quote_anonymous`: `POST /app-api/pricing/quote` straight to pricing with the lines the cart sends;
- `cart_member`: `GET /app-api/cart` with the member's token (the cart calls pricing's /internal
  quote, which asks the coupon service for the member's coupons);
- `quote_member`: `POST /internal/pricing/quote` with the service token and the member's id.

The ratio cart / quote (requests per second, per round, then the median) is the cart's own
overhead: reading the lines, one call to pricing, building the page. `run(stack, seconds, rounds)`
and `markdown(result)`, as bench/pricing_quote.py.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

import httpx

from bench import wrk
from bench.stack import ROOT, Stack
from shared.auth import Role, issue_token
from shared.settings import CommonSettings

LINES = 20
CONNECTIONS = 16
DEVICE = "bench-device-0001"
MEMBER = 6_000_001
SCENARIOS = ("cart_device", "quote_anonymous", "cart_member", "quote_member")
PAIRS = {"device": ("cart_device", "quote_anonymous"), "member": ("cart_member", "quote_member")}


def cart_lines() -> list[dict]:
    """The demo's SKUs 1001-1003 (SPUs 101-103, category 11, two of them discounted) and 17 more."""
    demo = [(1001, 101, 19900), (1002, 102, 5900), (1003, 103, 2900)]
    more = [(50_000 + n, 50_000 + n, 1990 + 37 * n) for n in range(LINES - len(demo))]
    return [{"sku_id": sku, "spu_id": spu, "category_id": 11, "quantity": 1 + n % 3, "unit_price": price}
            for n, (sku, spu, price) in enumerate(demo + more)]


def _token(subject: str | int, role: Role) -> str:
    return issue_token(CommonSettings(_env_file=None, env="dev"), subject, role, ttl_seconds=3600)


def start(stack: Stack) -> None:
    """Infrastructure, coupon and pricing (seeded with the demo promotions), then the cart."""
    stack.start_pricing()
    done = subprocess.run([sys.executable, "-m", "promo", "seed", "pricing"], env=stack.env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"promo seed pricing failed:\n{done.stdout}{done.stderr}")
    stack._prepare_database("cart", seed=False)
    stack.env["PRICING_URL"] = stack.urls["pricing"]
    stack._start_uvicorn("cart", "services.cart.main:create_app", factory=True)
    stack._wait_ready({"cart": "/readyz"})


def headers_of(kind: str) -> dict[str, str]:
    if kind == "device":
        return {"X-Device-Id": DEVICE}
    return {"Authorization": f"Bearer {_token(MEMBER, Role.MEMBER)}"}


def fill(cart: str) -> None:
    with httpx.Client(timeout=30) as client:
        for kind in PAIRS:
            for line in cart_lines():
                answer = client.post(f"{cart}/app-api/cart/lines", json=line, headers=headers_of(kind))
                if answer.status_code != 200:
                    raise RuntimeError(f"add to the {kind} cart: {answer.status_code} {answer.text[:300]}")


def check_page(cart: str, kind: str) -> tuple[list[dict], dict]:
    """The page answers with the demo promotions; returns the lines as the cart sends them to
    pricing, and what the page showed."""
    page = httpx.get(f"{cart}/app-api/cart", headers=headers_of(kind), timeout=30).json()
    applied = [p["name"] for p in page.get("promotions", []) if p["applied"]]
    if len(page.get("lines", [])) != LINES or not page.get("promotions_available") or len(applied) < 2:
        raise RuntimeError(f"the {kind} cart page is not priced with the demo promotions: {str(page)[:500]}")
    lines = [{"sku_id": x["sku_id"], "spu_id": x["spu_id"], "category_id": x["category_id"],
              "unit_price": x["unit_price"], "count": x["quantity"], "selected": x["selected"]} for x in page["lines"]]
    return lines, {"applied_promotions": applied, "pay": page["totals"]["pay"], "bytes": len(json.dumps(page))}


def scripts(workdir: Path, lines: list[dict]) -> dict[str, Path]:
    """One wrk Lua file per scenario (method, body, headers)."""
    service = _token("promo-order", Role.SERVICE)
    member = headers_of("member")["Authorization"]
    bodies = {"quote_anonymous": json.dumps({"lines": lines}),
              "quote_member": json.dumps({"user_id": MEMBER, "lines": lines})}
    headers = {"cart_device": {"X-Device-Id": DEVICE}, "cart_member": {"Authorization": member},
               "quote_anonymous": {"Content-Type": "application/json"},
               "quote_member": {"Content-Type": "application/json", "Authorization": f"Bearer {service}"}}
    paths = {}
    for name in SCENARIOS:
        text = "".join(f'wrk.headers["{key}"] = "{value}"\n' for key, value in headers[name].items())
        if name in bodies:
            text = f'wrk.method = "POST"\nwrk.body = [[{bodies[name]}]]\n' + text
        paths[name] = workdir / f"cart-{name}.lua"
        paths[name].write_text(text)
    return paths


def check_quotes(pricing: str, lines: list[dict]) -> None:
    answers = {
        "quote_anonymous": httpx.post(f"{pricing}/app-api/pricing/quote", json={"lines": lines}, timeout=30),
        "quote_member": httpx.post(f"{pricing}/internal/pricing/quote", json={"user_id": MEMBER, "lines": lines},
                                   headers={"Authorization": f"Bearer {_token('promo-order', Role.SERVICE)}"},
                                   timeout=30)}
    for name, answer in answers.items():
        if answer.status_code != 200:
            raise RuntimeError(f"{name}: {answer.status_code} {answer.text[:300]}")


def run(stack: Stack, seconds: int, rounds: int) -> dict:
    start(stack)
    fill(stack.urls["cart"])
    pages = {kind: check_page(stack.urls["cart"], kind) for kind in PAIRS}
    lines = pages["device"][0]
    check_quotes(stack.urls["pricing"], lines)
    paths = scripts(stack.workdir, lines)
    urls = {"cart_device": stack.urls["cart"] + "/app-api/cart", "cart_member": stack.urls["cart"] + "/app-api/cart",
            "quote_anonymous": stack.urls["pricing"] + "/app-api/pricing/quote",
            "quote_member": stack.urls["pricing"] + "/internal/pricing/quote"}
    runs: dict[str, list[wrk.WrkResult]] = {name: [] for name in SCENARIOS}
    for number in range(1, rounds + 1):
        for name in SCENARIOS:
            wrk.run(urls[name], CONNECTIONS, 1, script=paths[name])  # warm-up
            r = wrk.run(urls[name], CONNECTIONS, seconds, script=paths[name])
            runs[name].append(r)
            print(f"  round {number} {name:<16} c={CONNECTIONS} {r.requests_per_sec:8,.0f} req/s  "
                  f"p50 {r.p50_ms:6.2f} ms  p99 {r.p99_ms:6.2f} ms  errors {r.errors}", flush=True)
    result: dict = {"http": {name: {"requests_per_sec": round(statistics.median(r.requests_per_sec for r in rs), 1),
                                    "p50_ms": round(statistics.median(r.p50_ms for r in rs), 2),
                                    "p99_ms": round(statistics.median(r.p99_ms for r in rs), 2),
                                    "errors": sum(r.errors for r in rs)} for name, rs in runs.items()}}
    for kind, (cart, quote) in PAIRS.items():
        ratios = [c.requests_per_sec / q.requests_per_sec for c, q in zip(runs[cart], runs[quote], strict=True)]
        result[f"ratio_{kind}"] = round(statistics.median(ratios), 3)
        result[f"ratios_{kind}"] = [round(r, 3) for r in ratios]
    result["pages"] = {kind: page for kind, (_, page) in pages.items()}
    result["lines"], result["rounds"], result["seconds"], result["connections"] = LINES, rounds, seconds, CONNECTIONS
    return result


LABELS = {"cart_device": "cart page, device (`GET /app-api/cart`, X-Device-Id)",
          "quote_anonymous": "pricing's anonymous quote of the same lines (`POST /app-api/pricing/quote`)",
          "cart_member": "cart page, member (`GET /app-api/cart`, member token)",
          "quote_member": "pricing's quote for the member (`POST /internal/pricing/quote`)"}


def markdown(result: dict) -> str:
    http = result["http"]
    rows = [f"| {LABELS[name]} | {http[name]['requests_per_sec']:,} | {http[name]['p50_ms']} ms "
            f"| {http[name]['p99_ms']} ms | {http[name]['errors']} |" for name in SCENARIOS]
    applied = ", ".join(result["pages"]["device"]["applied_promotions"])
    return "\n".join([
        "## Cart page", "",
        f"A {result['lines']}-line cart with the demo promotions ({applied}), wrk -c{result['connections']}, "
        f"{result['rounds']} interleaved rounds of {result['seconds']} s, medians. The cart, pricing and coupon "
        "services are one uvicorn process each on the same machine as wrk.", "",
        "| scenario | req/s | p50 | p99 | errors |", "|---|---:|---:|---:|---:|", *rows, "",
        f"Cart page / bare quote, requests per second, per round: device {result['ratios_device']} (median "
        f"{result['ratio_device']}), member {result['ratios_member']} (median {result['ratio_member']}). "
        "The difference is the cart's own work: reading the lines, the call to pricing, building the page.", ""])
