"""The run log (``reports/runs.json``) and the ``reports/index.html`` built from it.

Every run, good or failed, appends one entry to the log; the index lists the latest run of each
report, as-of date and scope (with a link to the last good report when the latest run failed,
the whole first line of the error and a link to its full text) and the run history. Both files
are rewritten atomically (temporary file, then rename) under a file lock, so concurrent runs
never leave a half-written index. A run log that cannot be read (truncated, edited by hand) is
moved aside with a warning and a new one is started, so one bad file never stops later runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import html
import json
import warnings
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from ..atomic import atomic_path

RUN_LOG = "runs.json"
INDEX = "index.html"
LOCK = ".runs.lock"
#: Every logged run has these fields, of these types.
ENTRY_FIELDS: dict[str, type | tuple[type, ...]] = {
    "as_of": str,
    "name": str,
    "status": str,
    "duration_s": (int, float),
    "finished": str,
}


class RunLogWarning(UserWarning):
    """The run log could not be read and was (or will be) moved aside."""


class CorruptRunLogError(ValueError):
    """The run log is not a riskkit run log."""


@contextlib.contextmanager
def locked(reports_dir):
    """Exclusive lock on the reports directory's run log."""
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    with open(reports_dir / LOCK, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_atomic(path: Path, content: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(content, encoding="utf-8")


def parse_run_log(text: str) -> list[dict]:
    """The runs of a run log's text.

    Raises
    ------
    CorruptRunLogError
        Not JSON, not ``{"runs": [...]}``, or an entry without the fields of a run.
    """
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise CorruptRunLogError(f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("runs"), list):
        raise CorruptRunLogError('not a run log (expected {"runs": [...]})')
    for i, entry in enumerate(doc["runs"]):
        bad = [
            k
            for k, t in ENTRY_FIELDS.items()
            if not isinstance(entry, dict) or not isinstance(entry.get(k), t)
        ]
        if bad:
            raise CorruptRunLogError(f"entry {i + 1} lacks valid {', '.join(bad)}")
    return list(doc["runs"])


def read_runs(reports_dir, *, repair: bool = False) -> list[dict]:
    """All logged runs, oldest first (empty when nothing ran yet).

    An unreadable log gives an empty list and a :class:`RunLogWarning`; with ``repair`` (the
    runner, holding the log's lock) it is also moved aside to ``runs.json.corrupt-<time>``.
    """
    path = Path(reports_dir) / RUN_LOG
    if not path.exists():
        return []
    try:
        return parse_run_log(path.read_text(encoding="utf-8", errors="replace"))
    except CorruptRunLogError as exc:
        if not repair:
            warnings.warn(
                f"run log {path} cannot be read ({exc}); the next report run moves it aside",
                RunLogWarning,
                stacklevel=2,
            )
            return []
        aside = path.with_name(f"{RUN_LOG}.corrupt-{datetime.now():%Y%m%dT%H%M%S%f}")
        path.rename(aside)
        warnings.warn(
            f"run log {path} cannot be read ({exc}); moved it to {aside.name} and started a "
            "new one",
            RunLogWarning,
            stacklevel=2,
        )
        return []


def append_run(reports_dir, entry: dict) -> list[dict]:
    """Append ``entry`` to the run log and rebuild ``index.html``; returns all runs."""
    reports_dir = Path(reports_dir)
    with locked(reports_dir):
        runs = read_runs(reports_dir, repair=True)
        runs.append(entry)
        _write_atomic(
            reports_dir / RUN_LOG,
            json.dumps({"runs": runs}, ensure_ascii=False, indent=1) + "\n",
        )
        _write_atomic(reports_dir / INDEX, render_index(runs, reports_dir))
    return runs


def scope_label(run: dict) -> str:
    """``branch=城关支行`` for a scoped run; ``all`` for the whole book."""
    scope = run.get("scope") or {}
    return ", ".join(f"{k}={v}" for k, v in sorted(scope.items())) or "all"


def latest_runs(runs: list[dict]) -> list[dict]:
    """The latest run per (as-of, report, scope), newest as-of first, each with ``last_good``
    and its position ``log_index`` in ``runs``."""
    latest: dict[tuple, dict] = {}
    good: dict[tuple, dict] = {}
    for i, r in enumerate(runs):
        key = (r["as_of"], r["name"], scope_label(r))
        latest[key] = {**r, "log_index": i}
        if r["status"] == "ok":
            good[key] = r
    out = [{**latest[k], "last_good": good.get(k)} for k in sorted(latest)]
    out.sort(key=lambda r: r["as_of"], reverse=True)
    return out


def error_summary(error: str | None) -> str:
    """The first line of an error, whole; a first line ending in ``:`` (``1 problem(s) in
    ...:``) is joined with the line that says what the problem is."""
    lines = [ln.strip() for ln in (error or "").splitlines() if ln.strip()]
    if not lines:
        return ""
    first = lines[0]
    if first.endswith(":") and len(lines) > 1:
        first = f"{first} {lines[1].removeprefix('- ')}" + (" …" if len(lines) > 2 else "")
    return first


def _link(href: str | None, label: str) -> str:
    if not href:
        return ""
    return f"<a href='{html.escape(quote(href), quote=True)}'>{html.escape(label)}</a>"


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans CJK SC',sans-serif;
margin:2em;color:#222;max-width:1200px}
h1{font-size:1.6em;margin-bottom:0.2em} h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:0.93em}
th,td{border-bottom:1px solid #dde;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef1f6} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.nw{white-space:nowrap}
.ok{color:#1e7b34;font-weight:600} .failed{color:#b3261e;font-weight:600}
.muted{color:#777;font-size:0.9em} .error{color:#5a1e1a;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f7f7f9;padding:6px;margin:4px 0}
"""


def _failure_parts(r: dict) -> tuple[list[str], str]:
    """Links of a failed run (failed notebook, last good report) and its error line."""
    g = r.get("last_good")
    parts = [_link(r.get("failed_notebook"), "failed notebook")]
    if g:
        parts.append("last good: " + _link(g.get("html"), g["finished"][:16].replace("T", " ")))
    else:
        parts.append("no good report yet")
    error = ""
    if r.get("error"):
        full = _link(r.get("error_file"), "full error") or (
            f"<a href='#run-{r['log_index']}'>full error</a>"
        )
        error = f"<br><span class='error'>{html.escape(error_summary(r['error']))}</span> · {full}"
    return parts, error


def _report_row(r: dict) -> str:
    if r["status"] == "ok":
        parts = [
            _link(r.get("html"), "report"),
            _link(r.get("notebook"), "notebook"),
            _link(r.get("metrics"), "metrics"),
        ]
        error = ""
    else:
        parts, error = _failure_parts(r)
    return (
        f"<tr><td class='nw'>{html.escape(r['as_of'])}</td><td>{html.escape(r['name'])}</td>"
        f"<td class='nw'>{html.escape(scope_label(r))}</td>"
        f"<td class='{html.escape(r['status'])}'>{html.escape(r['status'])}</td>"
        f"<td class='num'>{r['duration_s']:.1f} s</td>"
        f"<td class='nw'>{html.escape(r['finished'][:19].replace('T', ' '))}</td>"
        f"<td>{' · '.join(x for x in parts if x)}{error}</td></tr>"
    )


def _history_row(i: int, r: dict) -> str:
    error = r.get("error") or ""
    summary = html.escape(error_summary(error))
    if error.strip() and error.strip() != error_summary(error):
        cell = f"<details><summary>{summary}</summary><pre>{html.escape(error)}</pre></details>"
    else:
        cell = summary
    return (
        f"<tr id='run-{i}'><td class='nw'>{html.escape(r['finished'][:19].replace('T', ' '))}</td>"
        f"<td class='nw'>{html.escape(r['as_of'])}</td><td>{html.escape(r['name'])}</td>"
        f"<td class='nw'>{html.escape(scope_label(r))}</td>"
        f"<td class='{html.escape(r['status'])}'>{html.escape(r['status'])}</td>"
        f"<td class='num'>{r['duration_s']:.1f} s</td>"
        f"<td class='error'>{cell}</td></tr>"
    )


def render_index(runs: list[dict], reports_dir=None) -> str:
    """HTML of the index page from the run log."""
    latest = latest_runs(runs)
    rows = "".join(_report_row(r) for r in latest)
    first = max(0, len(runs) - 500)
    hist = "".join(_history_row(i, runs[i]) for i in reversed(range(first, len(runs))))
    n_failed = sum(1 for r in latest if r["status"] != "ok")
    head = (
        "<tr><th>as-of</th><th>report</th><th>scope</th><th>status</th><th>duration</th>"
        "<th>finished</th>"
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>riskkit reports</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>riskkit reports</h1>"
        f"<p class='muted'>{len(runs)} run(s) logged; latest status: "
        f"{len(latest) - n_failed} ok, {n_failed} failed. "
        "Built from <a href='runs.json'>runs.json</a>.</p>"
        "<h2>Reports</h2><table>"
        f"{head}<th>links</th></tr>{rows or '<tr><td colspan=7>no runs yet</td></tr>'}"
        "</table><h2>Run history</h2><table>"
        "<tr><th>finished</th><th>as-of</th><th>report</th><th>scope</th><th>status</th>"
        "<th>duration</th><th>error</th></tr>"
        f"{hist}</table></body></html>\n"
    )
