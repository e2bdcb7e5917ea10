"""Generate the API reference pages (run by mkdocs-gen-files during `mkdocs build`).

One page per package; on it, every public module of the package rendered by mkdocstrings
from its numpydoc docstrings. Module lists come from the installed package, so a new module
appears without editing this file.
"""

from __future__ import annotations

import importlib
import pkgutil

import mkdocs_gen_files

import riskkit

PAGES = {
    "riskkit": ["riskkit", "riskkit.categories", "riskkit.risk_signals", "riskkit.policy",
                "riskkit.errors", "riskkit.privacy", "riskkit.atomic"],
    "book": "riskkit.book",
    "scoring": "riskkit.scoring",
    "lending": "riskkit.lending",
    "classification": "riskkit.classification",
    "inspection": "riskkit.inspection",
    "provisions": "riskkit.provisions",
    "workout": "riskkit.workout",
    "migration": "riskkit.migration",
    "reports": "riskkit.reports",
    "widgets": "riskkit.widgets",
    "datasets": "riskkit.datasets",
    "conventions": ["riskkit.results", "riskkit.formatting", "riskkit.plotting",
                    "riskkit.deprecation"],
    "store": ["riskkit.store", "riskkit.io"],
}  # fmt: skip

TITLES = {
    "riskkit": "riskkit: categories, risk signals, policy, errors, privacy",
    "conventions": "Results, formatting, plotting",
    "store": "Store and extracts",
}


def modules_of(package: str) -> list[str]:
    """The package and its public modules (no ``_private`` ones), in name order."""
    pkg = importlib.import_module(package)
    subs = sorted(
        m.name
        for m in pkgutil.walk_packages(pkg.__path__, prefix=package + ".")
        if not any(part.startswith("_") for part in m.name.split("."))
    )
    return [package, *subs]


def page(name: str, modules: list[str]) -> str:
    title = TITLES.get(name, f"riskkit.{name}")
    blocks = [f"# {title}\n"]
    for mod in modules:
        blocks.append(f"::: {mod}\n    options:\n      heading_level: 2\n")
    return "\n".join(blocks)


index = ["# API reference\n", "Generated from the docstrings (numpydoc style) at build time.\n"]
for name, spec in PAGES.items():
    modules = spec if isinstance(spec, list) else modules_of(spec)
    with mkdocs_gen_files.open(f"reference/{name}.md", "w") as f:
        f.write(page(name, modules))
    index.append(f"- [{TITLES.get(name, 'riskkit.' + name)}]({name}.md): " + ", ".join(
        f"`{m}`" for m in modules))  # fmt: skip
with mkdocs_gen_files.open("reference/index.md", "w") as f:
    f.write("\n".join(index) + "\n")
assert riskkit.__version__
