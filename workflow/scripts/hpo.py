"""Run (or resume) one HPO study: a tag family x training variant x algorithm, through Ray Tune.

Writes results/hpo/{family}/{variant}/{algorithm}/: trials.csv, best.json, summary.json,
model/ (best checkpoint, tokenizer, label map) and tune/ (the Ray Tune state for resuming).
"""

from nerhpo import cli
from nerhpo.config import load_params
from nerhpo.stages import make_study, model_source


def main(args):
    from nerhpo.hpo import ALGORITHMS, StudyFailed, run_study

    params = load_params(args.params)
    if args.algorithm not in ALGORITHMS:
        raise cli.UserError(f"--algorithm {args.algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    data_dir = f"data/variants/{args.family}/{args.variant}"
    out_dir = f"results/hpo/{args.family}/{args.variant}/{args.algorithm}"
    model_dir = args.model or model_source(params)
    study = make_study(
        params, args.family, args.variant, args.algorithm, data_dir, model_dir, out_dir
    )
    try:
        run_study(study)
    except StudyFailed as err:
        raise cli.UserError(str(err)) from None


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--family", required=True, help="tag family, e.g. original")
    p.add_argument("--variant", required=True, help="training variant, e.g. uncased-cased-mix")
    p.add_argument("--algorithm", required=True, help="asha, bohb, pbt, random, grid, tpe or gp")
    p.add_argument("--model", help="encoder directory (default: from params / results/pretrained)")
    cli.run(main, p.parse_args())
