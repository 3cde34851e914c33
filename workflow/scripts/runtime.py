"""Where a pipeline run's time went: per stage, its jobs' seconds (Snakemake's benchmark files
in logs/benchmarks/) against the training and evaluation measured inside them, the share that
is neither (Python start-up, imports, Ray, writing results), and the run's wall time.

    python workflow/scripts/runtime.py            # after `snakemake --cores 2`, in the project
    python workflow/scripts/runtime.py --json     # the same as JSON
"""

from nerhpo.core import cli


def main(args):
    import json

    from nerhpo.analysis.runtime import markdown, runtime

    try:
        rt = runtime(args.root)
    except FileNotFoundError as err:
        raise cli.UserError(str(err)) from None
    if args.json:
        stages = json.loads(rt.stages.round(3).to_json(orient="records"))  # NaN: null
        print(json.dumps({"stages": stages, "total": rt.total()}, indent=2))
    else:
        print(markdown(rt), end="")


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--root", default=".", help="the project folder of the run (default: here)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    cli.run(main, p.parse_args())
