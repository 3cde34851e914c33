"""A wheelhouse and data bundle for a GPU node without internet, built on a machine with it.

Why: a GPU node of a cluster (or any machine behind an air gap) often has Python and a CUDA
build of torch but reaches no package index, so nerhpo's other dependencies cannot be installed
there. The bundle holds them as wheels for the node's Python version and platform, pinned to the
versions installed here (the ones the project is tested with), plus the data folders the
measurements read. workflow/scripts/gpu_check.sh installs it on the node and runs the GPU
measurements (docs/offline-gpu.md).

The bundle is a folder::

    wheels/            the wheels, one per package (sdist-only packages built here, if pure)
    data/<name>/       a copy of each data folder
    requirements.txt   the pins, for ``pip install --no-index --find-links wheels -r ...``
    bundle.json        what it holds: Python version, platforms, pins, left out, sizes

If the carrier takes files of limited size, the folder is also written as an uncompressed tar
split into parts of at most ``part_mb`` MiB (``<out>.parts/<name>.tar.000``, ...) with their
SHA-256 sums; ``cat <name>.tar.* | tar -x`` puts the folder back.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import io
import json
import platform
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

MIB = 2**20
PROJECT = "nerhpo"
# Left out by default: torch (the node brings a build for its CUDA driver; its own dependencies
# are left out with it), the pipeline's tools, which the GPU measurements do not run, and
# netifaces (only hpbandster's own name server imports it; it has no wheels for new Pythons).
EXCLUDE = (
    "torch",
    "snakemake",
    "snakemake-executor-plugin-slurm",
    "dvc",
    "datasets",
    "matplotlib",
    "netifaces",
)
# Ray's wheel carries a 32 MB Java archive that only Ray's Java workers use.
DROP = ("ray/jars/",)


class BundleError(RuntimeError):
    """The bundle cannot be built as asked (missing input, impure wheel, over the size limit)."""


def default_platforms(machine: str | None = None) -> list[str]:
    """The manylinux tags of this machine's architecture, newest first (pip's --platform)."""
    arch = machine or platform.machine()
    tags = [f"manylinux_2_{minor}_{arch}" for minor in (34, 28, 27, 17)]
    return tags + [f"manylinux2014_{arch}", f"manylinux1_{arch}"]


def this_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def project_requirements() -> list[str]:
    """The project's run-time requirements (its installed metadata, without extras)."""
    try:
        requires = importlib.metadata.requires(PROJECT) or []
    except importlib.metadata.PackageNotFoundError:
        raise BundleError(f"{PROJECT} is not installed here (pip install -e .)") from None
    return [r for r in requires if not _marker_wants_extra(Requirement(r))]


def _marker_wants_extra(req: Requirement) -> bool:
    return req.marker is not None and "extra" in str(req.marker)


def closure(
    roots: Iterable[str],
    exclude: Iterable[str] = (),
    python_version: str | None = None,
    deps: bool = True,
) -> dict[str, str]:
    """``{name: version}`` of the installed distributions ``roots`` need, dependencies included
    (only ``roots`` themselves if not ``deps``).

    An excluded name is left out with the dependencies only it brings in. Markers are read for
    ``python_version`` (the node's), the requested extras included (``ray[tune]``).
    """
    skip = {canonicalize_name(x) for x in exclude}
    env = {"python_version": python_version or this_python()}
    env["python_full_version"] = env["python_version"] + ".0"
    pins: dict[str, str] = {}
    extras_seen: dict[str, set[str]] = {}
    todo = [Requirement(r) for r in roots]
    todo = [r for r in todo if r.marker is None or r.marker.evaluate({**env, "extra": ""})]
    while todo:
        req = todo.pop()
        key = canonicalize_name(req.name)
        if key in skip:
            continue
        try:
            dist = importlib.metadata.distribution(req.name)
        except importlib.metadata.PackageNotFoundError:
            raise BundleError(f"{req.name} is not installed here, so no version to pin") from None
        extras = {canonicalize_name(e) for e in req.extras}
        seen = extras_seen.get(key)
        if seen is not None and extras <= seen:
            continue
        new = extras if seen is None else extras - seen
        want = ({""} if seen is None else set()) | new
        extras_seen[key] = (seen or set()) | extras
        pins[dist.metadata["Name"]] = dist.version
        for text in dist.requires or [] if deps else []:
            dep = Requirement(text)
            if dep.marker is None:
                if "" in want:
                    todo.append(dep)
            elif any(dep.marker.evaluate({**env, "extra": e}) for e in want):
                todo.append(dep)
    return dict(sorted(pins.items(), key=lambda kv: kv[0].lower()))


def strip_wheel(wheel: Path, prefix: str) -> int:
    """Rewrite ``wheel`` without the files under ``prefix`` (and their RECORD lines), in place.

    Returns the bytes saved (0 if it has no such files). The RECORD must not list files the
    wheel lacks, or pip refuses it.
    """
    with zipfile.ZipFile(wheel) as src:
        if not any(n.startswith(prefix) for n in src.namelist()):
            return 0
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


