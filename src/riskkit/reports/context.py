"""What a report notebook uses: typed parameters, narrative, tables, figures and key figures.

A report notebook has one cell tagged ``parameters``; the next cell is::

    from riskkit.reports import start_report
    rpt = start_report("post_loan_review", as_of=as_of, language=language, ...)
    P = rpt.params

:func:`start_report` validates and types the parameters (see :mod:`riskkit.reports.params`).
The notebook then calls riskkit and presents: ``rpt.heading(key)`` and ``rpt.say(key, ...)``
write the narrative in the report's language (:mod:`riskkit.reports.narrative`),
``rpt.table(df)`` shows a table, ``rpt.record(...)`` records key figures, and ``rpt.finish()``
writes ``metrics.json`` (atomically) into ``output_dir``. A run without ``finish()`` is a failed
run for :func:`riskkit.reports.run_report`.

Examples
--------
>>> rpt = start_report("post_loan_review", as_of="2026-10-31", display=False)
>>> rpt.record(n_loans=3, npl_ratio=0.05)
>>> rpt.metrics["n_loans"], rpt.t("npl_ratio")
(3, 'NPL ratio')
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..atomic import atomic_path
from .narrative import text
from .params import spec_for, validate_params

if TYPE_CHECKING:
    from ..engine import Engine

METRICS_FILE = "metrics.json"

#: Columns whose values are category or change codes, shown as labels in tables.
VALUE_LABEL_COLUMNS = frozenset(
    {
        "category",
        "previous_category",
        "change",
        "state",
        "reason",
        "worst_category",
        "structure",
        "action",
    }
)
#: Columns holding comma-separated codes, shown as lists that wrap.
LIST_COLUMNS = frozenset({"rules", "signals", "reasons"})


def value_labels(lang: str) -> dict[str, str]:
    """Code -> label in ``lang`` for the five categories, the migration exits/entries
    (``new``, ``repaid``, ``exited``, ``total``) and the changes (``downgrade``...)."""
    from ..categories import Category
    from .narrative import TEXT

    out = {c.code: c.label(lang) for c in Category}
    for key, entry in TEXT.items():
        if key.startswith("term."):
            out[key[len("term.") :]] = entry[lang]
    return out


def _jsonable(v):
    """Plain JSON value for numpy/pandas scalars, timestamps, containers; NaN -> None."""
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | set | np.ndarray | pd.Index | pd.Series):
        return [_jsonable(x) for x in (v.tolist() if hasattr(v, "tolist") else v)]
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else v.isoformat()
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating | float):
        f = float(v)
        return None if not math.isfinite(f) else f
    if v is None or isinstance(v, int | str):
        return v
    if hasattr(v, "item"):
        return _jsonable(v.item())
    return str(v)


def write_json_atomic(path, obj) -> Path:
    """Write ``obj`` as JSON to ``path`` through a temporary file and a rename."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(_jsonable(obj), f, ensure_ascii=False, indent=2, allow_nan=False)
        f.write("\n")
    return path


