"""Issue 15: the report runner as an attacker and a careless user would try it.

Every test runs real papermill kernels and greps every file the run left (reports directory,
IPython directory) and everything it printed for the secret or the personal data.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from riskkit import cli
from riskkit.errors import ValidationError
from riskkit.reports import read_runs, run_report
from riskkit.reports.index import RunLogWarning, render_index

from .conftest import write_tiny_notebook

pytestmark = pytest.mark.slow

AS_OF = "2026-10-31"
PASSWORD = "Sup3r-Secret-Pw-4711"
DB_URL = f"postgresql+psycopg://risk:{PASSWORD}@db.example/riskkit"
# distinctive digits: the masked forms keep only the first 3 and last 4
PHONE, PHONE_MIDDLE = "13971628354", "7162"
ID18, ID_MIDDLE = "11010519491231002X", "0519491231"


def _quiet(**kw):
    return {"progress": False, "log": lambda m: None, **kw}


def every_file_text(*roots: Path) -> dict[str, str]:
    """Every file under ``roots`` (hidden ones included) as text."""
    out = {}
    for root in roots:
        for p in Path(root).rglob("*"):
            if p.is_file():
                out[str(p)] = p.read_bytes().decode("utf-8", errors="replace")
    return out


def assert_nowhere(needles, texts: dict[str, str]) -> None:
    for needle in needles:
        hits = [name for name, text in texts.items() if needle in text]
        assert not hits, f"{needle!r} found in {hits}"


# --- (1) report names are never paths ------------------------------------------------------


def test_a_report_name_is_never_a_path(tmp_path, tiny_notebooks, capsys):
    base = tmp_path / "a" / "b"
    reports, notebooks = base / "reports", base / "notebooks"
    notebooks.mkdir(parents=True)
    # what `./../../x` reached before: a folder to delete and a notebook to run outside notebooks/
    (base / "x.failed").mkdir()
    (base / "x.failed" / "keep.txt").write_text("not the runner's")
    marker = tmp_path / "executed.txt"
    write_tiny_notebook(tmp_path / "a" / "x.ipynb", f"open({str(marker)!r}, 'w').close()\n")
    for name in ("./../../x", "../x", str(tmp_path / "a" / "x"), "X", "tiny.ipynb", "", "nope"):
        with pytest.raises(ValidationError, match="is not a registered report"):
            run_report(name, AS_OF, reports_dir=reports, notebooks_dir=notebooks, **_quiet())
    assert (base / "x.failed" / "keep.txt").read_text() == "not the runner's"
    assert not marker.exists() and not reports.exists()  # nothing run, nothing written
    code = cli.main(["report", "run", "./../../x", "--as-of", AS_OF, "--reports-dir", str(reports)])
    assert code == 2 and "'./../../x' is not a registered report" in capsys.readouterr().err
    with pytest.raises(ValidationError, match="is not a registered report"):
        from riskkit.reports import run_all

        run_all(AS_OF, names=["tiny", "../x"], reports_dir=reports, **_quiet())
    assert not reports.exists()


def test_every_path_is_checked_to_lie_inside_the_reports_directory(
    tmp_path, tiny_notebooks, riskkit_kernel
):
    reports, elsewhere = tmp_path / "reports", tmp_path / "elsewhere"
    elsewhere.mkdir()
    reports.mkdir()
    (reports / AS_OF).symlink_to(elsewhere)  # the as-of folder leads out of reports/
    r = run_report("tiny", AS_OF, reports_dir=reports, notebooks_dir=tiny_notebooks, **_quiet())
    assert not r.ok and "outside" in r.error and str(reports.resolve()) in r.error
    assert list(elsewhere.iterdir()) == []
    (reports / AS_OF).unlink()
    # a scope value is encoded into one folder name inside reports/<as-of>/
    r = run_report(
        "tiny",
        AS_OF,
        params={"branch": "../../../etc"},
        reports_dir=reports,
        notebooks_dir=tiny_notebooks,
        **_quiet(),
    )
    assert r.ok, r.error
    assert [p.name for p in (reports / AS_OF).iterdir()] == ["tiny@branch=..%2F..%2F..%2Fetc"]
    # a registered report's notebook that links out of the notebooks folder is not run
    outside_nb = write_tiny_notebook(tmp_path / "outside.ipynb")
    (tiny_notebooks / "tiny.ipynb").unlink()
    (tiny_notebooks / "tiny.ipynb").symlink_to(outside_nb)
    r = run_report("tiny", AS_OF, reports_dir=reports, notebooks_dir=tiny_notebooks, **_quiet())
    assert not r.ok and "refusing to touch" in r.error and "outside" in r.error


# --- (2) secrets are never written -----------------------------------------------------------

URL_BODY = """\
import json, os, pathlib
url = os.environ["RISKKIT_DB_URL"]
if fail:
    raise ConnectionError(f"cannot reach {url}")
