"""`python -m mutation`: mutmut's verdicts (after `mutmut run`) as mutation/results.md: counts per
module, and every surviving mutant with its diff, grouped by function."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERDICT = re.compile(r"^\s*(?P<name>\S+): (?P<verdict>.+)$")


def mutmut(*args: str) -> str:
    return subprocess.run([str(Path(sys.executable).parent / "mutmut"), *args], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


def module_and_function(name: str) -> tuple[str, str]:
    module, _, rest = name.partition(".x")
    if "ǁ" in rest:  # a method: xǁClassǁmethod
        _, cls, method = rest.split("ǁ", 2)
        return module, f"{cls}.{method.split('__mutmut_')[0]}"
    return module, rest.lstrip("_").split("__mutmut_")[0]


def main() -> int:
    verdicts = [m.groupdict() for line in mutmut("results", "--all", "true").splitlines()
                if (m := VERDICT.match(line))]
    by_module: dict[str, Counter] = defaultdict(Counter)
    survivors: dict[tuple[str, str], list[str]] = defaultdict(list)
    for v in verdicts:
        module, function = module_and_function(v["name"])
        by_module[module][v["verdict"]] += 1
        if v["verdict"] == "survived":
            survivors[module, function].append(v["name"])
    kinds = sorted({k for counts in by_module.values() for k in counts})
    lines = [f"# make mutate: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
             "mutmut over the pure modules (see pyproject.toml `[tool.mutmut]`), against the tests that need "
             "nothing but Python.", "", "| module | " + " | ".join(kinds) + " |", "|---|" + "---:|" * len(kinds)]
    lines += [f"| {module} | " + " | ".join(str(by_module[module][k]) for k in kinds) + " |"
              for module in sorted(by_module)]
    lines += ["", "## Survivors", ""]
    for (module, function), names in sorted(survivors.items()):
        lines += [f"### {module}: {function} ({len(names)})", ""]
        for name in names:
            lines += ["```diff", mutmut("show", name).strip(), "```"]
        lines.append("")
    out = ROOT / "mutation" / "results.md"
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines[: 6 + len(by_module)]))
    print(f"\n{sum(len(n) for n in survivors.values())} survivors; every diff in {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
