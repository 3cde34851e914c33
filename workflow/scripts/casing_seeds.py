"""Re-train one training variant's best configuration with other training seeds and score each
model on dev and test of every casing variant (the seed spread of the casing robustness).

The configuration is the best of the main studies of --family x --variant over hpo.algorithms
(highest dev F1 in best.json; ties go to the earlier algorithm in hpo.algorithms). Each of
casing_seeds.seeds trainings (seed + 1000 + j) runs hpo.max_epochs epochs with the HPO schedule
and keeps the epoch with the best dev F1 on its own variant. Writes
results/casing_seeds/{family}/{variant}.json.
"""

from nerhpo.core import cli
from nerhpo.core.config import load_params


def main(args):
    import torch

    from nerhpo.core import layout
    from nerhpo.core.atomic import atomic_write_json
    from nerhpo.core.hparams import HPARAMS
    from nerhpo.core.result_files import ResultFileError, read_json
    from nerhpo.data.tags import family_labels
    from nerhpo.search.repeats import retrain_seed
    from nerhpo.training.encoding import TrialConfig
    from nerhpo.training.retrain import retrain_on_variants

    if args.threads < 1:
        raise cli.UserError(f"--threads must be at least 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    params = load_params(args.params)
    hpo = params["hpo"]
    candidates = []
    for rank, algorithm in enumerate(hpo["algorithms"]):
        study = {"family": args.family, "variant": args.variant, "algorithm": algorithm}
        path = layout.under(args.results, layout.STUDY_DIR, **study) / "best.json"
        try:
            best = read_json(path)
        except ResultFileError as err:
            raise cli.UserError(str(err)) from None
        candidates.append((-float(best["dev_f1"]), rank, algorithm, best))
    _, _, algorithm, best = min(candidates, key=lambda c: c[:2])
    config = {k: best["config"][k] for k in HPARAMS if k in best["config"]}
    seeds = [retrain_seed(params["seed"], j) for j in range(int(params["casing_seeds"]["seeds"]))]
    data_dir = f"{args.data_root}/{args.family}/{args.variant}"
    runs = retrain_on_variants(
        layout.model_source(params),
        args.data_root,
        args.family,
        args.variant,
        params["variants"]["names"],
        family_labels(data_dir),
        {**config, "batch_order": params["train"].get("batch_order", TrialConfig.batch_order)},
        seeds,
        int(hpo["max_epochs"]),
        params["model"]["max_length"],
    )
    atomic_write_json(
        args.out,
        {
            "family": args.family,
            "train_variant": args.variant,
            "algorithm": algorithm,  # whose best configuration this is
            "best_dev_f1": best["dev_f1"],
            "config": config,
            "epochs": int(hpo["max_epochs"]),
            "seeds": seeds,
            "runs": runs,
        },
    )


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--family", required=True, help="tag family, e.g. original")
    p.add_argument("--variant", required=True, help="training variant, e.g. cased")
    p.add_argument(
        "--data-root", default="data/variants", help="folder with {family}/{variant}/{split}.tsv"
    )
    p.add_argument(
        "--results", default="results", help="results root of the studies (default: results)"
    )
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--out", required=True, help="output JSON (results/casing_seeds/...)")
    cli.run(main, p.parse_args())
