"""Build a bundle for a GPU node without internet: wheels of nerhpo's dependencies for the
node's Python and platform, at the versions installed here, and copies of the data folders.
Carry it to the node beside the code and run workflow/scripts/gpu_check.sh there
(docs/offline-gpu.md).

    python workflow/scripts/offline_bundle.py --data /path/to/germeval2014 --part-mb 500
"""

import argparse

from nerhpo.core import cli
from nerhpo.measure.offline_bundle import DROP, EXCLUDE


def csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def main(args):
    import json
    import subprocess

    from nerhpo.measure.offline_bundle import (
        BundleError,
        build,
        closure,
        default_platforms,
        project_requirements,
        this_python,
    )

    python_version = args.python_version or this_python()
    exclude = csv(args.exclude)
    pip_options = [a for url in args.find_links for a in ("--find-links", url)]
    if args.index_url:
        pip_options += ["--index-url", args.index_url]
    if args.no_index:
        pip_options.append("--no-index")
    try:
        roots = csv(args.packages) if args.packages is not None else project_requirements()
        found = closure(roots, exclude, python_version, deps=not args.no_deps)
        pins = [f"{name}=={version}" for name, version in found.items()]
        summary = build(
            args.out,
            pins=pins,
            data=args.data,
            python_version=python_version,
            platforms=args.platform or default_platforms(),
            drop=csv(args.drop),
            max_mb=args.max_mb,
            part_mb=args.part_mb,
            pip_options=pip_options,
            excluded=exclude,
        )
    except BundleError as err:
        raise cli.UserError(str(err)) from None
    except subprocess.CalledProcessError as err:
        raise cli.UserError(f"pip failed (exit status {err.returncode}), see above") from None
    print(json.dumps(summary, indent=2))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--out", default=".offline-bundle", help="bundle folder (default: %(default)s)")
    p.add_argument(
        "--data",
        action="append",
        default=[],
        metavar="DIR",
        help="a data folder to carry (repeatable), copied to data/<its name>/; the benchmark "
        "needs one with NER-de-test.tsv and NER-de-dev.tsv",
    )
    p.add_argument(
        "--packages",
        help="comma-separated requirements to bundle, e.g. 'ray[tune],seqeval' (default: "
        "nerhpo's own run-time requirements), pinned to the versions installed here",
    )
    p.add_argument(
        "--exclude",
        default=",".join(EXCLUDE),
        help="comma-separated packages the node has or does not need, left out with the "
        "dependencies only they bring in (default: %(default)s)",
    )
    p.add_argument(
        "--no-deps", action="store_true", help="bundle only --packages, not their dependencies"
    )
    p.add_argument(
        "--python-version", help="the node's Python as major.minor (default: this Python's)"
    )
    p.add_argument(
        "--platform",
        action="append",
        metavar="TAG",
        help="a wheel platform tag the node accepts (repeatable; default: the manylinux tags of "
        "this machine's architecture, e.g. manylinux_2_28_x86_64 ... manylinux1_x86_64)",
    )
    p.add_argument(
        "--drop",
        default=",".join(DROP),
        help="comma-separated file prefixes removed from the wheels that have them (default: "
        "%(default)s, Ray's Java archive); '' keeps every file",
    )
    p.add_argument(
        "--max-mb",
        type=float,
        default=0,
        help="fail if the bundle exceeds this many MiB (default 0: no limit)",
    )
    p.add_argument(
        "--part-mb",
        type=float,
        default=0,
        help="also write the bundle as a tar cut into parts of at most this many MiB, in "
        "<out>.parts/ with SHA256SUMS (default 0: no parts)",
    )
    p.add_argument("--index-url", help="package index to download from (pip's --index-url)")
    p.add_argument(
        "--find-links",
        action="append",
        default=[],
        metavar="DIR_OR_URL",
        help="also look for wheels and sources there (repeatable; pip's --find-links)",
    )
    p.add_argument(
        "--no-index", action="store_true", help="use only --find-links, no package index"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


if __name__ == "__main__":
    cli.run(main, build_parser().parse_args())
