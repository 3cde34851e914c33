"""Write one casing variant of one tag family: data/variants/{family}/{variant}/{split}.tsv."""

from nerhpo.core import cli
from nerhpo.core.config import load_params
from nerhpo.core.layout import CORPUS_DIR
from nerhpo.data.build import build_variant
from nerhpo.data.casing import VARIANTS


def main(args):
    params = load_params(args.params)
    if args.family not in params["tag_families"]:
        raise cli.UserError(
            f"--family {args.family!r} is not in tag_families ({', '.join(params['tag_families'])})"
        )
    if args.variant not in VARIANTS:
        raise cli.UserError(f"--variant {args.variant!r} is not one of {', '.join(VARIANTS)}")
    build_variant(
        args.corpus,
        params["tag_families"][args.family],
        args.variant,
        params["seed"],
        params["variants"]["mix_probability"],
        args.out,
    )


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--family", required=True, help="tag family (a key of tag_families)")
    p.add_argument("--variant", required=True, help="casing variant, e.g. uncased-cased-mix")
    p.add_argument("--corpus", default=CORPUS_DIR, help="corpus folder (default: %(default)s)")
    p.add_argument("--out", required=True, help="output folder for {train,dev,test}.tsv")
    cli.run(main, p.parse_args())
