"""The allowed imports between the parts (docs/ARCHITECTURE.md, "Allowed imports"), read from the source
with ``ast`` (function-level imports included), so that a shortcut fails here rather than in review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "campaignid"
NOT_PROVIDERS = ("tests", "management", "migrations")
PROVIDERS = sorted(p for p in (ROOT / "channels").iterdir()
                   if p.is_dir() and (p / "__init__.py").exists() and p.name not in NOT_PROVIDERS)
# Routers and the API package answer HTTP: only they may raise ApiError.
ROUTER_NAMES = {"api.py", "edges.py", "api_sync.py"}


def _module(path: Path) -> str:
    return ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)


def _imports(path: Path) -> set[str]:
    """Every module (and ``module.name``) this file imports, relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module(path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _sources(folder: Path, tests: bool = False):
    for path in sorted(folder.rglob("*.py")):
        if not tests and ("tests" in path.parts or "migrations" in path.parts):
            continue
        yield path


def _offending(paths, forbidden: tuple[str, ...]) -> list[str]:
    out = []
    for path in paths:
        for name in sorted(_imports(path)):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                out.append(f"{path.relative_to(ROOT.parent)} imports {name}")
    return out


@pytest.mark.parametrize("package", PROVIDERS, ids=lambda p: p.name)
def test_a_provider_package_knows_no_delivery_table_card_programme_or_http_edge(package):
    forbidden = ("campaignid.distribution", "campaignid.api", "campaignid.dashboard", "campaignid.programs",
                 "campaignid.cards", "campaignid.dhis2", "campaignid.verification", "campaignid.ops")
    assert _offending(_sources(package), forbidden) == []


def test_the_channels_app_does_not_reach_into_the_engine():
    """Distribution uses channels (registry, contract, configuration), never the reverse: the engine
    registers hooks (card changes, template syncs) instead."""
    assert _offending(_sources(ROOT / "channels"), ("campaignid.distribution",)) == []


def test_only_the_api_package_and_routers_know_api_error():
    paths = [p for p in _sources(ROOT) if "api" not in p.relative_to(ROOT).parts[:1]
             and p.name not in ROUTER_NAMES and not p.name.endswith("_api.py")]
    assert _offending(paths, ("campaignid.api.errors.ApiError",)) == []


def test_the_sandboxes_share_no_code_with_the_clients_they_emulate():
    forbidden = ("campaignid.channels", "campaignid.distribution", "campaignid.cards", "campaignid.programs",
                 "campaignid.api", "campaignid.dashboard")
    assert _offending(_sources(ROOT / "sandbox"), forbidden) == []


EDGE_PARTS = ("ops", "api", "dashboard")  # the ops app itself, the API assembly, the dashboard views
EDGE_FILES = {"urls.py", "views.py", "api.py", "ratelimit.py"}  # URL conf, views, routers, the views' rate limit


def test_operations_are_imported_by_the_edges_only():
    paths = [p for p in _sources(ROOT) if p.relative_to(ROOT).parts[0] not in EDGE_PARTS
             and p.name not in EDGE_FILES and not p.name.endswith("_api.py")]
    assert _offending(paths, ("campaignid.ops",)) == []


def test_the_import_reader_sees_function_level_and_relative_imports(tmp_path):
    """The checks above would pass vacuously if the reader missed imports: prove it reads them."""
    assert "campaignid.distribution.wallet" in _imports(ROOT / "distribution" / "apps.py")
    assert "campaignid.lib.errors.DomainError" in _imports(ROOT / "distribution" / "wallet.py")
    found = _imports(ROOT / "channels" / "google_wallet" / "channel.py")
    assert "campaignid.channels.base.SendError" in found and "campaignid.channels.google_wallet.payload" in found
