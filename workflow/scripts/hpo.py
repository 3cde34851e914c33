"""Run (or resume) one HPO study: a tag family x training variant x algorithm, through Ray Tune.

Reads --data (train.tsv, dev.tsv, test.tsv of one casing variant); writes into --out:
trials.csv, best.json, summary.json, model/ (best checkpoint, tokenizer, label map), tune/ (the
Ray Tune state for resuming) and study.fingerprint (what that state is valid for).
"""

from nerhpo.core import cli
from nerhpo.core.config import load_params
from nerhpo.core.layout import model_source
from nerhpo.search.study import make_study


def main(args):
    from nerhpo.search.runner import run_study
    from nerhpo.search.study import ALGORITHMS, StudyFailed

    params = load_params(args.params)
    if args.algorithm not in ALGORITHMS:
        raise cli.UserError(f"--algorithm {args.algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    model_dir = args.model or model_source(params)
    study = make_study(
        params, args.family, args.variant, args.algorithm, args.data, model_dir, args.out
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
    p.add_argument("--data", required=True, help="the training variant's folder of split files")
    p.add_argument("--out", required=True, help="the study's folder")
    p.add_argument("--model", help="encoder directory (default: from params / results/pretrained)")
    cli.run(main, p.parse_args())
