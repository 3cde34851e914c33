"""Run the extra repeats of one compared HPO study series (family x variant x algorithm).

Repeat k uses HPO seed params seed + k; repeat 0 of an algorithm that is also a main study is
that main study (results/hpo/...) and is not run again. Every other repeat writes
results/repeats/{family}/{variant}/{algorithm}/r{k}/ (trials.csv, best.json, summary.json,
cost.json, model/, tune/ for resuming); repeats.json in the series folder is written last.
"""

from nerhpo.core import cli
from nerhpo.core.config import load_params


def main(args):
    from nerhpo.core.atomic import atomic_write_json
    from nerhpo.core.layout import model_source
    from nerhpo.search.repeats import run_repeats
    from nerhpo.search.study import ALGORITHMS, StudyFailed

    params = load_params(args.params)
    if args.algorithm not in ALGORITHMS:
        raise cli.UserError(f"--algorithm {args.algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    try:
        done = run_repeats(
            params,
            args.family,
            args.variant,
            args.algorithm,
            args.data,
            args.model or model_source(params),
            args.results,
        )
    except StudyFailed as err:
        raise cli.UserError(str(err)) from None
    atomic_write_json(args.out, done)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--family", required=True, help="tag family, e.g. simple")
    p.add_argument("--variant", required=True, help="training variant, e.g. uncased-cased-mix")
    p.add_argument("--algorithm", required=True, help="asha, bohb, pbt, random, grid, tpe or gp")
    p.add_argument("--data", required=True, help="the training variant's folder of split files")
    p.add_argument("--model", help="encoder directory (default: from params / results/pretrained)")
    p.add_argument(
        "--results", default="results", help="results root the repeats go under (default: results)"
    )
    p.add_argument("--out", required=True, help="summary JSON (results/repeats/.../repeats.json)")
    cli.run(main, p.parse_args())
