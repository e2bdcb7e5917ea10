"""The intended layers of riskkit and the actual imports between its units.

A *unit* is a subpackage (``scoring``, ``migration``, ...) or a top-level module
(``categories``, ``policy``, ...). Layers go from the foundation (0) to the applications; a
unit may import units of lower layers and its own layer's foundations listed before it.
Used by the docs' layer map and by ``tests/test_architecture.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "riskkit"

#: Bottom to top. Within a layer, units do not import each other except as noted in ALLOWED.
LAYERS: list[list[str]] = [
    ["errors", "atomic", "deprecation", "policy", "privacy", "formatting", "plotting"],
    ["categories", "risk_signals", "results"],
    ["book"],
    ["store", "io", "partitioned", "engine"],
    ["scoring", "lending", "classification", "inspection", "migration", "workout", "provisions"],
    ["datasets"],
    ["reports", "widgets"],
    ["cli", "__init__"],
]

#: Imports between units of one layer that the design allows (unit -> units).
ALLOWED: dict[str, set[str]] = {
    # the plan and watch list read a classification result; the periodic re-review re-scores
    # customers with the lending champion and suggests a limit by the lending rules
    "inspection": {"classification", "lending"},
    "lending": {"scoring"},  # the loan decision scores the application with the champion model
    "workout": {"classification"},  # write-off eligibility is judged on the classification
    "provisions": {"migration"},  # ECL term structures come from the migration matrices
    # a partitioned book is read and written table by table as an extract is; the store
    # keeps its book as one; the engine runs over a partitioned book's partitions
    "io": {"partitioned"},
    "partitioned": {"io", "engine"},
    "store": {"partitioned"},
    "engine": {"partitioned"},
}


def unit_of(module: str) -> str | None:
    """``riskkit.scoring.binning`` -> ``scoring``; not riskkit -> None."""
    parts = module.split(".")
    if parts[0] != "riskkit":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _imports(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                pkg = base[: len(base) - node.level + 1]
                target = ".".join(pkg + ([node.module] if node.module else []))
                if node.module is None:  # from . import x
                    found.update(f"{target}.{a.name}" for a in node.names)
                else:
                    found.add(target)
            elif node.module:
                found.add(node.module)
    return found


def dependencies() -> dict[str, set[str]]:
    """Unit -> the other riskkit units it imports (anywhere in its code)."""
    deps: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        unit = unit_of(module) if rel.name != "__init__" or len(rel.parts) > 2 else "__init__"
        if unit is None:
            continue
        for imp in _imports(path, module):
            other = unit_of(imp)
            if other and other != unit and other != "__init__":
                deps.setdefault(unit, set()).add(other)
    return deps


def layer_of() -> dict[str, int]:
    return {u: i for i, units in enumerate(LAYERS) for u in units}


def violations() -> list[str]:
    """Imports that go up a layer, or sideways without being in :data:`ALLOWED`."""
    level = layer_of()
    out = []
    for unit, used in sorted(dependencies().items()):
        for d in sorted(used):
            if unit not in level or d not in level:
                out.append(f"{unit} -> {d}: unit not in LAYERS")
            elif level[d] > level[unit] or (
                level[d] == level[unit] and d not in ALLOWED.get(unit, set())
            ):
                out.append(f"{unit} (layer {level[unit]}) imports {d} (layer {level[d]})")
    return out


def layer_map_svg(layers: list[list[str]], deps: dict[str, set[str]]) -> str:
    """The layer map as an SVG drawing: one row of boxes per layer (foundation at the bottom),
    an arrow from each unit to every unit it imports. Drawn with matplotlib, so the page needs
    no JavaScript or network."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width = max(len(units) for units in layers)
    pos = {
        unit: ((i + 0.5) * width / len(units), depth)
        for depth, units in enumerate(layers)
        for i, unit in enumerate(units)
    }
    fig, ax = plt.subplots(figsize=(1.6 * width, 1.0 * len(layers)))
    for unit, used in deps.items():
        for other in used:
            if unit in pos and other in pos:
                ax.annotate(
                    "",
                    xy=pos[other],
                    xytext=pos[unit],
                    arrowprops={
                        "arrowstyle": "->",
                        "color": "#90a4ae",
                        "lw": 0.7,
                        "shrinkA": 12,
                        "shrinkB": 12,
                    },
                )
    for unit, (x, y) in pos.items():
        ax.text(
            x,
            y,
            unit,
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round", "fc": "#eceff1", "ec": "#546e7a"},
        )
    for depth in range(len(layers)):
        ax.text(-0.2, depth, f"layer {depth}", ha="right", va="center", fontsize=8, color="#546e7a")
    ax.set_xlim(-1.2, width + 0.2)
    ax.set_ylim(-0.6, len(layers) - 0.4)
    ax.axis("off")
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
