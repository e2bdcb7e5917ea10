"""Where a report run writes: its address (report, as-of date, scope), the folders derived from
it, and the checks that keep every path the runner touches inside the reports directory.

A report's address is ``reports/<as-of>/<folder>/`` where ``folder`` is the report name for the
all-branch report and ``<name>@<key>=<value>[+...]`` for a scoped one (``-p branch=城关支行``
writes ``post_loan_review@branch=城关支行``), so a scoped run never replaces the all-branch
report. Values are percent-encoded where they are not letters, digits, ``-``, ``_`` or ``.``,
so a value never becomes a path (``a/../b`` is ``a%2F..%2Fb``).

Beside each report folder: ``<folder>.failed/`` (the last failed run), and, while a run is in
progress, ``.<folder>.tmp-<run>/`` (the run's private working folder) and
``.<folder>.old-<run>/`` (the previous report during the swap). One run per address at a time:
``reports/.locks/<as-of>/<folder>.lock``.

Examples
--------
>>> address_folder("post_loan_review", {"branch": "城关支行"})
'post_loan_review@branch=城关支行'
>>> address_folder("post_loan_review", {"branch": "../x"})
'post_loan_review@branch=..%2Fx'
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import ProblemCollector

#: Longest folder name (bytes) an address may take (file systems allow 255).
MAX_FOLDER_BYTES = 200
FAILED_SUFFIX = ".failed"
#: Folder of the per-address lock files, under the reports directory.
LOCKS = ".locks"


class UnsafePathError(ValueError):
    """A path the runner was about to write or delete lies outside the reports directory."""


def inside(root: Path, path: Path) -> Path:
    """``path`` resolved, checked to lie inside ``root`` (resolved, symbolic links followed).

    Raises
    ------
    UnsafePathError
    """
    root_r = Path(root).resolve()
    path_r = Path(path).resolve()
    if path_r != root_r and not path_r.is_relative_to(root_r):
        raise UnsafePathError(f"refusing to touch {path_r}: it is outside {root_r}")
    return path_r


def _encode(value: str) -> str:
    """Percent-encode every character that is not a letter, digit, ``-``, ``_`` or ``.``."""
    out = []
    for ch in value:
        if ch.isalnum() or ch in "-_.":
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8")))
    return "".join(out)


def address_folder(name: str, scope: Mapping[str, str]) -> str:
    """Folder name of report ``name`` with ``scope`` (parameter -> value; empty: all)."""
    if not scope:
        return name
    parts = "+".join(f"{k}={_encode(str(v))}" for k, v in sorted(scope.items()))
    return f"{name}@{parts}"


def scope_text(scope: Mapping[str, str] | None) -> str:
    """``branch=城关支行, officer=O7`` (empty text for the all-branch report)."""
    return ", ".join(f"{k}={v}" for k, v in sorted((scope or {}).items()))


def check_folder_name(folder: str, report: str) -> None:
    """Raise ValidationError when an address would not fit in a folder name."""
    if len(folder.encode("utf-8")) > MAX_FOLDER_BYTES:
        pc = ProblemCollector(f"parameters of report {report!r}")
        pc.add("parameters", "scope", f"scope values too long for a folder name: {folder[:60]}…")
        pc.raise_if_any()


@dataclass(frozen=True)
class RunPaths:
    """Every path one run may touch, each checked to lie inside ``root``."""

    root: Path
    out_root: Path
    folder: str
    target: Path
    failed: Path
    lock: Path

    @classmethod
    def build(cls, reports_dir, as_of: str, folder: str) -> RunPaths:
        root = Path(reports_dir).resolve()
        out_root = inside(root, root / as_of)
        locks = inside(root, root / LOCKS / as_of)
        return cls(
            root=root,
            out_root=out_root,
            folder=folder,
            target=cls._child(root, out_root, folder),
            failed=cls._child(root, out_root, folder + FAILED_SUFFIX),
            lock=cls._child(root, locks, f"{folder}.lock"),
        )

    @staticmethod
    def _child(root: Path, out_root: Path, name: str) -> Path:
        if "/" in name or name in (".", "..") or "\0" in name:
            raise UnsafePathError(f"refusing to use {name!r} as a folder name")
        p = out_root / name
        if inside(root, p).parent != out_root:
            raise UnsafePathError(f"refusing to touch {p}: it is not directly in {out_root}")
        return p

    def checked(self, path: Path) -> Path:
        """``path`` if it lies directly in this run's as-of folder (else UnsafePathError)."""
        return self._child(self.root, self.out_root, Path(path).name)

    def new_work_folder(self, run_id: str) -> Path:
        """A private (0700) working folder for a run, beside its target."""
        self.out_root.mkdir(parents=True, exist_ok=True)
        inside(self.root, self.out_root)
        return Path(tempfile.mkdtemp(prefix=f".{self.folder}.tmp-{run_id}-", dir=self.out_root))

    def old_folder(self, run_id: str) -> Path:
        return self.checked(self.out_root / f".{self.folder}.old-{run_id}")

    def remove(self, path: Path) -> None:
        """Delete a folder of this run's address (checked first)."""
        shutil.rmtree(self.checked(path))


class ReportBusyError(RuntimeError):
    """Another run of the same report, as-of date and scope holds the lock."""


@contextlib.contextmanager
def address_lock(paths: RunPaths, what: str, wait: float = 0.0) -> Iterator[None]:
    """Hold the lock of one report address; a second run waits up to ``wait`` seconds, then
    raises :class:`ReportBusyError` naming the run that holds it."""
    paths.lock.parent.mkdir(parents=True, exist_ok=True)
    inside(paths.root, paths.lock)
    with open(paths.lock, "a+", encoding="utf-8") as fh:
        _acquire(fh, what, wait)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)


def _acquire(fh, what: str, wait: float) -> None:
    deadline = time.monotonic() + max(0.0, wait)
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise ReportBusyError(
                f"{what} is already running ({holder}); this run did nothing. Run it again "
                "when that run has finished"
            )
        time.sleep(0.2)


def clean_leftovers(paths: RunPaths, log) -> None:
    """Remove what killed runs of this address left (its lock is held by the caller): working
    folders, and the previous report of an interrupted swap, which is put back in place when
    the report folder itself is missing."""
    prefix_tmp, prefix_old = f".{paths.folder}.tmp-", f".{paths.folder}.old-"
    if not paths.out_root.is_dir():
        return
    olds = sorted(
        (p for p in paths.out_root.iterdir() if p.name.startswith(prefix_old)),
        key=lambda p: p.stat().st_mtime,
    )
    if olds and not paths.target.exists():
        os.rename(paths.checked(olds.pop()), paths.target)
        log(f"[riskkit] restored the last good report {paths.target} (a run was killed mid-swap)")
    leftovers = [p for p in paths.out_root.iterdir() if p.name.startswith(prefix_tmp)] + olds
    for p in leftovers:
        paths.remove(p)
    if leftovers:
        log(f"[riskkit] removed {len(leftovers)} folder(s) left by killed runs of {paths.folder}")
