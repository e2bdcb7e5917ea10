"""Sample data: the German Credit data and a synthetic microloan book.

* :func:`load_german_credit`: UCI Statlog German Credit (Hofmann 1994, CC BY 4.0);
* :func:`make_microloan_book`: a realistic, deterministic microloan :class:`~riskkit.book.LoanBook`;
* :func:`make_inspection_ledger`: a synthetic inspection ledger (贷后检查台账) for a book;
* :func:`make_write_off_register`: the lender's synthetic write-off decisions for a book.
* :func:`replicate_book` / :func:`relabel_book` / :func:`concat_books`: larger books from a
  generated one, every id distinct;
* :func:`make_partitioned_book`: millions of loans generated piece by piece straight into a
  partitioned dataset (pieces as Dask tasks).

A scoring sample of a book (application-time features and outcome) is
:func:`riskkit.scoring.application_sample`.
"""

from .german import load_german_credit
from .large import make_partitioned_book
from .ledger import make_inspection_ledger
from .microloan import make_microloan_book
from .replicate import concat_books, relabel_book, replicate_book
from .write_offs import make_write_off_register

__all__ = [
    "load_german_credit",
    "make_inspection_ledger",
    "make_microloan_book",
    "make_write_off_register",
    "make_partitioned_book",
    "concat_books",
    "relabel_book",
    "replicate_book",
]
