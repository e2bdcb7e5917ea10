"""The one shape of riskkit's results.

Every result object is a dataclass whose main table is the attribute ``table`` (a
:class:`pandas.DataFrame`); ``to_frame()`` returns that table as a new, flat DataFrame to keep,
save or concatenate; ``repr`` gives the key figures on one line and ``_repr_html_`` a small
table in notebooks. Secondary tables have their own names (``ProvisionReport.loans``,
``PostLoanReview.changes``). Report key figures are typed dataclasses too
(:class:`ReportMetrics`), read as attributes or, for ``metrics.json``, as a mapping.

Examples
--------
>>> from dataclasses import dataclass
>>> import pandas as pd
>>> @dataclass
... class Counts(TableResult):
...     table: pd.DataFrame
...     old_name = deprecated_alias("table")
>>> r = Counts(pd.DataFrame({"loans": [3, 4]}))
>>> r.to_frame()["loans"].sum()
np.int64(7)
>>> import warnings
>>> with warnings.catch_warnings(record=True) as w:
...     warnings.simplefilter("always")
...     _ = r.old_name
>>> w[0].category.__name__, str(w[0].message)
('DeprecationWarning', 'Counts.old_name is deprecated, use Counts.table (removed in riskkit 0.3)')
"""

from __future__ import annotations

import dataclasses
import html as _html
from collections.abc import Iterator, Mapping
from typing import Any

import pandas as pd

from .deprecation import deprecated_alias

__all__ = ["ReportMetrics", "ReportResult", "TableResult", "deprecated_alias"]


class TableResult:
    """Mixin for result dataclasses whose main table is ``table``."""

    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The main table as a new DataFrame (changing it leaves the result intact)."""
        return self.table.copy()

    def __len__(self) -> int:
        return len(self.table)


class ReportMetrics(Mapping):
    """Base of the typed key figures of a report (a dataclass per report).

    Fields are read as attributes (``m.npl_ratio``); the mapping interface (``m["npl_ratio"]``,
    ``dict(m)``) gives the same values in field order, which is what ``metrics.json`` holds.
    """

    def to_dict(self) -> dict[str, Any]:
        """Field name -> value, in declaration order (values are not copied)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(self))  # type: ignore[arg-type]


class ReportResult(TableResult):
    """Mixin for what a report computes: the main ``table``, typed key figures ``metrics``
    and further tables under their own names; ``repr`` shows the scalar key figures."""

    metrics: ReportMetrics

    def _figures(self) -> str:
        shown = [
            f"{k}={_short(v)}"
            for k, v in self.metrics.items()
            if isinstance(v, int | float | str | pd.Timestamp)
        ]
        return ", ".join(shown[:8])

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._figures()})"

    def _repr_html_(self) -> str:
        from .formatting import table_html

        return (
            f"<div><b>{_html.escape(type(self).__name__)}</b>: {_html.escape(self._figures())}"
            f"{table_html(self.table, max_rows=20)}</div>"
        )


def _short(v: Any) -> str:
    if isinstance(v, pd.Timestamp):
        return str(v.date())
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
