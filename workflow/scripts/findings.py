"""Write the findings: which HPO algorithm wins on dev F1 (with its spread), which
hyperparameters matter (fANOVA), which best values sit at a search-space border, and how
learning rate interacts with batch size and warm-up.

Also the casing robustness of the best models (F1 on every casing variant per training
variant, the drops, the price of robustness, per entity type, beside the literature), the fair
comparison of the algorithms (hpo.compare: repeated studies with other HPO seeds, their best
configurations re-trained with other training seeds; results/repeats, results/retrain) and, if
sprint.enabled, the progressive-fidelity sprint (results/sprint); the seed spread of the casing
robustness (results/casing_seeds), the cased-trained models on truecased text and the entities
they miss on lowercased text (results/eval, results/errors) and, if objectives.enabled, the robustness-aware objective
against the main studies' (results/objective).

Reads results/hpo, results/eval (every best model on every casing variant; a missing file is an
error naming it), results/repeats, results/retrain and results/sprint; writes findings.md,
importance.csv, border.json, comparison.json, casing.json, sprint.json and objective.json (if
enabled) and the
figures (casing.png among them) into --out. The same results give byte-identical output.
"""

from nerhpo.core import cli
from nerhpo.core.config import load_params


def main(args):
    from pathlib import Path

    from nerhpo.analysis import (
        casing,
        casing_seeds,
        compare,
        errors,
        findings,
        objective,
        sprint,
        truecase_rows,
    )
    from nerhpo.core.atomic import atomic_write_json, atomic_write_text

    params = load_params(args.params)
    hpo = params["hpo"]
    space = hpo["search_space"]
    seed = int(params.get("seed", 0))
    margin = getattr(args, "margin", 0.1)
    studies = (hpo["families"], hpo["train_variants"], hpo["algorithms"])
    try:
        trials = findings.load_trials(args.results, *studies)
        best = findings.load_best(args.results, *studies)
        test_scores = findings.load_test_scores(args.results, best)
        repeats = compare.load_repeats(params, args.results, retrain=hpo["retrain_seeds"] > 0)
        evals = casing.load_evals(args.results, *studies)
        seed_noise = casing.load_seed_noise(args.results, params)
        sprint_data = (
            sprint.load_sprint(params, args.results) if params["sprint"]["enabled"] else None
        )
        seeds_data = casing_seeds.load(args.results, params)
        cased_trained = "cased" in hpo["train_variants"]
        truecased = (
            truecase_rows.load_truecase_rows(
                args.results, hpo["families"], hpo["algorithms"], findings.FindingsError
            )
            if cased_trained
            else []
        )
        missed = errors.errors_summary(args.results, params, error=findings.FindingsError)
        objective_data = (
            objective.load(args.results, params) if params["objectives"]["enabled"] else []
        )
    except (
        findings.FindingsError,
        compare.CompareError,
        casing.CasingError,
        objective.ObjectiveError,
        casing_seeds.CasingSeedsError,
    ) as err:
        raise cli.UserError(str(err)) from None
    out = Path(args.out)
    comparison = compare.to_json(repeats)
    robustness = casing.compute(evals, seed_noise)
    objective_rows = objective.compute(objective_data)
    seed_rows = casing_seeds.compute(seeds_data)
    casing.write_figure(robustness, out)
    compare.write_figures(repeats, out)
    seed_std = comparison["verdict"].get("seed_std")
    sprint_text = None
    if sprint_data is not None:
        atomic_write_json(out / "sprint.json", compare.json_ready(sprint_data))
        sprint_text = sprint.markdown(
            params, sprint_data, seed_std if seed_std is not None else float("nan")
        )
    importances = findings.importance(trials, space, seed=seed)
    flags = findings.border_check(best, space, margin=margin)
    pats = findings.patterns(trials)
    text = findings.findings_markdown(
        trials,
        best,
        importances,
        flags,
        pats,
        test_scores=test_scores,
        margin=margin,
        seed=seed,
        comparison=compare.markdown(params, repeats, figure="results/findings/compare_anytime.png")
        + "\n\n![re-trained winners](results/findings/compare_retrain.png)",
        casing="\n\n".join(
            part
            for part in (
                casing.markdown(robustness, figure="results/findings/casing.png"),
                casing_seeds.markdown(seed_rows),
                "#### Truecasing the lowercased text first\n\n"
                + truecase_rows.truecase_markdown(truecased)
                if truecased
                else "",
                "#### What the cased-trained models miss on lowercased text\n\n"
                + errors.errors_markdown(missed)
                if missed
                else "",
                objective.markdown(objective_rows, float(seed_noise["std"])),
            )
            if part
        ),
        sprint=sprint_text,
    )
    atomic_write_json(out / "comparison.json", comparison)
    atomic_write_json(out / "casing.json", casing.to_json(robustness))
    if missed:
        atomic_write_json(out / "errors.json", compare.json_ready(missed))
    if truecased:
        atomic_write_json(out / "truecase.json", compare.json_ready({"rows": truecased}))
    if seed_rows:
        atomic_write_json(
            out / "casing_seeds.json", compare.json_ready(casing_seeds.to_json(seed_rows))
        )
    if objective_rows:
        atomic_write_json(
            out / "objective.json", compare.json_ready(objective.to_json(objective_rows))
        )
    atomic_write_text(out / "importance.csv", importances.to_csv(index=False, float_format="%.6g"))
    atomic_write_json(out / "border.json", {"margin": margin, "flags": flags})
    findings.write_figures(importances, pats, out)
    atomic_write_text(out / "findings.md", text)  # last: its presence means the rest is there


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--results", default="results", help="results directory (default: results)")
    p.add_argument(
        "--out", default="results/findings", help="output directory (default: %(default)s)"
    )
    p.add_argument(
        "--margin",
        type=float,
        default=0.1,
        help="flag best values within this share of a range bound (default: %(default)s)",
    )
    cli.run(main, p.parse_args())
