"""The ``riskkit`` command.

::

    riskkit report run NAME --as-of DATE [-p key=value ...] [--params FILE.yaml]
    riskkit report run-all --as-of DATE [-p key=value ...]
    riskkit report run-all --as-of DATE --engine dask [--scheduler tcp://host:8786]
                                       [--book-path DATASET]   # month-end on Dask
    riskkit report list
    riskkit demo [--as-of DATE]        # sample book + inspection ledger -> store (if absent)
                                       # -> month-end batch
    riskkit app [...]                  # credit-committee dashboards (riskkit.widgets.app)
    riskkit model list|history [NAME]  # the model registry (riskkit.scoring.registry)
    riskkit model approve NAME VERSION --approver WHO --reason WHY [--challenger]
    riskkit model retire NAME VERSION --by WHO --reason WHY
    riskkit credit [...]               # the credit process (riskkit.lending.cli)

Exit status: 0 when every report ran, 1 when any report failed, 2 for bad usage or parameters.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEMO_LOANS = 20_000
DEMO_SEED = 0
DEMO_LEDGER_MONTHS = 3
DEMO_APPLICATIONS = 120


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--reports-dir", default="reports", help="output root (default: reports)")
    p.add_argument("--notebooks-dir", default=None, help="where the notebooks are")
    p.add_argument(
        "--db-url",
        default=None,
        help="store URL (default: $RISKKIT_DB_URL or sqlite:///data/riskkit.db); prefer "
        "$RISKKIT_DB_URL for a URL with a password (command lines are visible to other users)",
    )
    p.add_argument("--kernel", default="riskkit", help="Jupyter kernel name (default: riskkit)")
    p.add_argument(
        "--timeout", type=float, default=None, help="seconds each report may take (default 1800)"
    )
    p.add_argument("--no-progress", action="store_true", help="no papermill progress bar")
    p.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="wait this long for another run of the same report and scope (default: fail)",
    )
    p.add_argument(
        "--engine",
        choices=("pandas", "dask"),
        default=None,
        help="pandas (one process, default) or dask (the book's partitions as tasks)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler, e.g. tcp://host:8786 (default with --engine dask: a local cluster)",
    )
    p.add_argument(
        "--book-path",
        default=None,
        help="loan book to report on, e.g. a partitioned Parquet dataset (default: the store's)",
    )


def _engine_params(args, given: dict | None = None) -> dict:
    """``--engine``, ``--scheduler`` and ``--book-path`` as report parameters (explicit
    ``-p`` values win)."""
    out = {
        k: v
        for k, v in (
            ("engine", args.engine),
            ("scheduler", args.scheduler),
            ("book_path", args.book_path),
        )
        if v is not None
    }
    if args.scheduler and not args.engine:
        out["engine"] = "dask"
    return {**out, **(given or {})}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="riskkit", description="riskkit credit-risk workbench")
    sub = parser.add_subparsers(dest="command", required=True)

    rep = sub.add_parser("report", help="parameterized report notebooks")
    rsub = rep.add_subparsers(dest="report_command", required=True)
    run = rsub.add_parser("run", help="run one report")
    run.add_argument("name")
    run.add_argument("--as-of", required=True, help="as-of date YYYY-MM-DD")
    run.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="parameter (repeatable); text is converted by the report's spec",
    )
    run.add_argument("--params", default=None, metavar="FILE.yaml", help="parameters file")
    _add_common(run)
    ra = rsub.add_parser("run-all", help="run the month-end batch")
    ra.add_argument("--as-of", required=True, help="as-of date YYYY-MM-DD")
    ra.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="parameter for every report that has it (e.g. language=zh)",
    )
    _add_common(ra)
    ls = rsub.add_parser("list", help="available reports and logged runs")
    ls.add_argument("--reports-dir", default="reports")
    ls.add_argument("--notebooks-dir", default=None)

    demo = sub.add_parser("demo", help="month-end batch on the bundled sample book")
    demo.add_argument("--as-of", default="2026-10-31", help="as-of date (default 2026-10-31)")
    demo.add_argument("--n-loans", type=int, default=DEMO_LOANS)
    _add_common(demo)

    sub.add_parser("app", help="credit-committee dashboards (Voila)", add_help=False)
    _model_parser(sub)
    sub.add_parser("credit", help="the credit process (riskkit credit --help)", add_help=False)
    return parser


def _model_parser(sub) -> None:
    """``riskkit model ...``: list, history, approve, retire registered scorecards."""
    mod = sub.add_parser("model", help="the model registry: versions, approval, champion")
    msub = mod.add_subparsers(dest="model_command", required=True)
    for name, text in (("list", "versions and their status"), ("history", "audit trail")):
        p = msub.add_parser(name, help=text)
        if name == "history":
            p.add_argument("name", nargs="?", default=None)
        p.add_argument("--db-url", default=None)
    ap = msub.add_parser("approve", help="approve a draft as champion (or challenger)")
    ap.add_argument("name")
    ap.add_argument("version", type=int)
    ap.add_argument("--approver", required=True, help="who approves (not the author)")
    ap.add_argument("--reason", required=True)
    ap.add_argument("--challenger", action="store_true", help="approve as a challenger")
    ap.add_argument("--db-url", default=None)
    rt = msub.add_parser("retire", help="retire a version")
    rt.add_argument("name")
    rt.add_argument("version", type=int)
    rt.add_argument("--by", required=True)
    rt.add_argument("--reason", required=True)
    rt.add_argument("--db-url", default=None)


def cmd_model(args) -> int:
    """Run ``riskkit model ...``; prints the registry's state after a change."""
    from .scoring.registry import ModelRegistry
    from .store import Store

    reg = ModelRegistry(Store(args.db_url))
    if args.model_command == "approve":
        role = "challenger" if args.challenger else "champion"
        v = reg.approve(args.name, args.version, approver=args.approver, reason=args.reason,
                        role=role)  # fmt: skip
        print(f"approved {v.label} as {v.role} of {v.use} by {v.approved_by}")
    elif args.model_command == "retire":
        v = reg.retire(args.name, args.version, by=args.by, reason=args.reason)
        print(f"retired {v.label}")
    if args.model_command == "history":
        table = reg.history(args.name)
    else:
        cols = ["name", "version", "use", "status", "role", "development_start"]
        cols += ["development_end", "author", "approved_by", "approved_at"]
        table = reg.versions().reindex(columns=cols)
    print(table.to_string(index=False) if len(table) else "(no models registered)")
    return 0


