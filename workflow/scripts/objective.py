"""Run a main study again under a robustness-aware objective, then evaluate its best model.

The study of --family x --variant x --algorithm runs with hpo.objective replaced by --objective
(mean or worst: the mean or the minimum of the dev F1 over every variant in variants.names) at
the main studies' budget; its best model is then scored on dev and test of every casing variant,
in the same process while it is loaded. Writes into --out: trials.csv, best.json, summary.json,
model/, tune/ (for resuming), study.fingerprint and eval.json (last). With objectives.enabled
false it writes only disabled.json.
"""

from nerhpo.core import cli
from nerhpo.core.config import load_params


def main(args):
    from pathlib import Path

    from nerhpo.core.atomic import atomic_write_json
    from nerhpo.core.layout import model_source
    from nerhpo.search.study import OBJECTIVES, StudyFailed, make_study

    params = load_params(args.params)
    out = Path(args.out)
    if not params["objectives"]["enabled"]:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out / "disabled.json", {"enabled": False})
        return
    if args.objective not in OBJECTIVES:
        raise cli.UserError(f"--objective {args.objective!r} is not one of {', '.join(OBJECTIVES)}")
    if args.threads is not None and args.threads < 1:
        raise cli.UserError(f"--threads must be at least 1, got {args.threads}")
    data = Path(args.data_root) / args.family / args.variant
    study = make_study(
        params,
        args.family,
        args.variant,
        args.algorithm,
        data,
        args.model or model_source(params),
        out,
        hpo_overrides={"objective": args.objective},
    )
    from nerhpo.search.runner import run_study

    try:
        run_study(study)
    except StudyFailed as err:
        raise cli.UserError(str(err)) from None

    import torch

    from nerhpo.training.evaluate import evaluate_model

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    result = evaluate_model(
        out / "model",
        args.data_root,
        args.family,
        params["variants"]["names"],
        params["model"]["max_length"],
        train_variant=args.variant,
        algorithm=args.algorithm,
    )
    result["objective"] = args.objective
    atomic_write_json(out / "eval.json", result)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--family", required=True, help="tag family, e.g. original")
    p.add_argument("--variant", required=True, help="training variant, e.g. cased")
    p.add_argument("--algorithm", required=True, help="HPO algorithm, e.g. asha")
    p.add_argument("--objective", required=True, help="mean or worst")
    p.add_argument(
        "--data-root", default="data/variants", help="folder with {family}/{variant}/{split}.tsv"
    )
    p.add_argument("--model", help="encoder directory (default: from params / results/pretrained)")
    p.add_argument("--threads", type=int, help="torch CPU threads for the evaluation")
    p.add_argument("--out", required=True, help="the study's folder (results/objective/{variant})")
    cli.run(main, p.parse_args())
