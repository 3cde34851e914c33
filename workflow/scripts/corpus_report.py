"""Describe the corpus as the encoder sees it: results/corpus/ (corpus.json, corpus.md, lengths.png).

Per split the sentences, tokens, entities per type, sentence lengths in words and subwords (the
share cut at model.max_length), casing shares, and the entities of dev and test unseen in train;
warnings for types that train lacks and for tag families that map types the corpus lacks.
"""

from pathlib import Path

from nerhpo.core import cli
from nerhpo.core.config import load_params
from nerhpo.core.layout import CORPUS_DIR, CORPUS_REPORT_DIR, PRETRAINED_DIR, SPLITS, model_source


def main(args):
    from nerhpo.analysis.corpus_report import write_corpus_report
    from nerhpo.data.corpus import read_corpus
    from nerhpo.training.model import load_tokenizer

    params = load_params(args.params)
    splits = {s: read_corpus(Path(args.corpus) / f"{s}.tsv") for s in SPLITS}
    tokenizer = load_tokenizer(model_source(params, args.model))
    report = write_corpus_report(
        splits, tokenizer, params["model"]["max_length"], params["tag_families"], args.out
    )
    for split in SPLITS:
        s = report["splits"][split]
        print(
            f"{split}: {s['sentences']} sentences, {s['tokens']} tokens, "
            f"{sum(s['entities'].values())} entities, {s['cut_at_max_length']:.2%} cut"
        )


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--corpus", default=CORPUS_DIR, help="folder of train/dev/test.tsv")
    p.add_argument("--model", default=PRETRAINED_DIR, help="the pretrain stage's output folder")
    p.add_argument("--out", default=CORPUS_REPORT_DIR, help="output folder (default: %(default)s)")
    cli.run(main, p.parse_args())
