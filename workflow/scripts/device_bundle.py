"""Prepare .device/ for measuring on a GPU machine that reaches no package index: wheels of the
packages it lacks (Ray without its Java archive, hpbandster, seqeval, jsonschema, ...) for its
Python, at the versions installed here, and the GermEval dev and test files for the benchmark.
Then run workflow/scripts/device_check.sh there (README, Performance: "Measuring on a GPU").

    python workflow/scripts/device_bundle.py --data ../shared/data/germeval2014
"""

from nerhpo import cli


def main(args):
    import json
    import subprocess

    from nerhpo.device_bundle import build

    try:
        summary = build(args.out, args.data, args.python_version)
    except (FileNotFoundError, RuntimeError, subprocess.CalledProcessError) as err:
        raise cli.UserError(str(err)) from None
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    p = cli.parser(__doc__.split("\n\n")[0])
    p.add_argument("--data", default="../shared/data/germeval2014", help="GermEval 2014 folder")
    p.add_argument("--out", default=".device", help="bundle folder (default: .device, ignored)")
    p.add_argument("--python-version", default="3.12", help="the GPU machine's Python (3.12)")
    cli.run(main, p.parse_args())
