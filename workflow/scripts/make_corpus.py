"""Write data/corpus/{train,dev,test}.tsv from the demo generator or the user's files."""

from nerhpo.core import cli
from nerhpo.core.config import load_params
from nerhpo.core.layout import CORPUS_DIR
from nerhpo.data.build import build_corpus


def main(args):
    params = load_params(args.params)
    build_corpus(params["corpus"], params["seed"], args.out)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--out", default=CORPUS_DIR, help="output folder (default: %(default)s)")
    cli.run(main, p.parse_args())
