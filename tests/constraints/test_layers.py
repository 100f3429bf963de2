"""Dependencies point one way: sources ← core ← rules ← alerts ← dashboard.

The core is what every subject shares (models, metrics, templates in and out, alerting, demo,
schedules, checks). Entry points (tasks, health, admin, management commands, template tags,
the app config) wire the subjects together and may import any of them.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUBJECTS = ["rules", "alerts", "dashboard"]  # each may import the ones before it
ENTRY_POINTS = ["tasks", "apps", "admin", "management", "templatetags"]


def area_of(module: str) -> str:
    """'sources', 'core', an entry point's name, a subject's name, or '' for other packages."""
    parts = module.split(".")
    if parts[0] == "sources":
        return "sources"
    if parts[0] != "constraints":
        return ""
    if len(parts) == 1:
        return "core"
    if parts[1] in SUBJECTS:
        return parts[1]
    return "entry" if parts[1] in ENTRY_POINTS else "core"


ALLOWED = {
    "sources": {"sources"},
    "core": {"sources", "core"},
    "rules": {"sources", "core", "rules"},
    "alerts": {"sources", "core", "rules", "alerts"},
    "dashboard": {"sources", "core", "rules", "alerts", "dashboard"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function; `from a import b` gives
    `a.b`, so a submodule imported by name counts."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def violations(files: list[Path]) -> list[str]:
    found = []
    for path in files:
        importer = module_name(path)
        allowed = ALLOWED.get(area_of(importer))
        if allowed is None:
            continue
        for imported in sorted(imports_of(path)):
            area = area_of(imported)
            if area and area not in allowed:
                found.append(f"{importer} imports {imported}")
    return found


def project_files() -> list[Path]:
    files = [*ROOT.glob("sources/**/*.py"), *ROOT.glob("constraints/**/*.py")]
    return [path for path in files if "migrations" not in path.parts]


def test_it_finds_no_import_against_the_order():
    assert violations(project_files()) == []


@pytest.mark.parametrize(
    ("importer", "source", "expected"),
    [
        (
            "sources/x.py",
            "from constraints.models import Alert",
            "sources.x imports constraints.models.Alert",
        ),
        (
            "constraints/rules/x.py",
            "from constraints.alerts import delivery",
            "constraints.rules.x imports constraints.alerts.delivery",
        ),
        (
            "constraints/rules/x.py",
            "import constraints.dashboard.page",
            "constraints.rules.x imports constraints.dashboard.page",
        ),
        (
            "constraints/alerts/x.py",
            "from constraints.dashboard.readings import Reading",
            "constraints.alerts.x imports constraints.dashboard.readings.Reading",
        ),
        (
            "constraints/metrics.py",
            "from constraints.rules import evaluation",
            "constraints.metrics imports constraints.rules.evaluation",
        ),
        (
            "constraints/dashboard/x.py",
            "from constraints import tasks",
            "constraints.dashboard.x imports constraints.tasks",
        ),
    ],
)
def test_it_catches_an_import_against_the_order(tmp_path, monkeypatch, importer, source, expected):
    path = tmp_path / importer
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"def f():\n    {source}\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert violations([path]) == [expected]


def test_it_lets_each_subject_import_the_ones_before_it(tmp_path, monkeypatch):
    path = tmp_path / "constraints/dashboard/x.py"
    path.parent.mkdir(parents=True)
    path.write_text(
        "from constraints.alerts import delivery\nfrom constraints.rules import evaluation\n"
        "from constraints import metrics\nfrom sources import http\nimport pandas\n"
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert violations([path]) == []
