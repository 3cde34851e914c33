"""A Ray head shared by all HPO jobs of one pipeline run, so each job attaches (about 0.1 s)
instead of starting its own Ray (about 10 s on two cores, ../shared/design/MEASURED.md).

The pipeline starts it once (Snakemake ``onstart``) and stops it at the end. A watcher process
stops it too when the pipeline process dies, even by SIGKILL, so a killed run leaves no Ray behind.
HPO jobs that find no head (DVC, a single script run) start a local Ray instead.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)
HEAD_DIR = Path(".nerhpo-ray")
START_ATTEMPTS = 3


def ray_bin() -> str:
    return shutil.which("ray", path=str(Path(sys.executable).parent)) or "ray"


def env() -> dict:
    return {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def head_address(head_dir: Path = HEAD_DIR) -> str | None:
    """The running pipeline head's address, or None."""
    address_file = head_dir / "address"
    if not address_file.exists():
        return None
    return address_file.read_text().strip() or None


def start(
    num_cpus: int, num_gpus: int | None, watch_pid: int | None, head_dir: Path = HEAD_DIR
) -> str:
    stop(head_dir)
    for attempt in range(1, START_ATTEMPTS + 1):
        head_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        temp_dir = Path(tempfile.gettempdir()) / f"nerhpo-ray-{port}"
        cmd = [
            ray_bin(),
            "start",
            "--head",
            f"--port={port}",
            f"--temp-dir={temp_dir}",
            f"--num-cpus={num_cpus}",
            "--include-dashboard=false",
            "--disable-usage-stats",
        ]
        if num_gpus is not None:  # else Ray detects the GPUs itself
            cmd.append(f"--num-gpus={num_gpus}")
        proc = subprocess.run(cmd, env=env(), capture_output=True, text=True)
        if proc.returncode == 0:
            break
        # stop what this attempt started; a port in use (this one, taken since free_port chose
        # it, or one Ray picks for its own services: seen once in CI) is worth another try
        (head_dir / "temp_dir").write_text(f"{temp_dir}\n")
        stop(head_dir)
        if "Address already in use" not in proc.stderr or attempt == START_ATTEMPTS:
            raise RuntimeError(f"ray start failed: {proc.stderr.strip()[-500:]}")
        log.warning("ray start: a port was in use (attempt %d); trying other ports", attempt)
    address = f"127.0.0.1:{port}"
    (head_dir / "address").write_text(address + "\n")
    (head_dir / "temp_dir").write_text(f"{temp_dir}\n")
    if watch_pid:
        watcher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "nerhpo.search.ray_head",
                "watch",
                str(watch_pid),
                str(head_dir),
            ],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        (head_dir / "watcher.pid").write_text(f"{watcher.pid}\n")
    log.info("Ray head at %s (%d CPUs)", address, num_cpus)
    return address


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def head_processes(temp_dir: str):
    """This head's processes (and their children), not any other Ray on the machine.

    ``ray stop`` would stop every Ray of every user and pipeline on the machine.
    """
    import psutil

    roots = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if any(temp_dir in arg for arg in proc.info["cmdline"] or []):
                roots.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    found = {p.pid: p for p in roots}
    for proc in roots:
        try:
            found.update({c.pid: c for c in proc.children(recursive=True)})
        except psutil.NoSuchProcess:
            continue
    return list(found.values())


def stop(head_dir: Path = HEAD_DIR) -> None:
    """Stop the head started from ``head_dir`` and nothing else."""
    import psutil

    temp_file = head_dir / "temp_dir"
    if not temp_file.exists():
        shutil.rmtree(head_dir, ignore_errors=True)
        return
    temp_dir = temp_file.read_text().strip()
    procs = head_processes(temp_dir)
    for proc in procs:
        try:
            proc.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=5)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    shutil.rmtree(head_dir, ignore_errors=True)
    shutil.rmtree(temp_dir, ignore_errors=True)


def watch(pid: int, head_dir: Path) -> None:
    """Stop the head once ``pid`` (the pipeline) is gone."""
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        if not head_dir.exists():
            return
        time.sleep(1.0)
    stop(head_dir)


if __name__ == "__main__":
    if sys.argv[1] == "watch":
        watch(int(sys.argv[2]), Path(sys.argv[3]))
