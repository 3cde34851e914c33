"""The kit for measuring on a GPU machine without a package index: the bundle's wheel surgery
(nerhpo.device_bundle) and workflow/scripts/device_check.sh, run here on the CPU at micro size
so that a session lent a GPU does not spend its minutes on a broken command."""

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from nerhpo.device_bundle import GERMEVAL, build, pinned, strip_wheel

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "workflow/scripts/device_check.sh"


def make_wheel(folder: Path) -> Path:
    """A pure-Python wheel with a package and a jars/ folder, listed in its RECORD."""
    wheel = folder / "demo_pkg-1.0-py3-none-any.whl"
    info = "demo_pkg-1.0.dist-info"
    files = {
        "demo_pkg/__init__.py": "VALUE = 42\n",
        "demo_pkg/jars/big.jar": "x" * 5000,
        f"{info}/METADATA": "Metadata-Version: 2.1\nName: demo_pkg\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
        z.writestr(f"{info}/RECORD", record)
    return wheel


def test_strip_wheel_drops_the_folder_and_its_record_lines_and_pip_installs_it(tmp_path):
    wheel = make_wheel(tmp_path)
    saved = strip_wheel(wheel, "demo_pkg/jars/")
    assert saved > 0
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        record = z.read("demo_pkg-1.0.dist-info/RECORD").decode()
    assert "demo_pkg/jars/big.jar" not in names and "jars" not in record
    assert "demo_pkg/__init__.py" in names and "demo_pkg/__init__.py" in record
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps"]
        + ["--target", str(target), str(wheel)],
        check=True,
    )
    assert (target / "demo_pkg/__init__.py").read_text() == "VALUE = 42\n"
    assert not (target / "demo_pkg/jars").exists()


def test_bundle_pins_the_installed_versions_and_needs_the_germeval_files(tmp_path):
    import ray

    assert pinned("ray") == f"ray=={ray.__version__}"
    (tmp_path / GERMEVAL[0]).write_text("1\tBerlin\tB-LOC\tO\n")
    with pytest.raises(FileNotFoundError, match="NER-de-test.tsv"):
        build(tmp_path / "bundle", tmp_path)
    assert not (tmp_path / "bundle").exists()  # nothing downloaded before the check


def check(part: str, out: Path, **scale) -> subprocess.CompletedProcess:
    env = {**os.environ, "WHEELS": "none", "OUT": str(out), "DEVICE": "cpu", "SIZE": "micro"}
    env |= {"PYTHON": sys.executable, **scale}
    return subprocess.run(
        ["bash", str(CHECK), part], capture_output=True, text=True, env=env, timeout=600
    )


def test_device_check_without_a_part_prints_its_usage():
    proc = subprocess.run(["bash", str(CHECK)], capture_output=True, text=True)
    assert proc.returncode == 2 and "device_check.sh bench" in proc.stderr


@pytest.mark.slow
def test_device_check_runs_both_parts_on_a_cpu_at_micro_size(tmp_path, germeval_dir):
    bench = check("bench", tmp_path / "b", DATA=str(germeval_dir), MAX_SENTENCES="40", BATCH="16")
    assert bench.returncode == 0, bench.stderr
    lines = [json.loads(x) for x in (tmp_path / "b/bench.jsonl").read_text().splitlines()]
    assert [x.get("run") for x in lines[:3]] == ["seed", "trainer-best", "ours"]
    assert lines[-1]["summary"] and lines[-1]["ratio_vs_seed"] > 0
    assert "device_check: python" in bench.stderr and (tmp_path / "b/gpu.txt").exists()

    study = check(
        "study",
        tmp_path / "s",
        WORK=str(tmp_path / "work"),
        ALGORITHMS="asha",
        TRAIN_SENTENCES="100",
        DEV_SENTENCES="30",
        TRIALS="2",
        MAX_EPOCHS="1",
        GPUS_PER_TRIAL="0",
        CPUS_PER_TRIAL="1",
    )
    assert study.returncode == 0, study.stderr
    report = json.loads((tmp_path / "s/study_cost.json").read_text())
    assert report["scale"]["train_sentences"] == 100 and report["scale"]["size"] == "micro"
    assert [r["algorithm"] for r in report["studies"]] == ["asha"]
    with tarfile.open(tmp_path / "s/study-logs.tgz") as tar:
        assert "logs/hpo/asha.log" in tar.getnames()
