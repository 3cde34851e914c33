"""Re-train the best configuration of every repeat of one compared study series with
hpo.retrain_seeds training seeds (params seed + 1000 + j), and score each on dev and test.

Each re-training runs hpo.max_epochs epochs with the HPO schedule and keeps the epoch with the
best dev F1 (chosen on dev); its test F1 is only reported. The study's own exported model is
scored too. Writes results/retrain/{family}/{variant}/{algorithm}.json.
"""

from nerhpo.core import cli
from nerhpo.core.config import load_params
from nerhpo.training.encoding import TrialConfig


def main(args):
    import torch

    from nerhpo.core.atomic import atomic_write_json
    from nerhpo.core.layout import model_source
    from nerhpo.data.tags import family_labels
    from nerhpo.search.repeats import retrain_seed, study_dir
    from nerhpo.training.retrain import retrain_study

    if args.threads < 1:
        raise cli.UserError(f"--threads must be at least 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    params = load_params(args.params)
    hpo = params["hpo"]
    data_dir = args.data
    seeds = [retrain_seed(params["seed"], j) for j in range(int(hpo["retrain_seeds"]))]
    studies = []
    for k in range(int(hpo["repeats"])):
        directory = study_dir(params, args.family, args.variant, args.algorithm, k, args.results)
        if not (directory / "best.json").is_file():
            raise cli.UserError(f"missing input file {directory / 'best.json'}")
        result = retrain_study(
            directory,
            data_dir,
            model_source(params),
            family_labels(data_dir),
            seeds,
            int(hpo["max_epochs"]),
            params["model"]["max_length"],
            params["train"].get("batch_order", TrialConfig.batch_order),
        )
        studies.append({"repeat": k, **result})
    atomic_write_json(
        args.out,
        {
            "family": args.family,
            "variant": args.variant,
            "algorithm": args.algorithm,
            "seeds": seeds,
            "studies": studies,
        },
    )


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--family", required=True, help="tag family, e.g. simple")
    p.add_argument("--variant", required=True, help="training variant, e.g. uncased-cased-mix")
    p.add_argument("--algorithm", required=True, help="the compared algorithm, e.g. asha")
    p.add_argument("--data", required=True, help="the training variant's folder of split files")
    p.add_argument(
        "--results", default="results", help="results root of the studies (default: results)"
    )
    p.add_argument("--out", required=True, help="output JSON (results/retrain/...)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    cli.run(main, p.parse_args())
