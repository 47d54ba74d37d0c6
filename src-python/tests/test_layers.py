"""The sidecar's layers import downwards only (docs/architecture.md, "Sidecar layers").

Every `import` in sage_sidecar — including ones inside functions and under TYPE_CHECKING — is
checked against the table below, so a cycle such as knowledge/ → services/ → knowledge/ fails here
before it grows.
"""

import ast
import sys
from pathlib import Path

import sage_sidecar

PACKAGE = Path(sage_sidecar.__file__).parent

# What each layer may import, besides itself and the package root (the version).
DOMAIN = {"knowledge", "tools", "storage", "providers", "core", "schemas"}
ALLOWED: dict[str, set[str]] = {
    "schemas": set(),
    "core": {"schemas"},
    "storage": {"core", "schemas"},
    "providers": {"core", "schemas"},
    "tools": {"providers", "core", "schemas"},
    "knowledge": {"storage", "providers", "core", "schemas"},
    "services": DOMAIN,
    "api": {"app_state", "services", *DOMAIN},
    "demo": set(),  # the scripted model server stands alone: tests and the demo run it
}
ROOT = {"sage_sidecar", "sage_sidecar._version"}


def layer_of(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    package = ".".join(("sage_sidecar", *path.relative_to(PACKAGE).parent.parts))
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return [(line, name) for line, name in found if name.split(".")[0] == "sage_sidecar"]


def layer_violations() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = layer_of(path)
        if layer not in ALLOWED:
            continue  # the top: app.py, app_state.py, main.py, __main__.py wire everything
        for line, module in imported_modules(path):
            if module in ROOT:
                continue
            target = module.split(".")[1]
            if target != layer and target not in ALLOWED[layer]:
                where = path.relative_to(PACKAGE.parent)
                problems.append(f"{where}:{line}: {layer}/ must not import {module}")
    return problems


def test_every_layer_is_in_the_table():
    layers = {layer_of(p) for p in PACKAGE.rglob("*.py") if len(p.relative_to(PACKAGE).parts) > 1}
    assert layers <= ALLOWED.keys(), f"add {layers - ALLOWED.keys()} to ALLOWED"


def test_layers_import_downwards_only():
    assert layer_violations() == []


# The database engine's own modules, and SQL written as text, stay behind storage/: everything else
# speaks SQLAlchemy expressions, which a PostgreSQL deployment can run unchanged.
DATABASE_SPECIFIC = {"sqlite3", "aiosqlite", "sqlalchemy.dialects.sqlite"}


def database_specifics_outside_storage() -> list[str]:
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if layer_of(path) == "storage":
            continue
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
                if node.module == "sqlalchemy":
                    names += [f"sqlalchemy.{a.name}" for a in node.names if a.name == "text"]
            for name in names:
                specific = any(name == d or name.startswith(f"{d}.") for d in DATABASE_SPECIFIC)
                if specific or name == "sqlalchemy.text":
                    problems.append(f"{where}:{node.lineno}: {name} belongs in storage/")
    return problems


def test_sql_and_sqlite_stay_in_storage():
    assert database_specifics_outside_storage() == []


def test_the_check_sees_a_violation(tmp_path, monkeypatch):
    fake = tmp_path / "sage_sidecar"
    (fake / "knowledge").mkdir(parents=True)
    (fake / "knowledge" / "bad.py").write_text(
        "def later():\n    from sage_sidecar.services.chat import ChatEngine\n"
    )
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", fake)
    assert layer_violations() == [
        "sage_sidecar/knowledge/bad.py:2: knowledge/ must not import sage_sidecar.services.chat"
    ]
