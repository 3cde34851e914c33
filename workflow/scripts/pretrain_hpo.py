"""Run (or resume) the pretraining study: HPO of the scratch encoder's masked-LM pretraining.

Each trial pretrains the scratch encoder (model.scratch's size) with its sampled pretraining
hyperparameters (pretrain_hpo.search_space) and is scored after every pretraining epoch on two
objectives: the MLM loss on held-out training text (proxy) and dev F1 of a short fine-tune with
the train defaults on the probe's variant (pretrain_hpo.probe: its folder under
--data-root, or --data) (downstream). pretrain_hpo.objective says which the scheduler
optimises. Writes into --out: trials.csv (both objectives per trial and epoch), best.json,
summary.json, encoder/ (the best encoder, as results/pretrained/ holds one), findings/
(pretraining.md, .json, .png: proxy vs downstream, cost, importance), tune/ (the Ray Tune state
for resuming) and study.fingerprint (what that state is valid for).
"""

from nerhpo.core import cli
from nerhpo.core.config import load_params
from nerhpo.core.layout import CORPUS_FILE, PRETRAIN_HPO_DIR, VARIANTS_ROOT


def main(args):
    import os
    from pathlib import Path

    from nerhpo.analysis.pretraining import write_pretraining_findings
    from nerhpo.search.pretrain_study import make_pretrain_study, run_pretrain_study
    from nerhpo.search.study import StudyFailed

    params = load_params(args.params)
    if "pretrain_hpo" not in params:
        raise cli.UserError(f"{args.params}: no pretrain_hpo block (see docs/configuration.md)")
    if params["model"]["name_or_path"] != "scratch":
        raise cli.UserError(
            "model.name_or_path: the pretraining study tunes the scratch encoder's pretraining; "
            f"it is {params['model']['name_or_path']!r}"
        )
    probe = params["pretrain_hpo"]["probe"]
    data = args.data or Path(args.data_root) / probe["family"] / probe["variant"]
    study = make_pretrain_study(params, args.corpus_train, data, args.out)
    try:
        run_pretrain_study(study)
    except StudyFailed as err:
        raise cli.UserError(str(err)) from None
    out = Path(args.out)
    finetune = None
    if params["pretrain_hpo"]["finetune"]["enabled"]:
        finetune = finetune_on_best_encoder(params, data, out, args.results)
    result = write_pretraining_findings(
        out / "trials.csv", out / "findings", params["seed"], finetune
    )
    if args.readme:
        from nerhpo.analysis.pretraining import markdown
        from nerhpo.analysis.report import ReportError, update_readme

        figure = Path(
            os.path.relpath(out / "findings" / "pretraining.png", Path(args.readme).parent)
        )
        text = markdown(result, heading="", figure=figure.as_posix())
        try:
            update_readme(args.readme, {"pretraining": text})
        except ReportError as err:
            raise cli.UserError(str(err)) from None


def finetune_on_best_encoder(params: dict, data, out, results) -> dict:
    """Fine-tuning HPO (the main studies' budget) on the best encoder the study found, beside
    the main study of the same family, variant and algorithm on the default encoder."""
    import json
    from pathlib import Path

    from nerhpo.analysis.pretraining import finetune_comparison
    from nerhpo.core import layout
    from nerhpo.search.runner import run_study
    from nerhpo.search.study import StudyFailed, make_study

    probe = params["pretrain_hpo"]["probe"]
    algorithm = params["pretrain_hpo"]["finetune"]["algorithm"]
    study = make_study(
        params,
        probe["family"],
        probe["variant"],
        algorithm,
        data,
        out / "encoder",
        out / "finetune",
    )
    try:
        run_study(study)
    except StudyFailed as err:
        raise cli.UserError(str(err)) from None
    tuned = json.loads((out / "finetune" / "best.json").read_text(encoding="utf-8"))
    encoder = json.loads((out / "best.json").read_text(encoding="utf-8"))
    fields = {"family": probe["family"], "variant": probe["variant"], "algorithm": algorithm}
    main = layout.under(results, layout.STUDY_DIR, **fields) / "best.json"
    default = json.loads(main.read_text(encoding="utf-8")) if Path(main).is_file() else None
    return finetune_comparison(default, tuned, encoder)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument(
        "--corpus-train", default=CORPUS_FILE.format(split="train"), help="pretraining text"
    )
    p.add_argument(
        "--data-root",
        default=VARIANTS_ROOT,
        help="the variants' folder; the probe's is {root}/{probe.family}/{probe.variant}",
    )
    p.add_argument("--data", help="the probe's variant folder instead (train.tsv, dev.tsv)")
    p.add_argument("--out", default=PRETRAIN_HPO_DIR, help="the study's folder")
    p.add_argument(
        "--results",
        default="results",
        help="results root of the main studies (the fine-tuning comparison's; default: results)",
    )
    p.add_argument(
        "--readme", help="a README whose 'pretraining' section (between markers) gets the findings"
    )
    cli.run(main, p.parse_args())
