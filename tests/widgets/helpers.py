"""Helpers of the widget tests: a synthetic application sample and reading values back out of
the dashboards' HTML value widgets."""

from __future__ import annotations

import html
import re

import numpy as np
import pandas as pd


def cell(widget_html: str, label: str) -> str:
    """The value shown next to ``label`` in a key/value table."""
    m = re.search(
        r"<th[^>]*>" + re.escape(html.escape(label)) + r"</th><td class='rk-value'[^>]*>(.*?)</td>",
        widget_html,
    )
    assert m, f"{label!r} not in {widget_html[:200]}"
    return html.unescape(m.group(1))


def number(widget_html: str, label: str) -> float:
    text = cell(widget_html, label).replace(",", "")
    if text.endswith("%"):
        return float(text[:-1]) / 100
    return float(text)


def synthetic_applications(n: int = 3000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "monthly_income": rng.lognormal(9.3, 0.5, n).round(0),
            "age": rng.integers(21, 65, n),
            "segment": rng.choice(["trader", "farmer", "consumer"], n),
            "amount": rng.choice([20_000, 50_000, 100_000, 200_000], n).astype(float),
            "term_months": rng.choice([6, 12, 24], n),
            "annual_rate": 0.12,
            "repayment_method": "annuity",
            "guarantee_type": rng.choice(["credit", "guaranteed", "joint"], n),
        },
        index=pd.Index([f"A{i:05d}" for i in range(n)], name="application_id"),
    )
    lo = (
        -2.5
        - 1.2 * np.log(df.monthly_income / 10_000)
        + 0.4 * (df.segment == "consumer")
        + 0.3 * np.log(df.amount / 50_000)
        - 0.02 * (df.age - 40)
    )
    df["bad"] = (rng.random(n) < 1 / (1 + np.exp(-lo))).astype(int)
    return df


FEATURES = ["monthly_income", "age", "segment", "amount", "guarantee_type"]


def champion_store(path, n_loans: int = 3000, seed: int = 0) -> str:
    """A store with a sample book and an approved application champion developed on it (the
    model's development is done here, by the test, as a model developer would)."""
    from riskkit.datasets import make_microloan_book
    from riskkit.reports.scoring_report import (
        calibrate_scorecard,
        load_scoring_data,
        register_draft,
    )
    from riskkit.scoring import ModelRegistry
    from riskkit.store import Store

    url = f"sqlite:///{path}"
    store = Store(url)
    store.save_book(make_microloan_book(n_loans=n_loans, seed=seed))
    X, y, dates = load_scoring_data("sample_book", store=store)
    v = register_draft(store, calibrate_scorecard(X, y, dates=dates), author="developer")
    ModelRegistry(store).approve(v.name, v.version, approver="validator", reason="test")
    return url


def committee_store(path, n_loans: int = 2_000, n_applications: int = 30, seed: int = 0) -> str:
    """:func:`champion_store` plus the customer register and a month of sample applications
    taken through the credit process, with a committee meeting left open. Returns the URL."""
    from riskkit.book.customers import register_from_book
    from riskkit.datasets.applications import (
        make_applications,
        run_sample_process,
        store_sample,
    )
    from riskkit.store import Store

    url = champion_store(path, n_loans=n_loans, seed=seed)
    store = Store(url)
    book = store.load_book()
    register_from_book(store, book)
    proc = store_sample(store, make_applications(book, n=n_applications, seed=seed))
    run_sample_process(proc, seed=seed)
    return url
