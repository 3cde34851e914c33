"""Write the report: tables and figures into --out, and the README's generated sections.

Reads results/eval, results/hpo, results/baseline (and results/pretrained/pretrain.json if
present), and the findings and corpus stages' markdown. Only the text between the README's
<!-- BEGIN name --> / <!-- END name --> markers changes; the same results give byte-identical
output.
"""

from nerhpo.core import cli
from nerhpo.core.config import load_params


def stage_markdown(path, stage: str) -> str:
    """Another stage's markdown file; one line naming it and its stage when it is missing."""
    from pathlib import Path

    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise cli.UserError(f"{path}: file not found (run the {stage} stage first)") from None


def findings_section(path):
    """The findings stage's markdown for the README's findings markers (its own heading dropped)."""
    if not path:
        return {}
    lines = stage_markdown(path, "findings").splitlines()
    if lines and lines[0].startswith("## "):
        lines = lines[1:]
    return {"findings": "\n".join(lines).strip() + "\n"}


def corpus_section(path):
    """The corpus report stage's markdown for the README's corpus markers."""
    return {"corpus": stage_markdown(path, "corpus_report")} if path else {}


def main(args):
    from nerhpo.analysis import report

    params = load_params(args.params)
    hpo = params["hpo"]
    if hpo["gpus_per_trial"] > 0:
        resources, resource = hpo["gpus_per_trial"] * hpo["concurrency"], "GPU"
    else:
        resources, resource = hpo["cpus_per_trial"] * hpo["concurrency"], "CPU"
    try:
        data = report.collect(
            args.results,
            hpo["families"],
            hpo["train_variants"],
            hpo["algorithms"],
            params["variants"]["names"],
            params["baseline"]["batch_sizes"],
        )
        report.write_report(
            data,
            args.out,
            args.readme,
            corpus=report.describe_corpus(params),
            model=report.describe_model(params),
            params_digest=report.params_hash(args.params),
            resources_per_study=float(resources),
            resource=resource,
            extra_sections={
                **findings_section(args.findings),
                **corpus_section(args.corpus_report),
            },
        )
    except report.ReportError as err:
        raise cli.UserError(str(err)) from None
    if args.journal:
        from nerhpo.analysis.optuna_export import ExportError, export_journal

        try:
            names = export_journal(args.results, hpo["search_space"], args.journal)
        except ExportError as err:
            raise cli.UserError(str(err)) from None
        print(f"{len(names)} studies in {args.journal} (optuna-dashboard {args.journal})")


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--results", default="results", help="results directory (default: results)")
    p.add_argument("--readme", default="README.md", help="README to update (default: README.md)")
    p.add_argument(
        "--out", default="results/report", help="tables and figures (default: %(default)s)"
    )
    p.add_argument("--findings", help="findings markdown for the README's findings section")
    p.add_argument("--corpus-report", help="corpus markdown for the README's corpus section")
    p.add_argument("--journal", help="write every study into this Optuna journal file")
    cli.run(main, p.parse_args())
