"""MkDocs hooks for the documentation site.

riskkit's docstrings use Sphinx cross-reference roles (``:class:`~riskkit.book.LoanBook```,
``:func:`...```), which run as doctests and read well in a terminal; mkdocstrings renders
them literally (``:class:<code>~riskkit.book.LoanBook</code>``). This hook turns each role
into inline code with the name as Sphinx would show it (``~`` keeps the last component).
"""

from __future__ import annotations

import re

_ROLE = re.compile(
    r":(?:py:)?(?:class|func|meth|mod|data|attr|obj|exc|const|ref|term):<code>(~?)([^<]+)</code>"
)


def _shown(match: re.Match) -> str:
    tilde, target = match.groups()
    name = target.split(".")[-1] if tilde else target
    return f"<code>{name}</code>"


def on_page_content(html: str, **kwargs) -> str:
    """Render Sphinx roles left in the page's HTML as inline code."""
    return _ROLE.sub(_shown, html)