def _runner_kwargs(args) -> dict:
    kw = {
        "reports_dir": args.reports_dir,
        "notebooks_dir": args.notebooks_dir,
        "db_url": args.db_url,
        "kernel_name": args.kernel,
        "progress": not args.no_progress,
        "lock_wait": args.wait,
    }
    if args.timeout is not None:
        kw["timeout"] = args.timeout
    return kw


def _summary(results) -> int:
    failed = [r for r in results if not r.ok]
    for r in results:
        where = r.path if r.ok else r.failed_path
        print(f"{r.status:>6}  {r.as_of}  {r.name:<22} {r.duration_s:7.1f} s  {where}")
    return 1 if failed else 0


def cmd_list(args) -> int:
    from .reports import REPORTS, available_reports, read_runs
    from .reports.runner import batch_reports

    avail = available_reports(args.notebooks_dir)
    batch = batch_reports(args.notebooks_dir)
    print("Reports:")
    for name in avail:
        spec = REPORTS[name]
        tag = "" if name in batch else "  (not in run-all)"
        print(f"  {name:<22} {spec.title}{tag}")
        print(f"  {'':<22} parameters: {', '.join(spec.names)}")
    runs = read_runs(args.reports_dir)
    print(f"\nRuns logged in {Path(args.reports_dir) / 'runs.json'}: {len(runs)}")
    from .reports.index import latest_runs

    for r in latest_runs(runs):
        link = r.get("html") or r.get("failed_path") or ""
        print(f"  {r['as_of']}  {r['name']:<22} {r['status']:<7} {r['duration_s']:7.1f} s  {link}")
    return 0