def download_wheels(
    folder: Path,
    pins: Sequence[str],
    python_version: str,
    platforms: Sequence[str],
    pip_options: Sequence[str] = (),
) -> None:
    """Download ``pins`` as wheels for the node into ``folder``; build sdist-only ones here.

    A package published only as source is built into a wheel here; that wheel serves the node
    only if it is pure Python (tag ``none-any``), otherwise this raises.
    """
    platform_args = [a for p in [*platforms, "any"] for a in ("--platform", p)]
    _pip(
        "download", "-q", "--no-deps", "--prefer-binary", "--python-version", python_version,
        "--implementation", "cp", *platform_args, *pip_options, "-d", str(folder), *pins,
    )  # fmt: skip
    for sdist in sorted(p for p in folder.iterdir() if p.suffix != ".whl"):
        built = folder / ".built"
        _pip("wheel", "-q", "--no-deps", *pip_options, "-w", str(built), str(sdist))
        for wheel in built.glob("*.whl"):
            if not wheel.name.endswith("-none-any.whl"):
                raise BundleError(
                    f"{wheel.name}: no wheel for Python {python_version} on {platforms[0]} and,"
                    " built here, not pure Python (leave it out with --exclude if the node has"
                    " or does not need it)"
                )
            wheel.replace(folder / wheel.name)
        shutil.rmtree(built)
        sdist.unlink()


class _Parts(io.RawIOBase):
    """A write-only stream cut into files ``<stem>.000``, ``<stem>.001``, ... of ``size`` bytes."""

    def __init__(self, stem: Path, size: int):
        self.stem, self.size, self.paths = stem, size, []
        self._file, self._left = None, 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        view = memoryview(data)
        while view:
            if self._left == 0:
                self._next()
            n = min(self._left, len(view))
            self._file.write(view[:n])
            self._left -= n
            view = view[n:]
        return len(data)

    def _next(self) -> None:
        if self._file:
            self._file.close()
        if len(self.paths) == 1000:
            raise BundleError("over 1000 parts: choose a larger part size")
        path = self.stem.with_name(f"{self.stem.name}.{len(self.paths):03d}")
        self.paths.append(path)
        self._file, self._left = open(path, "wb"), self.size

    def close(self) -> None:
        if self._file:
            self._file.close()
            self._file = None
        super().close()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


def split(folder: Path, part_mb: float) -> list[Path]:
    """Write ``folder`` as a tar cut into parts of at most ``part_mb`` MiB beside it, in
    ``<folder>.parts/``, with a ``SHA256SUMS`` file; returns the parts in order."""
    size = int(part_mb * MIB)
    if size < 1:
        raise BundleError(f"part size {part_mb} MiB is too small")
    parts_dir = folder.with_name(folder.name + ".parts")
    shutil.rmtree(parts_dir, ignore_errors=True)
    parts_dir.mkdir(parents=True)
    stream = _Parts(parts_dir / f"{folder.name}.tar", size)
    with tarfile.open(fileobj=stream, mode="w|") as tar:
        tar.add(folder, arcname=folder.name)
    stream.close()
    sums = "".join(f"{sha256(p)}  {p.name}\n" for p in stream.paths)
    (parts_dir / "SHA256SUMS").write_text(sums)
    return stream.paths


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def build(
    out: str | Path,
    *,
    pins: Sequence[str],
    data: Sequence[str | Path] = (),
    python_version: str | None = None,
    platforms: Sequence[str] | None = None,
    drop: Sequence[str] = DROP,
    max_mb: float = 0,
    part_mb: float = 0,
    pip_options: Sequence[str] = (),
    excluded: Sequence[str] = (),
) -> dict:
    """Fill ``out`` with the wheels of ``pins`` and a copy of each ``data`` folder.

    ``drop``: file prefixes removed from every wheel that has them. ``max_mb``: fail if the
    bundle exceeds it (0: no limit). ``part_mb``: also write it as tar parts of at most that
    size (0: no parts). Returns the contents of ``bundle.json``.
    """
    out = Path(out)
    python_version = python_version or this_python()
    platforms = list(platforms or default_platforms())
    folders = [Path(d) for d in data]
    for d in folders:
        if not d.is_dir():
            raise BundleError(f"data folder {d} does not exist")
    names = [d.resolve().name for d in folders]
    if len(set(names)) < len(names):
        raise BundleError(f"data folders need distinct names, got {', '.join(names)}")
    if not pins:
        raise BundleError("no packages to bundle")

    shutil.rmtree(out, ignore_errors=True)
    wheels = out / "wheels"
    wheels.mkdir(parents=True)
    download_wheels(wheels, pins, python_version, platforms, pip_options)
    dropped = {}
    for prefix in drop:
        for wheel in sorted(wheels.glob("*.whl")):
            saved = strip_wheel(wheel, prefix)
            if saved:
                dropped[f"{wheel.name}:{prefix}"] = saved
    for d, name in zip(folders, names, strict=True):
        shutil.copytree(d, out / "data" / name)
    (out / "requirements.txt").write_text("".join(f"{p}\n" for p in pins))

    manifest = {
        "python_version": python_version,
        "platforms": platforms,
        "pins": list(pins),
        "excluded": list(excluded),
        "wheels": sorted(p.name for p in wheels.glob("*.whl")),
        "dropped_bytes": dropped,
        "data": names,
    }
    size = folder_bytes(out)
    manifest["mib"] = round(size / MIB, 1)
    (out / "bundle.json").write_text(json.dumps(manifest, indent=2) + "\n")
    if max_mb and size > max_mb * MIB:
        raise BundleError(
            f"{out} holds {size / MIB:.1f} MiB, over --max-mb {max_mb:g} (leave packages the"
            " node has out with --exclude)"
        )
    if part_mb:
        parts = split(out, part_mb)
        manifest["parts"] = [str(p) for p in parts]
    return manifest
