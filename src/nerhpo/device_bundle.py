"""What a GPU machine without internet needs beside the code to measure nerhpo there.

Why: the GPU figures (benchmark at BERT-base size, trial packing, the whole-study cost) are
measured on a lent machine that has Python with torch, transformers, pandas and scikit-learn but
not Ray, hpbandster, seqeval or jsonschema, reaches no package index, and takes at most 64 MiB
of files per call. The bundle holds those packages as wheels for its Python, at the versions this
project is tested with, and the GermEval files the benchmark reads. Ray's wheel (79 MB) carries
a 32 MB Java archive that only Ray's Java workers use; it is left out so one call carries it all.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

# Packages the GPU machine lacks (its list: the device tool's KINDS.md), found by importing what
# benchmark.py and study_cost.py's stage scripts import; hpbandster and seqeval have no wheels.
BINARY = [
    "ray",
    "pydantic",
    "pydantic-core",
    "annotated-types",
    "typing-inspection",
    "jsonschema",
    "jsonschema-specifications",
    "referencing",
    "rpds-py",
    "ConfigSpace",
    "more-itertools",
    "Pyro4",
    "serpent",
    "dill",
    "wcwidth",
]
SOURCE_ONLY = ["hpbandster", "seqeval"]
GERMEVAL = ["NER-de-dev.tsv", "NER-de-test.tsv"]
PLATFORMS = [
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
]
LIMIT_BYTES = 56 * 2**20  # one call carries 64 MiB, the working tree included


def pinned(name: str) -> str:
    """``name==version`` as installed here, so the GPU machine runs the tested versions."""
    return f"{name}=={importlib.metadata.version(name)}"


def strip_wheel(wheel: Path, prefix: str) -> int:
    """Rewrite ``wheel`` without the files under ``prefix`` (and their RECORD lines), in place.

    Returns the bytes saved. The RECORD must not list files the wheel lacks, or pip refuses it.
    """
    before = wheel.stat().st_size
    tmp = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename.startswith(prefix):
                continue
            data = src.read(info)
            if info.filename.endswith(".dist-info/RECORD"):
                lines = data.decode().splitlines(keepends=True)
                data = "".join(x for x in lines if not x.startswith(prefix)).encode()
            dst.writestr(info, data)
    tmp.replace(wheel)
    return before - wheel.stat().st_size


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True)


def build(out: str | Path, germeval: str | Path, python_version: str = "3.12") -> dict:
    """Fill ``out`` with ``wheels/`` and ``germeval/``; returns what it holds and its size."""
    out, germeval = Path(out), Path(germeval)
    missing = [f for f in GERMEVAL if not (germeval / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{germeval} lacks {', '.join(missing)}")
    wheels = out / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    platforms = [a for p in PLATFORMS for a in ("--platform", p)]
    _pip(
        "download", "-q", "--no-deps", "--only-binary=:all:", "--python-version", python_version,
        "--implementation", "cp", *platforms, "--platform", "any", "-d", str(wheels),
        *map(pinned, BINARY),
    )  # fmt: skip
    _pip("wheel", "-q", "--no-deps", "-w", str(wheels), *map(pinned, SOURCE_ONLY))
    (ray_wheel,) = wheels.glob("ray-*.whl")
    saved = strip_wheel(ray_wheel, "ray/jars/")
    data = out / "germeval"
    data.mkdir(exist_ok=True)
    for name in GERMEVAL:
        shutil.copyfile(germeval / name, data / name)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    size = sum(p.stat().st_size for p in files)
    if size > LIMIT_BYTES:
        raise RuntimeError(f"{out} holds {size / 2**20:.1f} MiB, over {LIMIT_BYTES / 2**20:.0f}")
    return {
        "wheels": sorted(p.name for p in wheels.iterdir()),
        "ray_java_bytes_left_out": saved,
        "mib": round(size / 2**20, 1),
    }
