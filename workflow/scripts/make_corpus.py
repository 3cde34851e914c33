"""Write data/corpus/{train,dev,test}.tsv from the demo generator or the user's files."""

from nerhpo import cli
from nerhpo.config import load_params
from nerhpo.data_stages import build_corpus
from nerhpo.layout import CORPUS_DIR


def main(args):
    params = load_params(args.params)
    build_corpus(params["corpus"], params["seed"], args.out)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--out", default=CORPUS_DIR, help="output folder (default: %(default)s)")
    cli.run(main, p.parse_args())
