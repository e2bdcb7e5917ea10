"""The papermill runner: output layout, atomic replacement, failure semantics, index, CLI."""

from __future__ import annotations

import json
import os

import nbformat
import pytest

from riskkit import cli
from riskkit.reports import read_runs, run_report
from riskkit.reports.index import render_index

pytestmark = pytest.mark.slow

AS_OF = "2026-10-31"


def _run(tiny_notebooks, reports, **kw):
    return run_report(
        "tiny",
        AS_OF,
        reports_dir=reports,
        notebooks_dir=tiny_notebooks,
        progress=False,
        log=lambda m: None,
        **kw,
    )


def test_good_run_layout_and_rerun_replaces(tiny_notebooks, tmp_path, riskkit_kernel):
    reports = tmp_path / "reports"
    r = _run(tiny_notebooks, reports, params={"value": 7})
    assert r.ok, r.error
    out = reports / AS_OF / "tiny"
    assert sorted(p.name for p in out.iterdir()) == [
        "metrics.json",
        "run.json",
        "tiny.html",
        "tiny.ipynb",
    ]
    assert json.loads((out / "metrics.json").read_text())["metrics"] == {"value": 7}
    html = (out / "tiny.html").read_text()
    assert "value is 7" in html  # outputs shown
    assert "time.sleep(sleep)" not in html and "import json" not in html  # code hidden
    nb = nbformat.read(out / "tiny.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "value = 7" in injected[0].source and 'as_of = "2026-10-31"' in injected[0].source
    run = json.loads((out / "run.json").read_text())
    assert run["kernel_name"] == "riskkit" and run["status"] == "ok"
    assert run["duration_s"] > 0

    # re-run: the new good run replaces the old one; no temp or old directories left
    r2 = _run(tiny_notebooks, reports, params={"value": 8})
    assert r2.ok
    assert json.loads((out / "metrics.json").read_text())["metrics"] == {"value": 8}
    assert sorted(os.listdir(reports / AS_OF)) == ["tiny"]  # no temp or old folders left
    runs = read_runs(reports)
    assert [x["status"] for x in runs] == ["ok", "ok"]
    index = (reports / "index.html").read_text()
    for f in (reports / "index.html", reports / "runs.json", out / "metrics.json"):
        assert f.stat().st_mode & 0o044 == os.stat(out / "tiny.html").st_mode & 0o044
    assert "2026-10-31/tiny/tiny.html" in index and "2026-10-31/tiny/metrics.json" in index


def test_failed_cell_keeps_failed_notebook_and_last_good(tiny_notebooks, tmp_path, riskkit_kernel):
    reports = tmp_path / "reports"
    assert _run(tiny_notebooks, reports, params={"value": 3}).ok
    r = _run(tiny_notebooks, reports, params={"value": 4, "fail": True})
    assert not r.ok
    assert "RuntimeError: forced failure in cell" in r.error
    failed = reports / AS_OF / "tiny.failed"
    nb = nbformat.read(failed / "tiny.ipynb", as_version=4)
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert errors and errors[0].ename == "RuntimeError"
    assert "forced failure" in (failed / "error.txt").read_text()
    # the last good report is untouched
    good = reports / AS_OF / "tiny"
    assert json.loads((good / "metrics.json").read_text())["metrics"] == {"value": 3}
    assert r.path == str(good)
    runs = read_runs(reports)
    assert [x["status"] for x in runs] == ["ok", "failed"]
    assert runs[-1]["failed_notebook"] == "2026-10-31/tiny.failed/tiny.ipynb"
    index = (reports / "index.html").read_text()
    assert "class='failed'>failed" in index and "tiny.failed/tiny.ipynb" in index
    assert "last good" in index and "forced failure in cell" in index


def test_timeout_is_a_failure(tiny_notebooks, tmp_path, riskkit_kernel):
    reports = tmp_path / "reports"
    r = _run(tiny_notebooks, reports, params={"sleep": 30}, timeout=3)
    assert not r.ok and "timed out" in r.error
    assert r.duration_s < 20
    assert (reports / AS_OF / "tiny.failed" / "tiny.ipynb").exists()
    assert not (reports / AS_OF / "tiny").exists()
    assert read_runs(reports)[-1]["status"] == "failed"


def test_unmasked_pii_and_missing_metrics_fail(tiny_notebooks, tmp_path, riskkit_kernel):
    reports = tmp_path / "reports"
    r = _run(tiny_notebooks, reports, params={"extra": "id 1101#01199003071234"})
    assert not r.ok and "personal data or a password in the report output" in r.error
    assert "tiny.ipynb: ID number" in r.error and "tiny.html: ID number" in r.error
    r = _run(tiny_notebooks, reports, params={"extra": "phone 138#12345678"})
    assert not r.ok and "phone number" in r.error
    r = _run(tiny_notebooks, reports, params={"extra": "id 110***********1234"})
    assert r.ok  # masked is fine
    r = _run(tiny_notebooks, reports, params={"write_metrics": False})
    assert not r.ok and "recorded no metrics" in r.error
    # the good run from before is still there
    assert (reports / AS_OF / "tiny" / "tiny.html").exists()


def test_missing_kernel_and_notebook_fail_clearly(tiny_notebooks, tmp_path):
    reports = tmp_path / "reports"
    r = _run(tiny_notebooks, reports, kernel_name="no-such-kernel-xyz")
    assert not r.ok and "kernel 'no-such-kernel-xyz' is not installed" in r.error
    (tiny_notebooks / "tiny.ipynb").unlink()  # registered, but its notebook is missing
    r = _run(tiny_notebooks, reports)
    assert not r.ok and "no notebook" in r.error
    assert [x["status"] for x in read_runs(reports)] == ["failed", "failed"]


def test_bad_parameters_of_a_registered_report_fail_before_running(tmp_path):
    reports = tmp_path / "reports"
    r = run_report(
        "post_loan_review",
        AS_OF,
        params={"language": "fr"},
        reports_dir=reports,
        log=lambda m: None,
    )
    assert not r.ok and "parameters.language: must be one of ['en', 'zh']" in r.error
    assert read_runs(reports)[-1]["status"] == "failed"


def test_cli_exit_codes(tiny_notebooks, tmp_path, riskkit_kernel, capsys):
    reports = tmp_path / "reports"
    base = [
        "report",
        "run",
        "tiny",
        "--as-of",
        AS_OF,
        "--reports-dir",
        str(reports),
        "--notebooks-dir",
        str(tiny_notebooks),
        "--no-progress",
    ]
    assert cli.main(base + ["-p", "value=5"]) == 0
    pfile = tmp_path / "p.yaml"
    pfile.write_text("value: 9\n")
    assert cli.main(base + ["--params", str(pfile)]) == 0
    metrics = json.loads((reports / AS_OF / "tiny" / "metrics.json").read_text())
    assert metrics["metrics"] == {"value": 9}
    assert cli.main(base + ["--params", str(pfile), "-p", "value=11"]) == 0  # -p wins
    metrics = json.loads((reports / AS_OF / "tiny" / "metrics.json").read_text())
    assert metrics["metrics"] == {"value": 11}  # typed by the report's specification
    assert cli.main(base + ["-p", "fail=True"]) == 1
    out = capsys.readouterr().out
    assert "failed" in out and str((reports / "index.html").resolve()) in out
    assert cli.main(base[:3] + ["--as-of", "2026-13-45", "--reports-dir", str(reports)]) == 2
    with pytest.raises(SystemExit):
        cli.main(["report", "run", "tiny"])  # argparse: --as-of is required
    assert cli.main(["report", "list", "--reports-dir", str(reports)]) == 0
    listed = capsys.readouterr().out
    assert "tiny" in listed and "failed" in listed


def test_index_escapes_and_lists_latest():
    runs = [
        {
            "as_of": "2026-09-30",
            "name": "a",
            "status": "ok",
            "duration_s": 1.0,
            "finished": "2026-10-01T00:00:00",
            "html": "2026-09-30/a/a.html",
        },
        {
            "as_of": "2026-10-31",
            "name": "a",
            "status": "failed",
            "duration_s": 2.0,
            "finished": "2026-11-01T00:00:00",
            "error": "<script>x</script>",
        },
    ]
    page = render_index(runs)
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
    assert page.index("2026-10-31") < page.index("2026-09-30")  # newest first
    assert "no good report yet" in page


def test_kernel_runs_encrypted_without_the_tcp_warning(
    tmp_path, riskkit_kernel, capfd, tiny_report
):
    """The kernel gets CurveZMQ keys, so ipykernel's "running over TCP without encryption"
    warning is gone from the batch output, while what the kernel process writes to stderr
    and a failing cell's error still come through."""
    import zmq

    from riskkit.reports.kernel import kernel_config

    from .conftest import write_tiny_notebook

    cfg = kernel_config()
    assert ("transport_encryption" in cfg.KernelManager) == zmq.has("curve")
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    body = (
        "import os\nos.write(2, b'kernel-stderr-still-visible\\n')\n"
        "if fail:\n    raise RuntimeError('forced failure in cell')\n"
        "import json, pathlib\n"
        "pathlib.Path(output_dir, 'metrics.json').write_text(json.dumps({'metrics': {}}))\n"
    )
    write_tiny_notebook(nbs / "tiny.ipynb", body)
    lines = []
    reports = tmp_path / "reports"
    kw = {"reports_dir": reports, "notebooks_dir": nbs, "progress": False, "log": lines.append}
    assert run_report("tiny", AS_OF, **kw).ok
    r = run_report("tiny", AS_OF, params={"fail": True}, **kw)
    assert not r.ok and "RuntimeError: forced failure in cell" in r.error
    err = capfd.readouterr().err
    if zmq.has("curve"):
        assert "running over TCP without encryption" not in err
    assert err.count("kernel-stderr-still-visible") == 2
    assert any("FAILED" in x and "forced failure in cell" in x for x in lines)
