"""Grading on a Dask cluster: the executor and reference sharing ``batch.grade_batch`` takes.

Each job is one submission, sent with ``pure=False`` (two identical submissions are still two
jobs); each chapter's reference notebook is scattered to every worker once per batch and the jobs
name it. Every worker grades inside its own sandbox; results come back to the submitting process,
which alone writes the gradebook. A worker that dies mid-batch loses nothing: the scheduler runs
its jobs again elsewhere (up to Dask's ``distributed.scheduler.allowed-failures``, then the job is
reported as crashed).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import Any


@contextlib.contextmanager
def dask(address: str, *, workers: int | None = None,
         timeout: float = 30) -> Iterator[tuple[Executor, Callable[[dict], Any]]]:
    """An executor on the Dask scheduler at ``address`` (``local``: a ``LocalCluster`` of one
    single-threaded worker process per core, or ``workers``) and the function that shares a
    reference notebook with every worker. ``timeout``: seconds to reach the scheduler."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as err:  # pragma: no cover - distributed is pinned in requirements.txt
        raise RuntimeError("grading on Dask needs the `distributed` package") from err

    cluster = None
    if address == "local":
        # The sandbox limits each kernel's memory; Dask's own limit would restart busy workers.
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None, memory_limit=0)
    try:
        try:
            client = Client(cluster or address, timeout=f"{timeout}s")
        except OSError as err:
            raise RuntimeError(f"cannot reach the Dask scheduler at {address}: {err}") from err
        with client:
            def share(reference: dict) -> Any:
                # In a list: a dict on its own would be scattered value by value.
                return client.scatter([reference], broadcast=True)[0]

            yield client.get_executor(pure=False), share
    finally:
        if cluster is not None:
            cluster.close()