if extra == "print":
    print("connecting to", url)
pathlib.Path(output_dir, "metrics.json").write_text(json.dumps({"metrics": {"n": len(url)}}))
"""


def test_the_store_password_reaches_the_kernel_and_no_artefact(
    tmp_path, tiny_notebooks, riskkit_kernel, capfd, monkeypatch
):
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))  # the kernels' IPython dir
    write_tiny_notebook(tiny_notebooks / "tiny.ipynb", URL_BODY)
    reports = tmp_path / "reports"
    base = ["report", "run", "tiny", "--as-of", AS_OF, "--reports-dir", str(reports)]
    base += ["--notebooks-dir", str(tiny_notebooks), "--no-progress", "--db-url", DB_URL]
    assert cli.main(base + ["-p", "value=424242"]) == 0
    metrics = json.loads((reports / AS_OF / "tiny" / "metrics.json").read_text())
    assert metrics["metrics"] == {"n": len(DB_URL)}  # the kernel had the URL, password included
    run = json.loads((reports / AS_OF / "tiny" / "run.json").read_text())
    assert run["db_url"] == "postgresql+psycopg://risk:***@db.example/riskkit"
    nb = nbformat.read(reports / AS_OF / "tiny" / "tiny.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "value = 424242" in injected[0].source and "db_url = None" in injected[0].source
    # a notebook that prints the URL, and one whose error shows it: masked, and the run fails
    assert cli.main(base + ["-p", "extra=print"]) == 1
    assert cli.main(base + ["-p", "fail=true", "-p", f"db_url={DB_URL}"]) == 1
    failed = reports / AS_OF / "tiny.failed"
    assert "postgresql+psycopg://risk:***@db.example" in (failed / "error.txt").read_text()
    assert "ConnectionError" in read_runs(reports)[-1]["error"]
    printed = capfd.readouterr()
    texts = every_file_text(reports, tmp_path / "ipython")
    texts["stdout+stderr"] = printed.out + printed.err
    assert_nowhere([PASSWORD], texts)
    # the kernels kept no IPython history (it would hold the injected parameters)
    assert not any("424242" in t for n, t in texts.items() if "history" in n)
    assert not list((tmp_path / "ipython").rglob("history.sqlite"))
    page = (reports / "index.html").read_text()
    assert "ConnectionError: cannot reach postgresql+psycopg://risk:***@db.example" in page


# --- (3) personal data masked in every artefact, failed runs included ---------------------

PII_BODY = """\
import os
phone = "".join({phone})  # one character at a time: the source holds no number
card = "".join({card})
os.write(2, f"kernel stderr: {{phone}}\\n".encode())
print("call", phone)
raise ValueError(f"borrower {{card}} (phone {{phone}}) has no loan")
"""


@pytest.mark.parametrize(
    "shown",
    [
        PHONE,
        "139-7162-8354",
        "139.7162.8354",
        "(139) 7162 8354",
        "+86 139 7162 8354",
        "１３９７１６２８３５４",
    ],
)
def test_personal_data_is_masked_in_every_artefact_of_a_failed_run(
    tmp_path, tiny_notebooks, riskkit_kernel, capfd, shown
):
    body = PII_BODY.format(phone=list(shown), card=list(ID18))
    write_tiny_notebook(tiny_notebooks / "tiny.ipynb", body)
    reports = tmp_path / "reports"
    lines = []
    r = run_report(
        "tiny",
        AS_OF,
        reports_dir=reports,
        notebooks_dir=tiny_notebooks,
        progress=False,
        log=lines.append,
    )
    assert not r.ok and "ValueError: borrower 110***********002X (phone" in r.error
    failed = reports / AS_OF / "tiny.failed"
    assert {p.name for p in failed.iterdir()} >= {"tiny.ipynb", "error.txt", "run.json"}
    printed = capfd.readouterr()
    texts = every_file_text(reports)
    texts["log"] = "\n".join(lines) + r.error
    texts["stdout+stderr"] = printed.out + printed.err
    assert_nowhere([PHONE_MIDDLE, "７１６２", ID_MIDDLE], texts)
    assert "kernel stderr: " in printed.err  # the kernel's own stderr still comes through
    assert "5" + "1949" not in printed.err


def test_parameters_that_read_as_personal_data_are_refused_and_not_logged(
    tmp_path, tiny_notebooks, capsys
):
    reports = tmp_path / "reports"
    base = ["report", "run", "tiny", "--as-of", AS_OF, "--reports-dir", str(reports)]
    base += ["--notebooks-dir", str(tiny_notebooks), "--no-progress"]
    for value in (PHONE, "139 7162 8354", ID18, "110105491231002", "１３９７１６２８３５４"):
        assert cli.main(base + ["-p", f"branch={value}"]) == 1
        assert cli.main(base + ["-p", f"extra=call {value}"]) == 1
    runs = read_runs(reports)
    assert len(runs) == 10 and all(r["status"] == "failed" for r in runs)
    assert (
        "parameters.branch: looks like personal data (phone number: 139****8354)"
        in (runs[0]["error"])
    )
    printed = capsys.readouterr()
    texts = every_file_text(reports)
    texts["out"] = printed.out + printed.err
    assert_nowhere([PHONE_MIDDLE, "７１６２", ID_MIDDLE, "0549123"], texts)
    assert not (reports / AS_OF).exists()  # refused before any folder was made


# --- (4) a report's scope is part of its address -------------------------------------------


def test_a_scoped_run_never_replaces_the_all_branch_report(
    tmp_path, tiny_notebooks, riskkit_kernel
):
    reports = tmp_path / "reports"
    kw = _quiet(reports_dir=reports, notebooks_dir=tiny_notebooks)
    assert run_report("tiny", AS_OF, params={"value": 1}, **kw).ok
    r = run_report("tiny", AS_OF, params={"value": 2, "branch": "城关支行"}, **kw)
    assert r.ok and r.scope == {"branch": "城关支行"}
    day = reports / AS_OF
    assert sorted(p.name for p in day.iterdir()) == ["tiny", "tiny@branch=城关支行"]
    assert json.loads((day / "tiny/metrics.json").read_text())["metrics"] == {"value": 1}
    assert json.loads((day / "tiny@branch=城关支行/metrics.json").read_text())["metrics"] == {
        "value": 2
    }
    page = (reports / "index.html").read_text()
    assert "<td class='nw'>all</td>" in page and "<td class='nw'>branch=城关支行</td>" in page
    # a failure of the scoped report is its own; the next good run of the same scope clears it
    assert not run_report("tiny", AS_OF, params={"branch": "城关支行", "fail": True}, **kw).ok
    assert (day / "tiny@branch=城关支行.failed").is_dir() and (day / "tiny").is_dir()
    assert not run_report("tiny", AS_OF, params={"fail": True}, **kw).ok
    assert run_report("tiny", AS_OF, **kw).ok  # all-branch: clears tiny.failed only
    assert not (day / "tiny.failed").exists() and (day / "tiny@branch=城关支行.failed").exists()
    assert run_report("tiny", AS_OF, params={"branch": "城关支行"}, **kw).ok
    assert sorted(p.name for p in day.iterdir()) == ["tiny", "tiny@branch=城关支行"]


def test_the_index_shows_the_whole_first_line_of_an_error_and_links_the_full_text(
    tmp_path, tiny_notebooks, riskkit_kernel
):
    reason = "the collateral revaluation of every machinery loan " * 8  # ~420 characters
    body = f"raise RuntimeError({reason.strip()!r} + '\\nsecond line with details')\n"
    write_tiny_notebook(tiny_notebooks / "tiny.ipynb", body)
    reports = tmp_path / "reports"
    r = run_report("tiny", AS_OF, reports_dir=reports, notebooks_dir=tiny_notebooks, **_quiet())
    assert not r.ok
    page = (reports / "index.html").read_text()
    first_line = f"RuntimeError: {reason.strip()} | second line with details"
    assert f"<span class='error'>cell 3: {first_line}</span>" in page  # whole, not cut
    assert "href='2026-10-31/tiny.failed/error.txt'>full error</a>" in page
    assert first_line in (reports / AS_OF / "tiny.failed/error.txt").read_text()
    # a validation failure (no folder) links to its full text in the run history
    runs = [
        {
            "as_of": AS_OF,
            "name": "tiny",
            "status": "failed",
            "duration_s": 0.1,
            "finished": "2026-11-01T00:00:00",
            "error": "2 problem(s) in parameters of report 'tiny':\n  - parameters.value: "
            "must be an integer, got 'x'\n  - parameters.sleep: must be a number",
        }
    ]
    page = render_index(runs)
    assert (
        "2 problem(s) in parameters of report &#x27;tiny&#x27;: parameters.value: must be an "
        "integer, got &#x27;x&#x27; …" in page
    )
    assert "<a href='#run-0'>full error</a>" in page and "<tr id='run-0'>" in page
    assert "parameters.sleep: must be a number</pre>" in page


# --- (5) the runner survives its own leftovers ----------------------------------------------


def test_leftovers_of_killed_runs_are_cleaned_at_the_next_start(
    tmp_path, tiny_notebooks, riskkit_kernel
):
    reports = tmp_path / "reports"
    day = reports / AS_OF
    kw = _quiet(reports_dir=reports, notebooks_dir=tiny_notebooks)
    assert run_report("tiny", AS_OF, params={"value": 5}, **kw).ok
    # killed between the two renames of a swap: the last good report sits in an .old folder
    os.rename(day / "tiny", day / ".tiny.old-killed")
    (day / ".tiny.tmp-killed-1").mkdir()
    (day / ".tiny.tmp-killed-1" / "tiny.ipynb").write_text("{}")
    lines = []
    r = run_report("tiny", AS_OF, params={"fail": True}, **{**kw, "log": lines.append})
    assert not r.ok
    assert sorted(p.name for p in day.iterdir()) == ["tiny", "tiny.failed"]
    assert json.loads((day / "tiny/metrics.json").read_text())["metrics"] == {"value": 5}
    assert any("restored the last good report" in x for x in lines)
    assert any("removed 1 folder(s) left by killed runs" in x for x in lines)


RUNNER = """
import sys
sys.path.insert(0, sys.argv[3])
from riskkit.reports import run_report
from riskkit.reports.params import register
from tests.reports.conftest import TINY
register(TINY)
r = run_report("tiny", "2026-10-31", params={"sleep": 4, "value": 1}, reports_dir=sys.argv[1],
               notebooks_dir=sys.argv[2], progress=False, log=lambda m: None)
