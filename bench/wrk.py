"""Running wrk (the load generator) and reading its `--latency` report."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
DURATION = r"([\d.]+)(us|ms|s|m|h)"


@dataclass
class WrkResult:
    requests: int
    requests_per_sec: float
    p50_ms: float
    p99_ms: float
    non_2xx: int = 0
    socket_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)  # when the script prints "status <code> <count>"

    @property
    def errors(self) -> int:
        return self.non_2xx + self.socket_errors


def ensure_installed(tools: dict[str, str]) -> None:
    """Install the missing ones ({binary: Debian package}) with apt-get; update the index only if needed."""
    missing = sorted({package for binary, package in tools.items() if shutil.which(binary) is None})
    if not missing:
        return
    if shutil.which("apt-get") is None:
        raise SystemExit(f"missing {', '.join(missing)} and no apt-get to install them; install them and rerun")
    print(f"installing {', '.join(missing)} with apt-get...", flush=True)
    install = ["apt-get", "install", "-y", "-q", *missing]
    if subprocess.run(install, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True)
        done = subprocess.run(install, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"could not install {', '.join(missing)}:\n{done.stderr[-2000:]}")
    still_missing = [binary for binary in tools if shutil.which(binary) is None]
    if still_missing:
        raise SystemExit(f"{', '.join(still_missing)} still not on PATH after installing {', '.join(missing)}")


def version(binary: str, *args: str) -> str:
    done = subprocess.run([binary, *args], capture_output=True, text=True)
    return (done.stdout + done.stderr).splitlines()[0].strip() if done.stdout or done.stderr else "unknown"


def run(url: str, connections: int, seconds: int, script: Path | None = None) -> WrkResult:
    """`script`: a wrk Lua file setting the method, body and headers (POST scenarios)."""
    argv = ["wrk", "--latency", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s",
            *(["-s", str(script)] if script else []), url]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse(done.stdout)


def parse(output: str) -> WrkResult:
    def find(pattern: str) -> re.Match[str] | None:
        return re.search(pattern, output, re.MULTILINE)

    def duration_ms(percentile: int) -> float:
        match = find(rf"^\s*{percentile}%\s+{DURATION}\s*$")
        if match is None:
            raise ValueError(f"no {percentile}% latency in wrk output:\n{output}")
        return float(match[1]) * UNIT_MS[match[2]]

    total = find(r"^\s*(\d+) requests in")
    rate = find(r"^Requests/sec:\s+([\d.]+)")
    if total is None or rate is None:
        raise ValueError(f"unexpected wrk output:\n{output}")
    socket = find(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    non_2xx = find(r"Non-2xx or 3xx responses: (\d+)")
    return WrkResult(
        requests=int(total[1]), requests_per_sec=float(rate[1]), p50_ms=duration_ms(50), p99_ms=duration_ms(99),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(n) for n in socket.groups()) if socket else 0,
        statuses={int(code): int(n) for code, n in re.findall(r"^status (\d+) (\d+)$", output, re.MULTILINE)})
