"""The layer map of docs/architecture holds: no riskkit unit imports a unit above it."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools" / "docs"))

import riskkit_layers  # noqa: E402


def test_every_unit_is_placed_in_a_layer():
    placed = {u for layer in riskkit_layers.LAYERS for u in layer}
    units = set(riskkit_layers.dependencies())
    assert units <= placed, f"place these in riskkit_layers.LAYERS: {sorted(units - placed)}"


def test_imports_only_go_down_the_layers():
    assert riskkit_layers.violations() == []


def test_a_domain_importing_reports_is_caught(monkeypatch):
    deps = riskkit_layers.dependencies()
    deps["scoring"] = deps.get("scoring", set()) | {"reports"}
    monkeypatch.setattr(riskkit_layers, "dependencies", lambda: deps)
    assert riskkit_layers.violations() == ["scoring (layer 4) imports reports (layer 6)"]
