"""Copy one study's best model out of results/ for use elsewhere, with a complete model card.

The copy holds the weights, tokenizer, label map and a README.md (corpus, tag family, training
variant, algorithm, hyperparameters, and dev and test F1 on every casing variant from the
evaluation stage); it loads with plain transformers (AutoModelForTokenClassification,
AutoTokenizer, pipeline("token-classification")). Example:

    python workflow/scripts/export_model.py --family simple --variant uncased-cased-mix \\
        --algorithm asha --out exported/simple-mix-asha
"""

import shutil
from pathlib import Path

from nerhpo.core import cli, layout
from nerhpo.core.result_files import read_json


def main(args):
    from nerhpo.core.atomic import atomic_directory
    from nerhpo.training.model_card import CARD, add_scores, write_model_card

    study = {"family": args.family, "variant": args.variant, "algorithm": args.algorithm}
    model = Path(args.model or layout.path(layout.STUDY_MODEL_DIR, **study))
    scores = Path(args.eval or layout.path(layout.EVAL_FILE, **study))
    out = Path(args.out)
    if not model.is_dir():
        raise cli.UserError(f"{model}: model directory not found (run the HPO stage first)")
    result = read_json(scores, cli.UserError)
    if out.exists() and any(out.iterdir()):
        raise cli.UserError(f"{out}: exists and is not empty; choose another --out")
    with atomic_directory(out) as tmp:
        for path in model.iterdir():
            shutil.copy2(path, tmp / path.name)
        if not (tmp / CARD).exists():  # a model exported before studies wrote their card
            best = read_json(model.parent / "best.json", cli.UserError)
            write_model_card(tmp, best, read_json(model / "labels.json", cli.UserError))
        add_scores(tmp, result)
    print(f"{out}: {model} with the scores of {scores}")


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--family", required=True, help="tag family of the study")
    p.add_argument("--variant", required=True, help="training variant of the study")
    p.add_argument("--algorithm", required=True, help="HPO algorithm of the study")
    p.add_argument("--model", help="the study's model folder (default: from the layout)")
    p.add_argument("--eval", help="the study's evaluation JSON (default: from the layout)")
    p.add_argument("--out", required=True, help="folder to create for the copy")
    cli.run(main, p.parse_args())
