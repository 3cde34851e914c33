"""Evaluate one HPO study's best model on dev and test of every casing variant (seqeval).

Reads results/hpo/{family}/{variant}/{algorithm}/model/ and data/variants/{family}/*/{dev,test}.tsv
(and, for a model trained on cased, data/variants/{family}/cased/train.tsv, which trains the
truecaser of the route uncased+truecase); writes results/eval/{family}/{variant}/{algorithm}.json
and the entities found on cased text but missed on uncased, results/errors/ (same names).
"""

from pathlib import Path

from nerhpo.core import cli, layout
from nerhpo.core.config import load_params


def main(args):
    params = load_params(args.params)
    variants = params["variants"]["names"]
    study = {"family": args.family, "variant": args.variant, "algorithm": args.algorithm}
    model_dir = Path(args.model or layout.path(layout.STUDY_MODEL_DIR, **study))
    out = Path(args.out or layout.path(layout.EVAL_FILE, **study))
    errors = Path(args.errors or layout.path(layout.ERRORS_FILE, **study))
    if not model_dir.is_dir():
        raise cli.UserError(f"{model_dir}: model directory not found (run the HPO stage first)")
    if args.threads is not None:
        if args.threads < 1:
            raise cli.UserError(f"--threads must be at least 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)

    from nerhpo.core.atomic import atomic_write_json
    from nerhpo.training.evaluate import evaluate_all

    evaluation = evaluate_all(
        model_dir,
        args.data_root,
        args.family,
        variants,
        params["model"]["max_length"],
        train_variant=args.variant,
        algorithm=args.algorithm,
    )
    atomic_write_json(errors, evaluation.errors)
    atomic_write_json(out, evaluation.result)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--family", required=True, help="tag family, e.g. original")
    p.add_argument("--variant", required=True, help="training variant, e.g. uncased-cased-mix")
    p.add_argument("--algorithm", required=True, help="HPO algorithm, e.g. asha")
    p.add_argument(
        "--model",
        help="model directory (default: results/hpo/{family}/{variant}/{algorithm}/model)",
    )
    p.add_argument(
        "--data-root",
        default=layout.VARIANTS_ROOT,
        help="folder with {family}/{variant}/{split}.tsv (default: data/variants)",
    )
    p.add_argument(
        "--out", help="output JSON (default: results/eval/{family}/{variant}/{algorithm}.json)"
    )
    p.add_argument(
        "--errors",
        help="output JSON of the casing errors "
        "(default: results/errors/{family}/{variant}/{algorithm}.json)",
    )
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    cli.run(main, p.parse_args())