sys.exit(0 if r.ok else 1)
"""


def test_concurrent_runs_of_one_report_and_scope_are_serialised(
    tmp_path, tiny_notebooks, riskkit_kernel
):
    reports = tmp_path / "reports"
    repo = Path(__file__).resolve().parents[2]
    first = subprocess.Popen(
        [sys.executable, "-c", RUNNER, str(reports), str(tiny_notebooks), str(repo)]
    )
    lock = reports / ".locks" / AS_OF / "tiny.lock"
    deadline = time.monotonic() + 60
    while not (lock.exists() and "pid" in lock.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    kw = _quiet(reports_dir=reports, notebooks_dir=tiny_notebooks)
    busy = run_report("tiny", AS_OF, params={"value": 2}, **kw)
    assert not busy.ok
    assert f"report tiny as of {AS_OF} is already running (pid {first.pid} since" in busy.error
    # another scope is another address: it runs at once
    assert run_report("tiny", AS_OF, params={"value": 3, "branch": "B2"}, **kw).ok
    waited = run_report("tiny", AS_OF, params={"value": 4}, lock_wait=60, **kw)
    assert first.wait(timeout=60) == 0
    assert waited.ok, waited.error
    assert json.loads((reports / AS_OF / "tiny/metrics.json").read_text())["metrics"] == {
        "value": 4
    }
    runs = read_runs(reports)
    assert sorted(r["status"] for r in runs) == ["failed", "ok", "ok", "ok"]


def test_a_corrupt_run_log_is_moved_aside_and_a_new_one_started(
    tmp_path, tiny_notebooks, riskkit_kernel
):
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "runs.json").write_text('{"runs": [{"as_of": "2026-10-31", "na')  # truncated
    with pytest.warns(RunLogWarning, match="cannot be read"):
        assert read_runs(reports) == []
    with pytest.warns(RunLogWarning, match=r"moved it to runs\.json\.corrupt-"):
        r = run_report("tiny", AS_OF, reports_dir=reports, notebooks_dir=tiny_notebooks, **_quiet())
    assert r.ok
    aside = list(reports.glob("runs.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text().endswith('"na')
    assert [x["status"] for x in read_runs(reports)] == ["ok"]
    assert cli.main(["report", "list", "--reports-dir", str(reports)]) == 0
