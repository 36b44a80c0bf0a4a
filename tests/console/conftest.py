"""The console as an operator meets it: `promo run` on MariaDB (no demo data, so the totals below
are known exactly), and Debian's chromium driven headless by Playwright. Screenshots of the main
pages land in var/screenshots/ (not committed) for a reviewer to look at."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_suite import database_url_for, pick_offset

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# As root in a container, with nothing reaching out to Google's hosts (refused on a closed network)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def console_suite(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is needed for the console's browser tests: apt-get install chromium")
    var_dir = tmp_path_factory.mktemp("console-suite")
    offset = pick_offset()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "KAFKA_BOOTSTRAP_SERVERS", "ENV")}
    env["DATABASE_URL"] = database_url_for("mariadb", var_dir, prefix="console")
    output = var_dir / "promo-run.out"
    log = open(output, "wb")
    process = subprocess.Popen([sys.executable, "-m", "promo", "run", "--no-seed", "--port-offset", str(offset),
                                "--var-dir", str(var_dir)], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while "Promotion Center is up." not in output.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"promo run did not come up:\n{output.read_text(errors='replace')[-3000:]}")
        time.sleep(0.3)
    ports = json.loads((var_dir / "run.json").read_text())["ports"]
    yield {"console": f"http://localhost:{ports['console']}",
           **{name: f"http://localhost:{port}" for name, port in ports.items() if name != "console"}}
    process.send_signal(signal.SIGINT)
    process.wait(30)
    log.close()


@pytest.fixture(scope="module")
def browser(console_suite):
    """Per module: Playwright's sync API runs an event loop in this thread while it is open, and
    the async tests of the session need the thread's loop free."""
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, console_suite):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert page.errors == [], f"the page threw: {page.errors}"
