"""The run log (``reports/runs.json``) and the ``reports/index.html`` built from it.

Every run, good or failed, appends one entry to the log; the index lists the latest run of each
report and as-of date (with a link to the last good report when the latest run failed) and the
full history. Both files are rewritten atomically (temporary file, then rename) under a file
lock, so concurrent runs never leave a half-written index.
"""

from __future__ import annotations

import contextlib
import fcntl
import html
import json
from pathlib import Path

from ..atomic import atomic_path

RUN_LOG = "runs.json"
INDEX = "index.html"
LOCK = ".runs.lock"


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


def read_runs(reports_dir) -> list[dict]:
    """All logged runs, oldest first (empty when nothing ran yet)."""
    path = Path(reports_dir) / RUN_LOG
    if not path.exists():
        return []
    doc = json.loads(path.read_text(encoding="utf-8"))
    return list(doc.get("runs", []))


def append_run(reports_dir, entry: dict) -> list[dict]:
    """Append ``entry`` to the run log and rebuild ``index.html``; returns all runs."""
    reports_dir = Path(reports_dir)
    with locked(reports_dir):
        runs = read_runs(reports_dir)
        runs.append(entry)
        _write_atomic(
            reports_dir / RUN_LOG,
            json.dumps({"runs": runs}, ensure_ascii=False, indent=1) + "\n",
        )
        _write_atomic(reports_dir / INDEX, render_index(runs, reports_dir))
    return runs


def latest_runs(runs: list[dict]) -> list[dict]:
    """The latest run per (as-of, report), newest as-of first, each with ``last_good``."""
    latest: dict[tuple, dict] = {}
    good: dict[tuple, dict] = {}
    for r in runs:
        key = (r["as_of"], r["name"])
        latest[key] = r
        if r["status"] == "ok":
            good[key] = r
    out = []
    for key in sorted(latest, key=lambda k: (k[0], k[1]), reverse=False):
        r = dict(latest[key])
        r["last_good"] = good.get(key)
        out.append(r)
    out.sort(key=lambda r: r["as_of"], reverse=True)
    return out


def _link(href: str | None, label: str) -> str:
    if not href:
        return ""
    return f"<a href='{html.escape(href, quote=True)}'>{html.escape(label)}</a>"


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans CJK SC',sans-serif;
margin:2em;color:#222;max-width:1100px}
h1{font-size:1.6em;margin-bottom:0.2em} h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;font-size:0.93em}
th,td{border-bottom:1px solid #dde;padding:5px 8px;text-align:left}
th{background:#eef1f6} td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1e7b34;font-weight:600} .failed{color:#b3261e;font-weight:600}
.muted{color:#777;font-size:0.9em}
"""


def render_index(runs: list[dict], reports_dir=None) -> str:
    """HTML of the index page from the run log."""
    rows = []
    for r in latest_runs(runs):
        links = [
            _link(r.get("html"), "report"),
            _link(r.get("notebook"), "notebook"),
            _link(r.get("metrics"), "metrics"),
        ]
        note = ""
        if r["status"] != "ok":
            links = [_link(r.get("failed_notebook"), "failed notebook")]
            g = r.get("last_good")
            note = (
                " · last good: " + _link(g.get("html"), g["finished"][:16].replace("T", " "))
                if g
                else " · no good report yet"
            )
            if r.get("error"):
                note += f"<br><span class='muted'>{html.escape(r['error'][:300])}</span>"
        rows.append(
            f"<tr><td>{html.escape(r['as_of'])}</td><td>{html.escape(r['name'])}</td>"
            f"<td class='{r['status']}'>{r['status']}</td>"
            f"<td class='num'>{r['duration_s']:.1f} s</td>"
            f"<td>{html.escape(r['finished'][:19].replace('T', ' '))}</td>"
            f"<td>{' · '.join(x for x in links if x)}{note}</td></tr>"
        )
    hist = []
    for r in reversed(runs[-500:]):
        hist.append(
            f"<tr><td>{html.escape(r['finished'][:19].replace('T', ' '))}</td>"
            f"<td>{html.escape(r['as_of'])}</td><td>{html.escape(r['name'])}</td>"
            f"<td class='{r['status']}'>{r['status']}</td>"
            f"<td class='num'>{r['duration_s']:.1f} s</td>"
            f"<td class='muted'>{html.escape((r.get('error') or '')[:160])}</td></tr>"
        )
    head = "<tr><th>as-of</th><th>report</th><th>status</th><th>duration</th><th>finished</th>"
    n_failed = sum(1 for r in latest_runs(runs) if r["status"] != "ok")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>riskkit reports</title>"
        f"<style>{_CSS}</style></head><body>"
        "<h1>riskkit reports</h1>"
        f"<p class='muted'>{len(runs)} run(s) logged; latest status: "
        f"{len(latest_runs(runs)) - n_failed} ok, {n_failed} failed. "
        "Built from <a href='runs.json'>runs.json</a>.</p>"
        "<h2>Reports</h2><table>"
        f"{head}<th>links</th></tr>{''.join(rows) or '<tr><td colspan=6>no runs yet</td></tr>'}"
        "</table><h2>Run history</h2><table>"
        "<tr><th>finished</th><th>as-of</th><th>report</th><th>status</th><th>duration</th>"
        f"<th>error</th></tr>{''.join(hist)}</table></body></html>\n"
    )
