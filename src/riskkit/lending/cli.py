"""``riskkit credit``: the credit process from the command line (the store of ``--db-url``).

::

    riskkit credit assess [--as-of DATE]               # admission + route of new applications
    riskkit credit status                              # every application and its stage
    riskkit credit file A26110007 [--lang zh]          # one credit file, every step explained
    riskkit credit investigate A26110007 --by O02,O03 --comment "on-site visit ..."
    riskkit credit review A26110007 --by R01 --decision pass --comment "complete"
    riskkit credit approve A26110007 --by A01 --decision approve_with_conditions \\
        --condition "spouse co-signs" --comment "within authority"
    riskkit credit meeting --date 2026-11-26 --present C01,C02,C03,C04,C05 --chair C01
    riskkit credit vote CM20261126 A26110007 --by C02 --vote decline --comment "why"
    riskkit credit decide CM20261126 A26110007
    riskkit credit accept A26110007 --by O02 --comment "counter-offer accepted in writing"
    riskkit credit condition A26110007 --condition "spouse co-signs" --by O02 --comment "done"
    riskkit credit contract A26110007 --by O02
    riskkit credit disburse A26110007 --by O02 [--loan-id L...]

Errors (bad input, a step out of order, separation of duties, quorum) print the rule broken
and exit with status 2; nothing is written. ``riskkit demo`` puts a sample month of
applications into the store.
"""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="riskkit credit", description=__doc__.splitlines()[0])
    p.add_argument("--db-url", default=None, help="store URL (default: $RISKKIT_DB_URL or "
                   "sqlite:///data/riskkit.db)")  # fmt: skip
    p.add_argument("--policy", default=None, help="institution policy YAML")
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("assess", help="admission and route of the applications not yet assessed")
    a.add_argument("--as-of", default=None)
    sub.add_parser("status", help="every application and its stage")
    f = sub.add_parser("file", help="one credit file")
    f.add_argument("application")
    f.add_argument("--lang", choices=("en", "zh"), default="en")
    for name, deci in (("investigate", "recommend"), ("review", None), ("approve", None)):
        c = sub.add_parser(name, help=f"record the {name} step")
        c.add_argument("application")
        c.add_argument("--by", required=True, help="staff id(s), comma-separated")
        c.add_argument("--decision", default=deci, required=deci is None)
        c.add_argument("--comment", default="")
        c.add_argument("--condition", action="append", default=[])
        c.add_argument("--at", default=None)
    m = sub.add_parser("meeting", help="open a committee meeting")
    m.add_argument("--date", required=True)
    m.add_argument("--present", required=True, help="members present, comma-separated")
    m.add_argument("--chair", required=True)
    m.add_argument("--agenda", default=None, help="application ids (default: all waiting)")
    v = sub.add_parser("vote", help="a member's vote")
    v.add_argument("meeting")
    v.add_argument("application")
    v.add_argument("--by", required=True)
    v.add_argument("--vote", required=True)
    v.add_argument("--comment", default="")
    v.add_argument("--condition", action="append", default=[])
    d = sub.add_parser("decide", help="tally the votes and record the outcome")
    d.add_argument("meeting")
    d.add_argument("application")
    for name in ("accept", "condition", "contract", "disburse"):
        c = sub.add_parser(name, help=f"record the {name} step")
        c.add_argument("application")
        c.add_argument("--by", required=True)
        c.add_argument("--condition", default=None)
        c.add_argument("--comment", default="")
        c.add_argument("--loan-id", default=None)
        c.add_argument("--at", default=None)
    return p


def _steps(proc, args):
    from .committee import CreditCommittee

    com = CreditCommittee(proc)
    people = [x.strip() for x in args.by.split(",")] if getattr(args, "by", None) else []
    if args.cmd == "investigate":
        return proc.investigate(args.application, people, args.decision, args.comment, args.at)
    if args.cmd == "review":
        return proc.review(args.application, people[0], args.decision, args.comment,
                           args.condition, args.at)  # fmt: skip
    if args.cmd == "approve":
        return proc.approve(args.application, people[0], args.decision, args.comment,
                            args.condition, at=args.at)  # fmt: skip
    if args.cmd == "meeting":
        agenda = args.agenda.split(",") if args.agenda else None
        return com.open_meeting(args.date, args.present.split(","), args.chair, agenda)
    if args.cmd == "vote":
        row = {"member": people[0], "vote": args.vote, "comment": args.comment,
               "conditions": args.condition}  # fmt: skip
        return com.record_votes(args.meeting, args.application, [row])
    if args.cmd == "decide":
        return com.decide(args.meeting, args.application)
    if args.cmd == "condition":
        return proc.meet_condition(args.application, args.condition, people[0], args.comment,
                                   args.at)  # fmt: skip
    if args.cmd == "accept":
        return proc.accept_offer(args.application, people[0], args.comment, args.at)
    if args.cmd == "contract":
        return proc.sign_contract(args.application, people[0], at=args.at)
    return proc.disburse(args.application, people[0], args.loan_id, args.at)


def main(argv=None) -> int:
    """Entry point of ``riskkit credit``."""
    import pandas as pd

    from ..errors import ValidationError
    from ..store import Store
    from .process import CreditProcess

    args = _parser().parse_args(argv)
    store = Store(args.db_url)
    proc = CreditProcess(store, args.policy)
    pd.set_option("display.width", 160)
    try:
        if args.cmd == "assess":
            a = proc.assess(as_of=args.as_of)
            print(a)
            print(a.admission.by_rule().to_string())
            print(a.route.counts().to_string())
        elif args.cmd == "status":
            print(proc.status().to_string())
        elif args.cmd == "file":
            print(repr(proc.file(args.application, args.lang)))
        else:
            out = _steps(proc, args)
            print(out if not isinstance(out, pd.DataFrame) else out.to_string(index=False))
            if args.cmd not in ("meeting", "vote", "decide"):
                print(repr(proc.file(args.application)))
    except (ValidationError, ValueError, KeyError) as exc:
        print(f"riskkit credit: {exc}", file=sys.stderr)
        return 2
    return 0