def ensure_demo_book(db_url: str | None, as_of: str, n_loans: int = DEMO_LOANS) -> bool:
    """Build the sample book into the store if it holds none, with a synthetic inspection
    ledger of the last ``DEMO_LEDGER_MONTHS`` months and the lender's synthetic write-off
    decisions recorded through the write-off register (each only if the store has none yet,
    so real ones are never touched). True when the book was built."""
    from .inspection import record_inspections, validate_inspections
    from .inspection.ledger import TABLE as LEDGER_TABLE
    from .store import Store

    store = Store(db_url)
    if store.has_book():
        return False
    from .datasets import make_inspection_ledger, make_microloan_book, make_write_off_register
    from .workout import WriteOffRegister
    from .workout.register import TABLE as WRITE_OFF_TABLE

    print(
        f"[riskkit] building the sample book ({n_loans:,} loans, seed {DEMO_SEED}) into "
        f"{store!r} ...",
        file=sys.stderr,
        flush=True,
    )
    book = make_microloan_book(n_loans=n_loans, seed=DEMO_SEED, as_of=as_of)
    ledger = None
    if not store.has_table(LEDGER_TABLE):
        ledger = make_inspection_ledger(
            book, as_of=as_of, months=DEMO_LEDGER_MONTHS, seed=DEMO_SEED
        )
        # checked before anything is written, so the book is not stored without its ledger
        validate_inspections(ledger, loan_ids=book.loans["loan_id"], as_of=as_of)
    if ledger is not None and len(ledger):
        print(
            f"[riskkit] recording a synthetic inspection ledger ({len(ledger):,} inspections, "
            f"{DEMO_LEDGER_MONTHS} months) ...",
            file=sys.stderr,
            flush=True,
        )
    write_offs = None
    if not store.has_table(WRITE_OFF_TABLE):
        write_offs = make_write_off_register(book, as_of=as_of, seed=DEMO_SEED)
        print(
            f"[riskkit] recording the lender's write-offs ({len(write_offs):,}) through the "
            "write-off register ...",
            file=sys.stderr,
            flush=True,
        )
    with store.transaction() as conn:  # the book, its ledger and register together, or none
        store.save_book(book, conn=conn)
        if ledger is not None and len(ledger):
            record_inspections(
                store, ledger, loan_ids=book.loans["loan_id"], as_of=as_of, conn=conn
            )
        if write_offs is not None and len(write_offs):
            WriteOffRegister(store).record(write_offs, book, conn=conn)
    return True


#: Who approves the demo's scorecard: a recorded, explicit approval step (the demo has no
#: second person); a real model is approved by its validator with `riskkit model approve`.
DEMO_APPROVER = "demo model validator"


def run_demo_batch(as_of: str, db_url, runner_kwargs: dict, params: dict | None = None):
    """The month-end batch of the demo: score_calibration registers a draft and
    model_validation reads it; if the registry has no approved application champion yet, the
    demo's validator approves that draft (recorded in the registry with who, when and why);
    then the other reports run on the champion."""
    from .reports import run_all
    from .reports.runner import batch_reports

    names = batch_reports(runner_kwargs.get("notebooks_dir"))
    first = [n for n in ("score_calibration", "model_validation") if n in names]
    results = run_all(as_of, names=first, params=params, **runner_kwargs)
    approve_demo_champion(db_url, as_of)
    rest = [n for n in names if n not in first]
    return results + run_all(as_of, names=rest, params=params, **runner_kwargs)


