"""A small hand-built book whose categories are known by hand.

Loan ``i`` (0-based) is an equal-principal loan of ``amount[i]`` at 0% over 12 months,
disbursed 2025-11-15 with dues on the 15th (Dec 2025 .. Nov 2026). As of 2026-10-31 eleven
installments have fallen due; the borrower paid every one except the last ``k[i]``, so the loan
has ``k`` consecutive missed periods and an outstanding principal of ``amount * (1 + k) / 12``.
With ``n_repaid``, that many more loans (6 months, same start) were repaid in full by May 2026:
closed, balance 0 (column ``repaid`` of the expected frame).
By DOMAIN.md s.4 (with the any-overdue backstop): k = 0 normal, 1..3 special mention,
4..6 substandard, 7..10 doubtful (days past due stay below 360).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskkit.book import LoanBook, make_schedule

AS_OF = pd.Timestamp("2026-10-31")
K_CYCLE = np.array([0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 7, 0, 0, 10, 0])


def expected_category(k):
    k = np.asarray(k)
    return np.select(
        [k == 0, k <= 3, k <= 6], ["normal", "special_mention", "substandard"], "doubtful"
    )


def hand_review_book(n: int = 48, n_repaid: int = 0):
    i = np.arange(n + n_repaid)
    repaid = i >= n
    k = np.where(repaid, 0, K_CYCLE[i % len(K_CYCLE)])
    amount = 12_000.0 * (1 + (i % 5))
    ids = np.array([f"L{j:04d}" for j in i])
    n = len(i)
    loans = pd.DataFrame(
        {
            "loan_id": ids,
            "borrower_id": [f"B{j:04d}" for j in i],
            "product": np.where(i % 2 == 0, "business", "consumer"),
            "amount": amount,
            "disbursement_date": pd.to_datetime(["2025-11-15"] * n),
            "term_months": np.where(repaid, 6, 12),
            "annual_rate": 0.0,
            "repayment_method": "equal_principal",
            "guarantee_type": "credit",
            "purpose": "working capital",
            "officer_id": np.where(i % 3 == 0, "O1", "O2"),
            "branch": np.where(i % 4 == 0, "0042", "城关"),
        }
    )
    borrowers = pd.DataFrame(
        {
            "borrower_id": loans["borrower_id"],
            "segment": "trader",
            "monthly_income": 1_000_000.0,
            "name": [f"张{chr(0x4E00 + j)}" for j in i],
            "id_number": [f"110101199001{j:04d}12" for j in i],
            "phone": [f"1381234{j:04d}" for j in i],
        }
    )
    schedule = make_schedule(loans)
    due = schedule.merge(pd.DataFrame({"loan_id": ids, "k": k}), on="loan_id")
    paid = due[(due["due_date"] <= AS_OF) & (due["period"] <= 11 - due["k"])]
    payments = pd.DataFrame(
        {
            "loan_id": paid["loan_id"].to_numpy(),
            "payment_date": paid["due_date"].to_numpy(),
            "amount": (paid["principal_due"] + paid["interest_due"]).to_numpy(),
        }
    )
    book = LoanBook(loans, schedule, payments, borrowers=borrowers, as_of_date=AS_OF)
    expected = pd.DataFrame(
        {
            "k": k,
            "repaid": repaid,
            "category": expected_category(k),
            "balance": np.where(repaid, 0.0, amount * (1 + k) / 12),
            "branch": loans["branch"].to_numpy(),
            "officer_id": loans["officer_id"].to_numpy(),
        },
        index=pd.Index(ids, name="loan_id"),
    )
    return book, expected
