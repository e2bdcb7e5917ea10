"""The Jupyter kernel a report runs in, and the papermill call that runs it.

A report kernel

- gets the store URL (and its password) through its environment (``RISKKIT_DB_URL``), never as
  a notebook parameter, so no credential is written into the executed notebook;
- keeps no IPython history (``--HistoryManager.enabled=False``): the injected parameters would
  otherwise be stored in ``history.sqlite`` under the user's IPython directory (nbclient only
  turns history off for kernels named ``python3``);
- writes its own stdout/stderr (warnings, C libraries, ``os.write``) through the run's
  :class:`~riskkit.privacy.Redactor`, so the terminal and the cron log never show personal data
  or the password;
- uses CurveZMQ transport encryption where pyzmq supports it (``transport_encryption="auto"``),
  so ipykernel does not warn about unencrypted TCP on every run.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Dict, List, Unicode

from ..privacy import Redactor

#: Environment variable through which a report kernel gets the store URL.
DB_URL_ENV = "RISKKIT_DB_URL"
NO_HISTORY = "--HistoryManager.enabled=False"


class ReportKernelManager(AsyncKernelManager):
    """Kernel manager of report runs (see the module docstring)."""

    kernel_env = Dict(Unicode(), config=True, help="variables added to the kernel's environment")
    secrets = List(Unicode(), config=True, help="literal secrets masked in the kernel's output")

    # jupyter_client's AsyncKernelManager overrides these the same way (type: ignore there too)
    async def start_kernel(self, **kw):  # type: ignore[override]
        env = dict(kw.pop("env", None) or os.environ)
        env.update(self.kernel_env)
        kw["env"] = env
        kw["extra_arguments"] = [*kw.get("extra_arguments", []), NO_HISTORY]
        kw["stdout"] = subprocess.PIPE
        kw["stderr"] = subprocess.PIPE
        await super().start_kernel(**kw)
        process = getattr(self.provisioner, "process", None)
        redactor = Redactor(self.secrets)
        streams = (
            [] if process is None else [(process.stdout, sys.stdout), (process.stderr, sys.stderr)]
        )
        self.output_pumps = [_pump(s, t, redactor) for s, t in streams if s is not None]

    async def shutdown_kernel(self, now: bool = False, restart: bool = False):  # type: ignore[override]
        await super().shutdown_kernel(now=now, restart=restart)
        for t in getattr(self, "output_pumps", []):
            t.join(timeout=5)


def _pump(stream, target, redactor: Redactor) -> threading.Thread:
    """Copy the kernel's output lines to ``target``, masked, until the kernel exits."""

    def run():
        for raw in iter(stream.readline, b""):
            target.write(redactor.text(raw.decode("utf-8", errors="replace")))
            target.flush()
        stream.close()

    t = threading.Thread(target=run, name="riskkit-kernel-output", daemon=True)
    t.start()
    return t


def kernel_config(kernel_env: dict[str, str] | None = None, secrets=()):
    """traitlets config of a report kernel: :class:`ReportKernelManager` with ``kernel_env`` and
    ``secrets``, and CurveZMQ transport encryption where pyzmq supports it."""
    import zmq
    from traitlets.config import Config

    cfg = Config()
    cfg.ReportKernelManager.kernel_env = dict(kernel_env or {})
    cfg.ReportKernelManager.secrets = list(secrets)
    if zmq.has("curve"):
        cfg.KernelManager.transport_encryption = "auto"
    return cfg


def execute_notebook(
    nb_path: Path,
    out_path: Path,
    parameters: dict,
    *,
    kernel_name: str,
    cwd: Path,
    timeout: float,
    progress: bool,
    start_timeout: float,
    kernel_env: dict[str, str],
    secrets=(),
):
    """Run ``nb_path`` with papermill into ``out_path``; the whole run may take ``timeout``
    seconds (the cell running when it runs out fails the run)."""
    import papermill as pm

    deadline = time.monotonic() + timeout

    def timeout_func(cell):  # whole-run budget: each cell gets what is left (at least 1 s)
        return max(1, math.ceil(deadline - time.monotonic()))

    return pm.execute_notebook(
        str(nb_path),
        str(out_path),
        parameters=dict(parameters),
        kernel_name=kernel_name,
        cwd=str(cwd),
        progress_bar=progress,
        request_save_on_cell_execute=True,
        start_timeout=start_timeout,
        timeout_func=timeout_func,
        kernel_manager_class=ReportKernelManager,
        config=kernel_config(kernel_env, secrets),
    )