class Report:
    """A running report notebook: typed parameters, language, recorded key figures.

    Create it with :func:`start_report`.
    """

    def __init__(self, name: str, params: dict, display: bool = True):
        self.name = name
        self.spec = spec_for(name)
        self.params = params
        self.language = params.get("language") or "en"
        out = params.get("output_dir")
        self.output_dir = Path(out) if out else None
        self.metrics: dict = {}
        self.artefacts: list[str] = []
        self._display = display
        self._engine: Engine | None = None

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.params.items() if k not in ("db_url",)}
        return f"Report({self.name!r}, {_jsonable(shown)})"

    # --- data ---------------------------------------------------------------------------
    @property
    def as_of(self) -> pd.Timestamp:
        return self.params["as_of"]

    def store(self):
        """The riskkit :class:`~riskkit.store.Store` named by ``db_url`` (default store)."""
        from ..store import Store

        return Store(self.params.get("db_url"))

    def engine(self):
        """The :class:`~riskkit.engine.Engine` of the ``engine`` and ``scheduler``
        parameters (one per report; :meth:`finish` closes it)."""
        from ..engine import Engine

        if self._engine is None:
            self._engine = Engine(
                self.params.get("engine") or "pandas", scheduler=self.params.get("scheduler")
            )
        return self._engine

    def book(self, whole: bool = False):
        """The loan book reported on: ``book_path`` (a partitioned dataset is opened lazily,
        partitions are read by the tasks), else the store's book (ids held as codes; with the
        Dask engine its Parquet dataset, read by the tasks). ``whole``: always one
        :class:`~riskkit.book.LoanBook` (a partitioned dataset is validated partition by
        partition, then read), for a report without a partition-wise path."""
        path = self.params.get("book_path")
        if path:
            from ..io import read_book
            from ..partitioned import PartitionedBook

            book = read_book(path, validate=False)
            if isinstance(book, PartitionedBook):  # partition by partition, as tasks
                book = book.validate(engine=self.engine())
                return book.to_book() if whole else book
            return book.validate().compact()
        store = self.store()
        if self.params.get("engine") == "dask" and store.book_path is not None and not whole:
            return store.book_dataset()
        return store.load_book(compact=True)

    def policy(self):
        """The policy: defaults, overridden by ``policy_file`` when given."""
        from ..policy import load_policy

        return load_policy(self.params.get("policy_file"))

    # --- narrative ----------------------------------------------------------------------
    def t(self, key: str, **fields) -> str:
        """Narrative text ``key`` in the report's language, formatted with ``fields``."""
        return text(key, self.language, **fields)

    @property
    def fig_lang(self) -> str:
        """Language of the text inside figures: the report's, unless it is Chinese and no
        font with Chinese glyphs is installed (then English, for every figure text alike)."""
        from ..plotting import figure_language

        return figure_language(self.language)

    def ft(self, key: str, **fields) -> str:
        """Text ``key`` for use inside a figure, in :attr:`fig_lang`."""
        return text(key, self.fig_lang, **fields)

    def _show(self, obj):
        if self._display:
            from IPython.display import display

            display(obj)

    def markdown(self, md: str) -> None:
        from IPython.display import Markdown

        self._show(Markdown(md))

    def title(self, **fields) -> None:
        """The report title with as-of date and scope."""
        fields.setdefault("as_of", self.as_of.strftime("%Y-%m-%d"))
        self.markdown(f"# {self.t(self.name + '.title', **fields)}")

    def heading(self, key: str, level: int = 2, **fields) -> None:
        self.markdown(f"{'#' * level} {self.t(key, **fields)}")

    def say(self, key: str, **fields) -> None:
        """A paragraph of narrative."""
        self.markdown(self.t(key, **fields))

    def table(
        self,
        df: pd.DataFrame,
        caption: str | None = None,
        *,
        index: bool = True,
        formats: Mapping | None = None,
        max_rows: int | None = None,
        labels: bool = True,
    ) -> None:
        """Show a table (numbers formatted; known column names in the report's language)."""
        from IPython.display import HTML

        from ..formatting import table_html

        if labels:
            df, formats = self._labelled(df, formats)
        self._show(HTML(table_html(df, caption, index=index, formats=formats, max_rows=max_rows)))

    def _labelled(self, df: pd.DataFrame, formats):
        """Presentation in the report's language: known column (and index) names as words,
        category codes (``special_mention``) and change codes (``downgrade``, ``repaid``) as
        labels (Special mention / 关注) in headers, index and category columns, and the
        comma-separated ``rules`` / ``signals`` as lists (shown joined with ", ")."""
        from .narrative import TEXT

        terms = value_labels(self.language)

        def lab(c):
            if not isinstance(c, str):
                return c
            if c in terms:
                return terms[c]
            key = f"col.{c}"
            return TEXT[key][self.language] if key in TEXT else c

        def relabel_values(s: pd.Series) -> pd.Series:
            return s.astype(object).map(lambda v: terms.get(v, v) if isinstance(v, str) else v)

        out = df.copy()
        for c in out.columns:
            if c in VALUE_LABEL_COLUMNS:
                out[c] = relabel_values(out[c])
            elif c in LIST_COLUMNS and pd.api.types.is_string_dtype(out[c].dtype):
                out[c] = (
                    out[c]
                    .fillna("")
                    .str.split(r",\s*", regex=True)
                    .map(lambda xs: [x for x in xs if x])
                )
        if not isinstance(out.index, pd.MultiIndex) and (
            out.index.dtype == object or pd.api.types.is_string_dtype(out.index.dtype)
        ):
            out.index = pd.Index(
                [terms.get(v, v) if isinstance(v, str) else v for v in out.index],
                name=out.index.name,
            )
        out = out.rename(columns=lab)
        if not isinstance(out.index, pd.MultiIndex) and isinstance(out.index.name, str):
            out = out.rename_axis(lab(out.index.name))
        if isinstance(out.columns.name, str):
            out.columns.name = lab(out.columns.name)
        return out, {lab(k): v for k, v in (formats or {}).items()}

    def figure(self, fig) -> None:
        """Show a matplotlib figure as a PNG image and close it. Rendered here, so a figure
        made without pyplot (the ``plot_*`` functions) shows as an image whatever the
        kernel's matplotlib backend."""
        import io

        import matplotlib.pyplot as plt
        from IPython.display import Image

        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        self._show(Image(data=buf.getvalue(), format="png"))
        plt.close(fig)

    # --- results ------------------------------------------------------------------------
    def record(self, mapping: Mapping | None = None, **metrics) -> None:
        """Record key figures (numbers, strings, small lists/dicts) for ``metrics.json``."""
        for k, v in {**(mapping or {}), **metrics}.items():
            self.metrics[str(k)] = _jsonable(v)

    def save_json(self, filename: str, obj) -> Path | None:
        """Save an artefact (e.g. the scorecard JSON) next to the report."""
        if self.output_dir is None:
            return None
        path = write_json_atomic(self.output_dir / filename, obj)
        self.artefacts.append(filename)
        return path

    def save_text(self, filename: str, content: str) -> Path | None:
        """Save a text artefact (e.g. the SQL scoring expression) next to the report, atomically."""
        if self.output_dir is None:
            return None
        path = self.output_dir / filename
        with atomic_path(path) as tmp:
            tmp.write_text(content, encoding="utf-8")
        self.artefacts.append(filename)
        return path

    def finish(self) -> dict:
        """Write ``metrics.json`` into ``output_dir`` and return its content."""
        doc = {
            "report": self.name,
            "as_of": self.as_of.strftime("%Y-%m-%d"),
            "language": self.language,
            "params": {k: v for k, v in self.params.items() if k not in ("db_url", "output_dir")},
            "metrics": self.metrics,
            "artefacts": self.artefacts,
        }
        doc = _jsonable(doc)
        if self._engine is not None:
            self._engine.close()
            self._engine = None
        if self.output_dir is not None:
            write_json_atomic(self.output_dir / METRICS_FILE, doc)
        return doc


def start_report(name: str, *, display: bool = True, **values) -> Report:
    """Validate a report notebook's parameters and start the report.

    Parameters
    ----------
    name : str
        Report name, e.g. ``"post_loan_review"``.
    display : bool, default True
        Show narrative and tables (False for use outside a notebook).
    **values
        The raw parameters from the notebook's ``parameters`` cell.

    Returns
    -------
    Report

    Raises
    ------
    riskkit.errors.ValidationError
        Naming every bad parameter and the rule it breaks.
    """
    params = validate_params(name, values)
    return Report(name, params, display=display)
