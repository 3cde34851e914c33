"""Which GPU a job may use when several local jobs share one machine.

``snakemake --resources gpu=4`` only counts GPUs: it keeps at most four GPU jobs running, but does
not say which job gets which GPU. This module hands out GPU *slots*: one lock file per GPU in a
directory (default ``.nerhpo-gpu-slots/``), taken with ``fcntl.flock``. A job holds its locks for its
lifetime; the kernel drops them when the process ends, however it ends (even SIGKILL), so a crashed
job never leaves a GPU marked busy. Works across unrelated processes; no daemon, no state to clean.

Use it before torch or ray is imported, so CUDA only ever sees the job's own GPUs::

    from nerhpo.search.gpu_slots import claim_for_process
    claim_for_process(n)          # n=0: no-op; else blocks until n GPUs are free, then sets
                                  # CUDA_VISIBLE_DEVICES to them for the rest of the process

or wrap a command: ``python workflow/scripts/gpu_slot.py --gpus 1 -- python hpo.py ...``.
Within a SLURM job the GPUs are SLURM's to hand out (it sets CUDA_VISIBLE_DEVICES per job), so no
lock is taken there. This module imports nothing heavy, on purpose.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import random
import re
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

DEFAULT_LOCK_DIR = Path(".nerhpo-gpu-slots")
ENV = "CUDA_VISIBLE_DEVICES"

_held: list[int] = []  # descriptors kept open for the process lifetime by claim_for_process


class SlotTimeout(TimeoutError):
    """No n GPUs became free within the timeout."""


def visible_gpus(environ: dict | None = None) -> list[str]:
    """The GPUs this process may use: ``CUDA_VISIBLE_DEVICES`` if set, else ``nvidia-smi -L``.

    An empty or negative ``CUDA_VISIBLE_DEVICES`` (``""``, ``-1``) means no GPU at all.
    """
    environ = os.environ if environ is None else environ
    if ENV in environ:
        ids = [g.strip() for g in environ[ENV].split(",") if g.strip()]
        return [] if not ids or ids[0].startswith("-") or ids[0] == "NoDevFiles" else ids
    try:
        out = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return re.findall(r"^GPU (\d+):", out, re.M)


def _lock_path(lock_dir: Path, gpu: str) -> Path:
    # one file per host and GPU: a lock directory on a shared file system serves several nodes
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", gpu)
    return lock_dir / f"{socket.gethostname()}.gpu-{safe}.lock"


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())  # for people looking: who holds it
    return fd


def _release(fds: Sequence[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _take(
    n: int,
    gpus: Sequence[str] | None,
    lock_dir: Path | str,
    timeout: float | None,
    poll: float,
) -> tuple[list[str], list[int]]:
    """Block until ``n`` of ``gpus`` are free; return their ids and the held lock descriptors.

    All or nothing per attempt: a job that needs two GPUs never sits on one while waiting for the
    second, so two such jobs cannot deadlock. GPUs are tried from a random start, which spreads
    jobs and keeps one waiting process from always winning the same race.
    """
    gpus = list(visible_gpus() if gpus is None else gpus)
    if n > len(gpus):
        raise ValueError(f"asked for {n} GPU(s) but only {len(gpus)} exist: {gpus}")
    lock_dir = Path(lock_dir)
    lock_dir.mkdir(parents=True, exist_ok=True)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        start = random.randrange(len(gpus))
        got: list[tuple[str, int]] = []
        for gpu in gpus[start:] + gpus[:start]:
            fd = _try_lock(_lock_path(lock_dir, gpu))
            if fd is not None:
                got.append((gpu, fd))
                if len(got) == n:
                    ids = sorted((g for g, _ in got), key=gpus.index)
                    return ids, [fd for _, fd in got]
        _release([fd for _, fd in got])
        if deadline is not None and time.monotonic() >= deadline:
            raise SlotTimeout(f"no {n} free GPU(s) of {gpus} within {timeout} s")
        time.sleep(poll * (0.5 + random.random()))


@contextlib.contextmanager
def acquire(
    n: int,
    gpus: Sequence[str] | None = None,
    lock_dir: Path | str = DEFAULT_LOCK_DIR,
    timeout: float | None = None,
    poll: float = 0.2,
) -> Iterator[list[str]]:
    """Hold ``n`` GPU slots for the ``with`` block; yields their ids (``[]`` for ``n=0``).

    ``gpus``: the GPU ids to choose from (default: :func:`visible_gpus`). ``timeout``: seconds to
    wait before :class:`SlotTimeout` (None: wait for ever). Raises ValueError if ``n`` exceeds the
    number of GPUs, since waiting could never succeed.
    """
    if n <= 0:
        yield []
        return
    ids, fds = _take(n, gpus, lock_dir, timeout, poll)
    try:
        yield ids
    finally:
        _release(fds)


def slurm_assigned(environ: dict | None = None) -> bool:
    """True inside a SLURM job that SLURM gave GPUs to (it then sets CUDA_VISIBLE_DEVICES)."""
    environ = os.environ if environ is None else environ
    return "SLURM_JOB_ID" in environ and ENV in environ


def claim_for_process(
    n: int,
    gpus: Sequence[str] | None = None,
    lock_dir: Path | str = DEFAULT_LOCK_DIR,
    timeout: float | None = None,
    inheritable: bool = False,
) -> list[str]:
    """Take ``n`` GPU slots for the rest of this process and set ``CUDA_VISIBLE_DEVICES`` to them.

    Call it before torch or ray is imported. ``n=0`` is a no-op (returns ``[]``, environment left as
    it is). Inside a SLURM job with GPUs, SLURM has already given the job its own: the first ``n``
    visible ones are used and no lock is taken (SLURM renumbers each job's GPUs from 0, so locks keyed by
    id would make jobs on different GPUs wait for each other). ``inheritable`` keeps the locks
    across ``exec`` (for a wrapper that execs the real command).
    """
    if n <= 0:
        return []
    if slurm_assigned() and gpus is None:
        ids = visible_gpus()[:n]
        if len(ids) < n:
            raise ValueError(f"asked for {n} GPU(s) but SLURM gave this job {ids}")
    else:
        ids, fds = _take(n, gpus, lock_dir, timeout, poll=0.5)
        for fd in fds:
            os.set_inheritable(fd, inheritable)
        _held.extend(fds)
    os.environ[ENV] = ",".join(ids)
    return ids
