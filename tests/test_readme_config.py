"""The README's configuration table must name every setting a process reads, and nothing else."""

import re
from pathlib import Path

from console.settings import ConsoleSettings
from gateway.settings import GatewaySettings
from promo.registry import IMPLEMENTED_SERVICES, settings_class

README = Path(__file__).resolve().parent.parent / "README.md"


def documented() -> set[str]:
    table = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in table.splitlines():
        if row.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1]))
    return names


def settings_names() -> set[str]:
    classes = [GatewaySettings, ConsoleSettings, *(settings_class(name) for name in IMPLEMENTED_SERVICES)]
    return {field.upper() for cls in classes for field in cls.model_fields}


def test_every_setting_is_documented():
    assert settings_names() - documented() == set()


def test_nothing_documented_that_no_process_reads():
    assert documented() - settings_names() == set()


ROOT = README.parent


def test_the_readme_links_every_service_readme_and_the_docs():
    text = README.read_text()
    for path in [*sorted(ROOT.glob("services/*/README.md")), *sorted(ROOT.glob("docs/*.md"))]:
        assert f"({path.relative_to(ROOT)})" in text, f"README.md does not link {path.relative_to(ROOT)}"


def test_the_repository_cites_no_document_outside_it():
    """The repository stands alone: its own docs/ hold the architecture and the contracts."""
    sources = [*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("deploy/**/*.md"),
               *ROOT.glob("bench/**/*.md"), *ROOT.glob("services/**/*.md"), *ROOT.glob("services/**/*.py"),
               *ROOT.glob("shared/**/*.py"), *ROOT.glob("gateway/**/*.py"), *ROOT.glob("promo/**/*.py")]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for needle in (*(f"{name}.md" for name in ("ARCHITECTURE", "CONVENTIONS")), "../shared/"):
            assert needle not in text, f"{path.relative_to(ROOT)} cites {needle}"