def approve_demo_champion(db_url, as_of: str):
    """Approve the latest draft as the application champion when there is none (demo only).
    Returns the approved version, or None when a champion exists or nothing is registered."""
    from .scoring import ModelRegistry
    from .store import Store

    reg = ModelRegistry(Store(db_url))
    cur = reg.versions()
    if ((cur["use"] == "application") & (cur["role"] == "champion")).any():
        return None
    drafts = cur[(cur["status"] == "draft") & (cur["use"] == "application")]
    if drafts.empty:
        return None
    d = drafts.sort_values("registered_at").iloc[-1]
    v = reg.approve(d["name"], int(d["version"]), approver=DEMO_APPROVER,
                    reason=f"demo: approved after the model_validation report of {as_of}")  # fmt: skip
    print(f"[riskkit] {DEMO_APPROVER} approved {v.label} as the application champion",
          file=sys.stderr, flush=True)  # fmt: skip
    return v


def ensure_demo_process(db_url: str | None) -> list[str]:
    """The sample month of applications after the stored book, taken through the credit
    process by the sample staff (register, admission, route, investigation, review, approval,
    committee meetings), if the store has no applications yet. Returns the meeting dates."""
    import pandas as pd

    from .book.customers import TABLE as REGISTER
    from .book.customers import register_from_book
    from .datasets.applications import make_applications, run_sample_process, store_sample
    from .lending.committee import CreditCommittee
    from .lending.process import APPLICATIONS_TABLE, CreditProcess
    from .store import Store

    store = Store(db_url)
    if not store.has_table(APPLICATIONS_TABLE):
        book = store.load_book()
        if not store.has_table(REGISTER):
            register_from_book(store, book)
        n = max(24, min(DEMO_APPLICATIONS, book.n_loans // 20))
        print(f"[riskkit] taking {n} sample applications through the credit process ...",
              file=sys.stderr, flush=True)  # fmt: skip
        sample = make_applications(book, n=n, seed=DEMO_SEED)
        run_sample_process(store_sample(store, sample), seed=DEMO_SEED)
    meetings = CreditCommittee(CreditProcess(store)).meetings()
    return sorted({str(pd.Timestamp(d).date()) for d in meetings.get("meeting_date", [])})


def run_demo_committee(db_url, runner_kwargs: dict):
    """The committee packs of the demo's meetings (after the month-end batch, whose
    score_calibration gives the approved champion the process scores with)."""
    from .reports import run_report

    return [run_report("committee_pack", d, **runner_kwargs) for d in ensure_demo_process(db_url)]


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("app", "credit"):
        from importlib import import_module

        module = {"app": "riskkit.widgets.app", "credit": "riskkit.lending.cli"}[argv[0]]
        return import_module(module).main(argv[1:]) or 0
    args = build_parser().parse_args(argv)

    from .errors import ValidationError

    try:
        if args.command == "report" and args.report_command == "list":
            return cmd_list(args)
        if args.command == "model":
            return cmd_model(args)
        from .reports import ensure_kernel, run_all, run_report
        from .reports.params import parse_cli_assignments

        if args.command == "report" and args.report_command == "run":
            one = run_report(
                args.name,
                args.as_of,
                params=_engine_params(args, parse_cli_assignments(args.param)),
                params_file=args.params,
                **_runner_kwargs(args),
            )
            code = _summary([one])
        elif args.command == "report":
            params = _engine_params(args, parse_cli_assignments(args.param))
            res = run_all(args.as_of, params=params, **_runner_kwargs(args))
            code = _summary(res)
        else:  # demo
            ensure_kernel(args.kernel)
            ensure_demo_book(args.db_url, args.as_of, args.n_loans)
            res = run_demo_batch(
                args.as_of, args.db_url, _runner_kwargs(args), params=_engine_params(args)
            )
            res += run_demo_committee(args.db_url, _runner_kwargs(args))
            code = _summary(res)
        index = (Path(args.reports_dir) / "index.html").resolve()
        print(f"\nReports index: {index}")
        return code
    except (ValidationError, ValueError, KeyError, LookupError) as e:
        from .privacy import Redactor

        print(f"riskkit: error: {Redactor().text(str(e))}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
