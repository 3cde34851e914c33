"""The kit for a GPU node without internet: the bundle (nerhpo.measure.offline_bundle) built from a local
wheelhouse, so no index is needed, and workflow/scripts/gpu_check.sh installing it and checking
the node, all at micro size on the CPU; the measurements themselves run in the slow tier."""

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from nerhpo.measure.offline_bundle import (
    EXCLUDE,
    MIB,
    BundleError,
    build,
    closure,
    project_requirements,
    sha256,
    strip_wheel,
    this_python,
)

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "workflow/scripts/gpu_check.sh"
BUNDLE_SCRIPT = ROOT / "workflow/scripts/offline_bundle.py"


def make_wheel(folder: Path, name: str = "demo_pkg", tag: str = "py3-none-any") -> Path:
    """A wheel with a package and a jars/ folder, listed in its RECORD."""
    wheel = folder / f"{name}-1.0-{tag}.whl"
    info = f"{name}-1.0.dist-info"
    files = {
        f"{name}/__init__.py": "VALUE = 42\n",
        f"{name}/jars/big.jar": os.urandom(6000).hex(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n",
    }
    record = "".join(f"{n},,\n" for n in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for n, text in files.items():
            z.writestr(n, text)
        z.writestr(f"{info}/RECORD", record)
    return wheel


# A build backend in the sdist itself (no setuptools, so pip builds it without an index): its
# wheel gets the tag in TAG, to stand for a pure or a compiled package published only as source.
BACKEND = """
import os, zipfile
NAME, VERSION = "demo_src", "1.0"
def _tag():
    return open(os.path.join(os.path.dirname(__file__), "TAG")).read().strip()
def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    info = f"{NAME}-{VERSION}.dist-info"
    files = {
        f"{NAME}/__init__.py": "SOURCE = True\\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n",
        f"{info}/WHEEL": f"Wheel-Version: 1.0\\nGenerator: t\\nRoot-Is-Purelib: true\\nTag: {_tag()}\\n",
    }
    name = f"{NAME}-{VERSION}-{_tag()}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for n, text in files.items():
            z.writestr(n, text)
        z.writestr(f"{info}/RECORD", "".join(f"{n},,\\n" for n in files) + f"{info}/RECORD,,\\n")
    return name
"""


def make_sdist(folder: Path, tag: str) -> Path:
    sdist = folder / "demo_src-1.0.tar.gz"
    src = folder / "src-tree" / "demo_src-1.0"
    src.mkdir(parents=True)
    (src / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
    )
    (src / "backend.py").write_text(BACKEND)
    (src / "TAG").write_text(tag)
    (src / "PKG-INFO").write_text("Metadata-Version: 2.1\nName: demo_src\nVersion: 1.0\n")
    with tarfile.open(sdist, "w:gz") as tar:
        tar.add(src, arcname=src.name)
    return sdist


def offline(index: Path) -> list[str]:
    return ["--no-index", "--find-links", str(index)]


def test_strip_wheel_drops_the_folder_and_its_record_lines_and_pip_installs_it(tmp_path):
    wheel = make_wheel(tmp_path)
    assert strip_wheel(wheel, "demo_pkg/jars/") > 0
    assert strip_wheel(wheel, "demo_pkg/jars/") == 0  # nothing left to drop
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


def test_closure_pins_the_installed_versions_follows_extras_and_leaves_out_excluded():
    import numpy
    import ray

    tune = closure(["ray[tune]"])
    assert tune["ray"] == ray.__version__ and "pandas" in tune  # ray[tune] needs pandas
    assert "pandas" not in closure(["ray"])
    # excluded: torch and what only torch needs (networkx); numpy, needed by accelerate, stays
    acc = closure(["accelerate"], exclude=["torch"])
    assert "torch" not in acc and "networkx" not in acc
    assert acc["numpy"] == numpy.__version__
    assert list(closure(["accelerate"], exclude=["torch"], deps=False)) == ["accelerate"]
    # the default: what the GPU measurements import, not the pipeline's tools nor torch
    default = {k.lower() for k in closure(project_requirements(), EXCLUDE)}
    assert {"ray", "hpbandster", "seqeval", "transformers", "jsonschema"} <= default
    assert not default & {"torch", "snakemake", "dvc", "matplotlib", "netifaces"}
    with pytest.raises(BundleError, match="no-such-package is not installed here"):
        closure(["no-such-package"])


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Path:
    """A local wheelhouse: a wheel with a Java-like archive and a pure package as source."""
    folder = tmp_path_factory.mktemp("index")
    make_wheel(folder)
    make_sdist(folder, "py3-none-any")
    return folder


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data") / "germeval2014"
    (folder / "extra").mkdir(parents=True)
    (folder / "NER-de-test.tsv").write_text("1\tBerlin\tB-LOC\tO\n")
    (folder / "NER-de-dev.tsv").write_text("1\tMünchen\tB-LOC\tO\n")
    (folder / "extra/notes.txt").write_text("nested files come along\n")
    return folder


@pytest.fixture(scope="module")
def bundle(tmp_path_factory, index, data_dir) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("carry") / "bundle"
    summary = build(
        out,
        pins=["demo_pkg==1.0", "demo_src==1.0"],
        data=[data_dir],
        drop=["demo_pkg/jars/"],
        part_mb=4096 / MIB,  # 4 KiB parts
        pip_options=offline(index),
    )
    return out, summary


def test_bundle_holds_the_node_wheels_its_data_and_what_it_is(bundle, data_dir):
    out, summary = bundle
    assert sorted(p.name for p in (out / "wheels").iterdir()) == [
        "demo_pkg-1.0-py3-none-any.whl",
        "demo_src-1.0-py3-none-any.whl",  # built here from its sdist: pure, so it serves the node
    ]
    with zipfile.ZipFile(out / "wheels/demo_pkg-1.0-py3-none-any.whl") as z:
        assert not [n for n in z.namelist() if "/jars/" in n]
    assert list(summary["dropped_bytes"]) == ["demo_pkg-1.0-py3-none-any.whl:demo_pkg/jars/"]
    for name in ("NER-de-test.tsv", "NER-de-dev.tsv", "extra/notes.txt"):
        copied = out / "data/germeval2014" / name
        assert copied.read_bytes() == (data_dir / name).read_bytes()
    assert (out / "requirements.txt").read_text() == "demo_pkg==1.0\ndemo_src==1.0\n"
    manifest = json.loads((out / "bundle.json").read_text())
    assert manifest["python_version"] == this_python() and manifest["data"] == ["germeval2014"]
    assert manifest["platforms"][-1].startswith("manylinux1_")


def test_parts_are_at_most_the_part_size_and_join_back_to_the_bundle(bundle, tmp_path):
    out, summary = bundle
    parts = [Path(p) for p in summary["parts"]]
    assert len(parts) > 2 and all(p.stat().st_size <= 4096 for p in parts)
    assert [p.name for p in parts][:2] == ["bundle.tar.000", "bundle.tar.001"]
    sums = (out.parent / "bundle.parts/SHA256SUMS").read_text().splitlines()
    assert sums == [f"{sha256(p)}  {p.name}" for p in parts]
    joined = tmp_path / "joined.tar"
    joined.write_bytes(b"".join(p.read_bytes() for p in parts))
    with tarfile.open(joined) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(tmp_path / "x/bundle")
        for p in (tmp_path / "x/bundle").rglob("*")
        if p.is_file()
    )
    for f in files:
        assert (tmp_path / "x/bundle" / f).read_bytes() == (out / f).read_bytes()


def test_bundle_limits_and_inputs_fail_in_one_line(tmp_path, index, data_dir):
    with pytest.raises(BundleError, match="over --max-mb 0.001"):
        build(tmp_path / "b", pins=["demo_pkg==1.0"], max_mb=0.001, pip_options=offline(index))
    # inputs are checked before anything is downloaded
    with pytest.raises(BundleError, match="data folder .*nowhere does not exist"):
        build(tmp_path / "c", pins=["demo_pkg==1.0"], data=[tmp_path / "nowhere"])
    other = tmp_path / "other" / data_dir.name
    other.mkdir(parents=True)
    with pytest.raises(BundleError, match="distinct names"):
        build(tmp_path / "c", pins=["demo_pkg==1.0"], data=[data_dir, other])
    assert not (tmp_path / "c").exists()
    # a package published only as source that builds to a compiled wheel cannot serve the node
    compiled = tmp_path / "compiled-index"
    compiled.mkdir()
    make_sdist(compiled, "cp311-cp311-linux_x86_64")
    with pytest.raises(BundleError, match="demo_src-1.0-cp311.*not pure Python.*--exclude"):
        build(tmp_path / "d", pins=["demo_src==1.0"], pip_options=offline(compiled))


def test_bundle_script_flags_and_its_one_line_error(tmp_path, index):
    help_text = subprocess.run(
        [sys.executable, str(BUNDLE_SCRIPT), "--help"], capture_output=True, text=True
    ).stdout
    for flag in ("--data", "--packages", "--exclude", "--python-version", "--platform"):
        assert flag in help_text
    for flag in ("--drop", "--max-mb", "--part-mb", "--find-links", "--no-index", "--no-deps"):
        assert flag in help_text
    proc = subprocess.run(
        [sys.executable, str(BUNDLE_SCRIPT), "--out", str(tmp_path / "b"), "--packages", "tabulate"]
        + ["--no-deps", "--data", str(tmp_path / "nowhere"), "--no-index"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and proc.stderr.strip().splitlines()[-1] == (
        f"error: data folder {tmp_path / 'nowhere'} does not exist"
    )


def check(part: str, out: Path, **env) -> subprocess.CompletedProcess:
    env = {**os.environ, "OUT": str(out), "BACKEND": "cpu", "PYTHON": sys.executable, **env}
    return subprocess.run(
        ["bash", str(CHECK), part], capture_output=True, text=True, env=env, timeout=900
    )


def test_gpu_check_prints_its_usage():
    proc = subprocess.run(["bash", str(CHECK), "--help"], capture_output=True, text=True)
    assert proc.returncode == 0 and "gpu_check.sh bench" in proc.stdout
    for name in ("BUNDLE", "SITE", "OUT", "DATA", "BACKEND", "TRIALS", "WORK"):
        assert f"  {name} " in proc.stdout or f" {name} (" in proc.stdout, name
    proc = subprocess.run(["bash", str(CHECK)], capture_output=True, text=True)
    assert proc.returncode == 2 and "gpu_check.sh install" in proc.stderr


@pytest.fixture
def carried(bundle, tmp_path) -> Path:
    """The bundle as it arrives on the node: only its parts."""
    out, summary = bundle
    parts = tmp_path / "bundle.parts"
    parts.mkdir()
    for p in [*summary["parts"], out.parent / "bundle.parts/SHA256SUMS"]:
        (parts / Path(p).name).write_bytes(Path(p).read_bytes())
    return tmp_path / "bundle"


def test_gpu_check_unpacks_the_parts_installs_the_wheels_and_checks_the_node(carried):
    proc = check("install", carried.parent / "out", BUNDLE=str(carried))
    assert proc.returncode == 0, proc.stderr
    assert f"unpacked {carried}" in proc.stderr and "installed 2 wheels" in proc.stderr
    assert "gpu_check: python" in proc.stderr and (carried.parent / "out/gpu.txt").exists()
    assert (carried / "site/demo_pkg/__init__.py").exists()
    assert (carried / "site/demo_src/__init__.py").exists()
    # the stamp that spares the next run the install: the bundle.json it was installed from
    assert (carried / "site/.bundle-stamp").read_text().strip() == sha256(carried / "bundle.json")


def test_gpu_check_refuses_a_damaged_part_or_another_python(carried, tmp_path):
    first = carried.parent / "bundle.parts/bundle.tar.000"
    first.write_bytes(first.read_bytes()[:-1] + b"?")
    proc = check("install", tmp_path / "out", BUNDLE=str(carried))
    assert proc.returncode == 1 and proc.stderr.splitlines()[-1] == (
        f"gpu_check: error: a part in {carried}.parts/ is damaged"
    )
    assert not carried.exists()

    (carried / "wheels").mkdir(parents=True)
    (carried / "bundle.json").write_text(json.dumps({"python_version": "3.99"}))
    proc = check("bench", tmp_path / "out", BUNDLE=str(carried))
    assert proc.returncode == 1 and proc.stderr.splitlines()[-1] == (
        f"gpu_check: error: the bundle is for Python 3.99, {sys.executable} is {this_python()}"
        f" (rebuild it with --python-version {this_python()})"
    )
    proc = check("bench", tmp_path / "out", BUNDLE=str(tmp_path / "nothing"))
    assert proc.returncode == 1 and "no bundle at" in proc.stderr


@pytest.mark.slow
def test_gpu_check_runs_both_measurements_on_a_cpu_at_micro_size(tmp_path, germeval_dir):
    micro = {"BUNDLE": "none", "SIZE": "micro"}
    bench = check(
        "bench", tmp_path / "b", DATA=str(germeval_dir), MAX_SENTENCES="40", BATCH="16", **micro
    )
    assert bench.returncode == 0, bench.stderr
    lines = [json.loads(x) for x in (tmp_path / "b/bench.jsonl").read_text().splitlines()]
    assert [x.get("run") for x in lines[:3]] == ["seed", "trainer-best", "ours"]
    assert lines[-1]["summary"] and lines[-1]["ratio_vs_seed"] > 0
    assert "gpu_check: python" in bench.stderr and (tmp_path / "b/gpu.txt").exists()

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
        **micro,
    )
    assert study.returncode == 0, study.stderr
    report = json.loads((tmp_path / "s/study_cost.json").read_text())
    assert report["scale"]["train_sentences"] == 100 and report["scale"]["size"] == "micro"
    assert [r["algorithm"] for r in report["studies"]] == ["asha"]
    assert "| asha " in (tmp_path / "s/study_cost.md").read_text()
    with tarfile.open(tmp_path / "s/study-logs.tgz") as tar:
        assert "logs/hpo/asha.log" in tar.getnames()
