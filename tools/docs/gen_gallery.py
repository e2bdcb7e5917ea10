"""Generate the example gallery (run by mkdocs-gen-files during `mkdocs build`).

Runs riskkit's own month-end batch (`riskkit demo`, the four report notebooks through
papermill on a real kernel) on a small sample book in a temporary folder, then hands the
executed notebooks to mkdocs-jupyter. Outputs are produced by the build, never committed.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import mkdocs_gen_files

from riskkit import cli
from riskkit.reports import REPORTS, ensure_kernel

AS_OF = "2026-10-31"
N_LOANS = 800  # small: the gallery shows what the reports look like, in seconds

with tempfile.TemporaryDirectory(prefix="riskkit-gallery-") as tmp:
    reports = Path(tmp) / "reports"
    ensure_kernel("riskkit")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(
            ["demo", "--as-of", AS_OF, "--n-loans", str(N_LOANS), "--no-progress",
             "--db-url", f"sqlite:///{Path(tmp) / 'gallery.db'}", "--reports-dir", str(reports)]
        )  # fmt: skip
    if code != 0:
        raise RuntimeError(f"the gallery's report batch failed:\n{out.getvalue()}")
    names = sorted(p.name for p in (reports / AS_OF).iterdir())
    for name in names:
        executed = reports / AS_OF / name / f"{name}.ipynb"
        with mkdocs_gen_files.open(f"gallery/{name}.ipynb", "wb") as f:
            f.write(executed.read_bytes())

lines = [
    "# Gallery",
    "",
    "The month-end report notebooks of `notebooks/`, executed while these pages were built:",
    f"`riskkit demo` on a {N_LOANS:,}-loan sample book as of {AS_OF} (the same batch",
    "`make demo` runs on 20,000 loans). Each page shows the report as a reader sees it;",
    "the code is in `notebooks/` and in the executed notebook each page links to.",
    "",
]
for name in names:
    title = REPORTS[name].title if name in REPORTS else name
    lines.append(f"- [{title}]({name}.ipynb)")
with mkdocs_gen_files.open("gallery/index.md", "w") as f:
    f.write("\n".join(lines) + "\n")
