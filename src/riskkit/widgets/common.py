"""Shared pieces of the credit-committee dashboards: the scoring-model interface, formatting,
figures rendered into HTML value widgets, and error display.

Results are written to ``ipywidgets.HTML`` value widgets (never printed into an Output), so
they can be read back in tests and in a browser.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ..errors import ValidationError
from ..formatting import money, pct  # noqa: F401  (the dashboards import them from here)


@runtime_checkable
class ScoringModel(Protocol):
    """What the dashboards need from a fitted scorecard (e.g. :class:`riskkit.scoring.Scorecard`).

    ``predict_proba(X)[:, 1]`` is the PD, ``credit_score(X)`` the points total and
    ``reason_codes(X, n)`` a frame with ``reason_1..n`` and ``points_lost_1..n``.
    """

    def predict_proba(self, X) -> np.ndarray: ...

    def credit_score(self, X) -> np.ndarray: ...

    def reason_codes(self, X, n=None) -> pd.DataFrame: ...


def check_model(model) -> None:
    """Raise ``TypeError`` unless ``model`` offers the :class:`ScoringModel` methods."""
    missing = [
        m
        for m in ("predict_proba", "credit_score", "reason_codes")
        if not callable(getattr(model, m, None))
    ]
    if missing:
        raise TypeError(
            f"the dashboards need a fitted scorecard with {missing} "
            f"(riskkit.scoring.Scorecard); got {type(model).__name__}"
        )


def model_features(model, frame: pd.DataFrame) -> list[str]:
    """Input columns the model reads (``feature_names_in_``), checked against ``frame``."""
    names = getattr(model, "feature_names_in_", None)
    feats = [str(c) for c in names] if names is not None else list(frame.columns)
    missing = [c for c in feats if c not in frame.columns]
    if missing:
        raise ValidationError(
            [_problem("applications", c, "column the scorecard needs is missing") for c in missing],
            "applications",
        )
    return feats


def _problem(table, column, rule):
    from ..errors import Problem

    return Problem(table, column, rule)


def grade_of(master_scale, pd_) -> np.ndarray:
    """Master-scale grade of each PD (:class:`riskkit.scoring.MasterScale`)."""
    return np.asarray(master_scale.assign(np.atleast_1d(np.asarray(pd_, dtype=float))))


def kv_html(rows: Iterable[tuple[str, str]], title: str | None = None, css: str = "") -> str:
    """A two-column key/value table; values are escaped, keys are plain text."""
    body = "".join(
        f"<tr><th style='text-align:left;padding:2px 10px 2px 0'>{html.escape(k)}</th>"
        f"<td class='rk-value' style='text-align:right'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    head = f"<div style='font-weight:600'>{html.escape(title)}</div>" if title else ""
    return f"<div style='{css}'>{head}<table>{body}</table></div>"


def error_html(exc: Exception) -> str:
    """Bad input shown to the committee member instead of a traceback."""
    text = html.escape(str(exc)).replace("\n", "<br>")
    return f"<div style='color:#a40000'><b>Input problem</b><br>{text}</div>"


def figure_html(fig, width: int | None = None) -> str:
    """A matplotlib figure as an inline PNG ``<img>`` (for an HTML value widget).

    Works headless (no pyplot state); the image carries ``data-rk-figure`` for browser tests.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    w = f" width='{width}'" if width else ""
    return f"<img data-rk-figure='1' alt='chart'{w} src='data:image/png;base64,{data}'/>"


def new_figure(w: float = 9.0, h: float = 3.4, ncols: int = 1):
    """A pyplot-free figure (safe in kernels and threads) and its axes."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), layout="constrained")
    axes = fig.subplots(1, ncols)
    return fig, axes


def no_update(widget) -> None:
    """Set ``continuous_update=False`` where the control has that trait."""
    if widget.has_trait("continuous_update"):
        widget.continuous_update = False
