"""The one check applied to everything a report run writes.

Before a run's folder is published (as the report, or as ``<name>.failed/``), every file in it
goes through the run's :class:`~riskkit.privacy.Redactor`: notebooks and JSON structurally (each
string masked, base64 images kept), other text as text. Files are rewritten masked, atomically,
and the findings are returned, so a good run that showed personal data or the password fails
(its folder, masked, becomes the failed run) instead of being published.

Images are kept unchecked (their pixels are not text). Any other file that is not UTF-8 text
cannot be checked, so it is removed and reported as a finding.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..atomic import atomic_path
from ..privacy import Redactor

#: Files kept as they are: pictures carry no text to mask.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp"})
JSON_SUFFIXES = frozenset({".json", ".ipynb"})


def scrub_folder(folder: Path, redactor: Redactor) -> list[str]:
    """Mask every file under ``folder`` in place; return what was found, one line per file
    (``"report.html: phone number"``)."""
    findings = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        found = scrub_file(path, redactor)
        if found:
            findings.append(f"{path.relative_to(folder)}: {', '.join(found)}")
    return findings


def scrub_file(path: Path, redactor: Redactor) -> list[str]:
    """Mask one file in place; the kinds of data found (``["phone number"]``)."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        path.unlink()
        return ["a file that is not text cannot be checked for personal data (removed)"]
    if path.suffix.lower() in JSON_SUFFIXES:
        masked, found = _scrub_json(text, redactor)
    else:
        masked, found = redactor.text(text), redactor.found(text)
    if masked != text:
        with atomic_path(path) as tmp:
            tmp.write_text(masked, encoding="utf-8")
    return found


def _strings(obj, binary: bool = False):
    """Every string (keys included) of a JSON document, base64 payloads left out."""
    from ..privacy import BINARY_KEYS

    if isinstance(obj, str):
        if not binary:
            yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield str(k)
            yield from _strings(v, binary=k in BINARY_KEYS)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)
    elif isinstance(obj, int) and not isinstance(obj, bool):
        yield str(obj)


def _scrub_json(text: str, redactor: Redactor) -> tuple[str, list[str]]:
    try:
        doc = json.loads(text)
    except ValueError:  # not JSON after all: mask it as text
        return redactor.text(text), redactor.found(text)
    found: list[str] = []
    for s in _strings(doc):
        found += [k for k in redactor.found(s) if k not in found]
    if not found:
        return text, []
    indent = 1 if text.startswith("{\n ") and not text.startswith("{\n  ") else 2
    return json.dumps(redactor.value(doc), ensure_ascii=False, indent=indent) + "\n", found
