"""Generate the layer map (run by mkdocs-gen-files during `mkdocs build`): which riskkit
package imports which, read from the source (every import, also those inside functions), so
the page cannot drift from the code."""

from __future__ import annotations

import sys
from pathlib import Path

import mkdocs_gen_files

sys.path.insert(0, str(Path(__file__).parent))
from riskkit_layers import LAYERS, dependencies, layer_map_svg  # noqa: E402

deps = dependencies()
lines = [
    "# Layer map",
    "",
    "Generated from the imports in `src/riskkit` at build time. Each unit may import only",
    "units in lower layers (or its own); the test `tests/test_architecture.py` enforces it.",
    "",
    "![Layer map: each box a unit, each arrow an import, layers from the foundation (bottom)"
    " to the applications (top)](architecture-layers.svg)",
    "",
    "| layer | unit | imports |",
    "|---|---|---|",
]
for depth, units in enumerate(LAYERS):
    for unit in units:
        used = ", ".join(f"`{d}`" for d in sorted(deps.get(unit, ()))) or "–"
        lines.append(f"| {depth} | `{unit}` | {used} |")
with mkdocs_gen_files.open("architecture-layers.md", "w") as f:
    f.write("\n".join(lines))
with mkdocs_gen_files.open("architecture-layers.svg", "w") as f:
    f.write(layer_map_svg(LAYERS, deps))
