"""Train the WordPiece tokenizer and MLM-pretrain the small scratch encoder (results/pretrained/).

With model.name_or_path set to a local directory or cached hub name, only check that it loads.
"""

from nerhpo.core import cli
from nerhpo.core.config import load_params
from nerhpo.core.layout import CORPUS_FILE, PRETRAINED_DIR
from nerhpo.training.pretraining import run_pretrain


def main(args):
    run_pretrain(load_params(args.params), args.corpus_train, args.out, args.threads)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument(
        "--corpus-train", default=CORPUS_FILE.format(split="train"), help="training text"
    )
    p.add_argument("--out", default=PRETRAINED_DIR, help="output folder")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    cli.run(main, p.parse_args())
