"""The layering that every service keeps, checked: which modules own transactions, and the import
contracts of `make lint` (import-linter), shown to bite on a planted violation."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Modules whose functions may open and commit their own transactions; everywhere else service
# code flushes and the request (or the consumer runner) commits.
OWN_TRANSACTIONS = ("flows.py", "flows/", "jobs.py")


def transaction_calls(path: Path) -> list[int]:
    """Lines that begin or commit a transaction (`.begin()`, `.commit()`; savepoints are fine)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("begin", "commit")]


def test_only_flows_and_jobs_own_transactions():
    found = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        relative = path.relative_to(ROOT / "services").as_posix()
        inside = relative.partition("/")[2]  # the path inside its service
        if "migrations/" in inside or inside.startswith(OWN_TRANSACTIONS):
            continue
        found += [f"services/{relative}:{line}" for line in transaction_calls(path)]
    assert found == [], "begin/commit outside flows.py, flows/ or jobs.py:\n" + "\n".join(found)


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "lint-imports")], cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_the_import_contracts_hold_and_catch_a_planted_cross_service_import(tmp_path):
    assert lint_imports(ROOT).returncode == 0, lint_imports(ROOT).stdout[-3000:]
    copy = tmp_path / "tree"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv*", ".git", "var", "mutants", "__pycache__",
                                                              ".hypothesis", ".pytest_cache", ".ruff_cache"))
    domain = copy / "services" / "groupbuy" / "domain" / "__init__.py"
    domain.write_text(domain.read_text(encoding="utf-8") + "\nfrom services.coupon import domain as _coupon\n",
                      encoding="utf-8")
    broken = lint_imports(copy)
    assert broken.returncode != 0 and "No service imports another BROKEN" in broken.stdout, broken.stdout[-3000:]
