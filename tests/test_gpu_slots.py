"""GPU slots across real processes (no GPU needed: a fake list of GPU ids): no GPU is handed to
two jobs at once, a SIGKILLed job gives its GPU back, multi-GPU requests get distinct GPUs."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from nerhpo.search import gpu_slots
from nerhpo.search.gpu_slots import SlotTimeout, acquire, claim_for_process, visible_gpus

ROOT = Path(__file__).resolve().parents[1]
FAKE = ["0", "1", "2", "3"]

WORKER = textwrap.dedent(
    """
    import json, random, sys, time
    from nerhpo.search.gpu_slots import acquire

    lock_dir, out, start_at, n, gpus = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    random.seed(out)
    time.sleep(max(0.0, start_at - time.time()))  # all workers contend at once
    with acquire(n, gpus.split(","), lock_dir=lock_dir, timeout=60, poll=0.02) as ids:
        start = time.time()
        print("acquired", flush=True)
        time.sleep(float(sys.argv[6]) if len(sys.argv) > 6 else random.uniform(0.05, 0.3))
        end = time.time()
    with open(out, "w") as fh:
        json.dump({"gpus": ids, "start": start, "end": end}, fh)
    """
)


@pytest.fixture
def worker(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    return script


def spawn(worker, lock_dir, out, n=1, gpus=FAKE, start_at=0.0, hold=None):
    cmd = [
        sys.executable,
        str(worker),
        str(lock_dir),
        str(out),
        str(start_at),
        str(n),
        ",".join(gpus),
    ]
    if hold is not None:
        cmd.append(str(hold))
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def read(out: Path) -> dict:
    return json.loads(out.read_text())


def test_concurrent_jobs_never_share_a_gpu(tmp_path, worker):
    lock_dir = tmp_path / "slots"
    start_at = time.time() + 1.5  # time for 12 interpreters to start on a busy machine
    outs = [tmp_path / f"w{i}.json" for i in range(12)]
    procs = [spawn(worker, lock_dir, out, start_at=start_at) for out in outs]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    records = [read(out) for out in outs]
    assert all(len(r["gpus"]) == 1 and r["gpus"][0] in FAKE for r in records)
    by_gpu: dict[str, list[tuple[float, float]]] = {}
    for r in records:
        by_gpu.setdefault(r["gpus"][0], []).append((r["start"], r["end"]))
    for gpu, spans in by_gpu.items():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start >= end, f"GPU {gpu} held by two jobs at once: {spans}"
    # the 12 jobs really ran in parallel on several GPUs (not one after another)
    assert len(by_gpu) >= 2
    assert max(r["end"] for r in records) - min(r["start"] for r in records) < sum(
        r["end"] - r["start"] for r in records
    )


def test_sigkilled_job_gives_its_gpu_back(tmp_path, worker):
    lock_dir = tmp_path / "slots"
    holder = spawn(worker, lock_dir, tmp_path / "holder.json", gpus=["0"], hold=120)
    assert holder.stdout.readline().strip() == "acquired"
    waiter = spawn(worker, lock_dir, tmp_path / "waiter.json", gpus=["0"], hold=0.01)
    time.sleep(1.0)
    assert waiter.poll() is None, "the waiter got a GPU that was still held"
    killed_at = time.time()
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    assert waiter.wait(timeout=30) == 0
    took = read(tmp_path / "waiter.json")
    assert took["gpus"] == ["0"]
    assert killed_at <= took["start"] < killed_at + 5  # right after the kill, not at a timeout


def test_two_slots_are_two_distinct_gpus(tmp_path, worker):
    lock_dir = tmp_path / "slots"
    with acquire(2, FAKE, lock_dir=lock_dir) as ids:
        assert len(ids) == 2 and len(set(ids)) == 2 and set(ids) <= set(FAKE)
        # another process asking for 2 gets the other two, at the same time
        out = tmp_path / "other.json"
        proc = spawn(worker, lock_dir, out, n=2, hold=0.01)
        assert proc.wait(timeout=60) == 0
        other = read(out)["gpus"]
        assert len(set(other)) == 2 and not set(other) & set(ids)
        # and nobody gets a fifth GPU while all four are held
        with pytest.raises(SlotTimeout):
            with acquire(3, FAKE, lock_dir=lock_dir, timeout=0.3, poll=0.05):
                pass
    with acquire(4, FAKE, lock_dir=lock_dir, timeout=5) as ids:  # released on exit
        assert sorted(ids) == FAKE


def test_zero_slots_is_a_no_op_and_too_many_fail_at_once(tmp_path, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,7")
    with acquire(0, FAKE, lock_dir=tmp_path / "slots") as ids:
        assert ids == []
    assert not (tmp_path / "slots").exists()
    assert claim_for_process(0) == []
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "5,7"
    with pytest.raises(ValueError, match="only 4"):
        with acquire(5, FAKE, lock_dir=tmp_path / "slots"):
            pass


def test_visible_gpus_sources(monkeypatch, tmp_path):
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "2, 3"}) == ["2", "3"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "GPU-ab12,GPU-cd34"}) == ["GPU-ab12", "GPU-cd34"]
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": ""}) == []
    assert visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"}) == []
    fake_smi = tmp_path / "bin" / "nvidia-smi"
    fake_smi.parent.mkdir()
    fake_smi.write_text(
        "#!/bin/sh\necho 'GPU 0: NVIDIA H200 (UUID: GPU-aaa)'\necho 'GPU 1: NVIDIA H200 (UUID: GPU-bbb)'\n"
    )
    fake_smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_smi.parent}:{os.environ['PATH']}")
    assert visible_gpus({}) == ["0", "1"]
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert visible_gpus({}) == []


def test_claim_for_process_inside_slurm_uses_slurms_gpus(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert claim_for_process(1) == ["0"]
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "0"
    assert not (tmp_path / gpu_slots.DEFAULT_LOCK_DIR).exists()  # no lock: SLURM decides


def test_wrapper_script_holds_the_slots_for_the_execed_command(tmp_path):
    lock_dir = tmp_path / "slots"
    child = "import os, sys, time; print(os.environ['CUDA_VISIBLE_DEVICES'], flush=True); time.sleep(60)"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "workflow/scripts/gpu_slot.py"), "--gpus", "2", "--list",
         ",".join(FAKE), "--lock-dir", str(lock_dir), "--", sys.executable, "-c", child],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        held = proc.stdout.readline().strip().split(",")
        assert len(set(held)) == 2 and set(held) <= set(FAKE)
        with acquire(2, FAKE, lock_dir=lock_dir, timeout=5) as ids:
            assert not set(ids) & set(held)
        with pytest.raises(SlotTimeout):
            with acquire(3, FAKE, lock_dir=lock_dir, timeout=0.3, poll=0.05):
                pass
    finally:
        proc.kill()
        proc.wait()
    with acquire(4, FAKE, lock_dir=lock_dir, timeout=5):
        pass
    # --gpus 0 runs the command untouched
    out = subprocess.run(
        [sys.executable, str(ROOT / "workflow/scripts/gpu_slot.py"), "--", sys.executable, "-c",
         "print('ran')"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "ran"
