"""Measure one HPO job per algorithm at a chosen scale and project the cost of all HPO jobs.

Runs the pipeline's own stage scripts, one process each, in a work folder: a demo corpus of the
chosen size, one casing variant, the scratch encoder at the chosen size (pretrained for a few
epochs), then one HPO study per algorithm. Prints a table and writes a JSON report: each job's
seconds, training and evaluation inside it, GPU-seconds, and the projection for all tag
families x training variants of params.yaml. A killed run resumes where it stopped.

    # the GPU figure: GermEval size, BERT-base, 20 trials, 4 trials packed on one GPU
    python workflow/scripts/study_cost.py --work .tmp/study-cost --out study_cost.json
    # a CPU smoke run
    python workflow/scripts/study_cost.py --work /tmp/sc --out /tmp/sc.json --size micro \\
        --train-sentences 200 --dev-sentences 50 --trials 2 --max-epochs 1 --gpus-per-trial 0
"""

from pathlib import Path

from nerhpo.core import cli

SCRIPTS = Path(__file__).resolve().parent


def main(args):
    from nerhpo.core.atomic import atomic_write_json
    from nerhpo.core.config import load_params
    from nerhpo.measure.study_cost import Scale, StepFailed, markdown, measure

    params = load_params(args.params)
    scale = Scale(
        train_sentences=args.train_sentences,
        dev_sentences=args.dev_sentences,
        size=args.size,
        trials=args.trials,
        max_epochs=args.max_epochs,
        pretrain_epochs=args.pretrain_epochs,
        concurrency=args.concurrency,
        cpus_per_trial=args.cpus_per_trial,
        gpus_per_trial=args.gpus_per_trial,
    )
    algorithms = [a for a in args.algorithms.split(",") if a]
    try:
        report = measure(
            params,
            scale,
            args.work,
            SCRIPTS,
            args.family,
            args.variant,
            algorithms,
            args.timeout,
            args.threads,
        )
    except (StepFailed, ValueError) as err:
        raise cli.UserError(str(err)) from None
    atomic_write_json(args.out, report)
    print(markdown(report), end="")


if __name__ == "__main__":
    p = cli.parser(__doc__.split("\n\n")[0])
    p.add_argument("--work", required=True, help="work folder (kept: a rerun resumes there)")
    p.add_argument("--out", required=True, help="JSON report to write")
    p.add_argument("--family", default="original", help="tag family (default: original)")
    p.add_argument("--variant", default="cased", help="training variant (default: cased)")
    p.add_argument("--algorithms", default="asha,bohb,pbt", help="comma-separated algorithms")
    p.add_argument("--train-sentences", type=int, default=24000, help="default: GermEval's 24000")
    p.add_argument("--dev-sentences", type=int, default=2200, help="default: GermEval's 2200")
    p.add_argument("--size", default="base", help="encoder size: micro, tiny or base (BERT-base)")
    p.add_argument("--trials", type=int, default=20, help="trials per study (default 20)")
    p.add_argument("--max-epochs", type=int, help="epochs per trial (default: params)")
    p.add_argument("--pretrain-epochs", type=int, default=1, help="MLM epochs (default 1)")
    p.add_argument("--concurrency", type=int, default=4, help="trials at once (default 4)")
    p.add_argument("--cpus-per-trial", type=int, default=1, help="CPUs per trial (default 1)")
    p.add_argument(
        "--gpus-per-trial", type=float, default=0.25, help="GPU share per trial; 0 on a CPU"
    )
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads for pretraining")
    p.add_argument("--timeout", type=float, help="seconds one step may run (default: no limit)")
    cli.run(main, p.parse_args())
