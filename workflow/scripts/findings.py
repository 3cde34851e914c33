"""Write the findings: which HPO algorithm wins on dev F1 (with its spread), which
hyperparameters matter (fANOVA), which best values sit at a search-space border, and how
learning rate interacts with batch size and warm-up.

Reads results/hpo (and results/eval for reporting test F1 of the chosen models); writes
findings.md, importance.csv, border.json and three figures into --out. The same results give
byte-identical output.
"""

from nerhpo import cli
from nerhpo.config import load_params


def main(args):
    from pathlib import Path

    from nerhpo import findings
    from nerhpo.atomic import atomic_write_json, atomic_write_text

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
    except findings.FindingsError as err:
        raise cli.UserError(str(err)) from None
    importances = findings.importance(trials, space, seed=seed)
    flags = findings.border_check(best, space, margin=margin)
    pats = findings.patterns(trials)
    out = Path(args.out)
    text = findings.findings_markdown(
        trials,
        best,
        importances,
        flags,
        pats,
        test_scores=test_scores,
        margin=margin,
        seed=seed,
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
