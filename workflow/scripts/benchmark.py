"""Benchmark training throughput: transformers.Trainer (seed settings and best settings) against
nerhpo's TrialTrainer, same randomly initialised BERT, same data, epochs and learning rate.

Prints one JSON line per run to stdout (tokens/s, padding share, peak GPU memory, share of
peak bf16 FLOP/s, dev F1), then a summary line; progress goes to stderr.
"""

import argparse
import json
import sys
from pathlib import Path

from nerhpo.core import cli
from nerhpo.measure.benchmark import RUNS, SIZES, BenchmarkOptions
from nerhpo.training.encoding import BATCH_ORDERS


def main(args):
    if not args.data:  # e.g. an unset benchmark.data
        raise cli.UserError(
            "--data is empty: give a folder with NER-de-test.tsv and NER-de-dev.tsv"
        )
    from nerhpo.measure.benchmark import run_benchmark

    runs = tuple(r.strip() for r in args.runs.split(",") if r.strip())
    unknown = sorted(set(runs) - set(RUNS))
    if unknown:
        raise cli.UserError(f"unknown run(s) {unknown}; expected some of {','.join(RUNS)}")
    opts = BenchmarkOptions(
        data=Path(args.data),
        train_file=args.train_file,
        dev_file=args.dev_file,
        max_sentences=args.max_sentences,
        size=args.size,
        hidden_size=args.hidden_size,
        num_layers=args.layers,
        num_heads=args.heads,
        intermediate_size=args.intermediate_size,
        vocab_size=args.vocab_size,
        epochs=args.epochs,
        lr=args.lr,
        batch_size=args.batch_size,
        max_length=args.max_length,
        runs=runs,
        threads=args.threads,
        seed=args.seed,
        compile=args.compile,
        packed=args.packed,
        device=args.device,
        init=Path(args.init) if args.init else None,
        batch_order=args.batch_order,
    )
    try:
        opts.model_size()
    except ValueError as err:
        raise cli.UserError(str(err)) from None
    run_benchmark(opts, emit=lambda line: print(json.dumps(line), flush=True))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data", required=True, help="directory with the GermEval 2014 TSV files")
    p.add_argument("--train-file", default="NER-de-test.tsv", help="training file in --data")
    p.add_argument("--dev-file", default="NER-de-dev.tsv", help="file in --data to score F1 on")
    p.add_argument(
        "--max-sentences", type=int, help="use only the first N training and dev sentences"
    )
    p.add_argument("--size", choices=sorted(SIZES), default="tiny", help="model size preset")
    p.add_argument("--hidden-size", type=int, help="override the preset's hidden size")
    p.add_argument("--layers", type=int, help="override the preset's number of layers")
    p.add_argument("--heads", type=int, help="override the preset's attention heads")
    p.add_argument("--intermediate-size", type=int, help="override the preset's FFN size")
    p.add_argument("--vocab-size", type=int, help="override the preset's WordPiece vocabulary")
    p.add_argument("--epochs", type=int, default=1, help="epochs for every run (default 1)")
    p.add_argument("--lr", type=float, default=5e-5, help="learning rate for every run")
    p.add_argument(
        "--batch-size", type=int, default=32, help="batch size of ours and trainer-best (seed: 8)"
    )
    p.add_argument("--max-length", type=int, default=128, help="maximum subword tokens")
    p.add_argument(
        "--runs", default=",".join(RUNS), help=f"comma-separated, some of {','.join(RUNS)}"
    )
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial weights and ours")
    p.add_argument(
        "--compile",
        action="store_true",
        help="CUDA only: torch.compile(mode='reduce-overhead') our model",
    )
    p.add_argument(
        "--packed",
        type=int,
        default=0,
        metavar="K",
        help="CUDA only: also train K trials at once in K processes (run ours-packed-K)",
    )
    p.add_argument("--device", help="cpu or cuda (default: cuda when available)")
    p.add_argument(
        "--init",
        help="a pretrained encoder directory (with its tokenizer; safetensors) to fine-tune "
        "instead of a randomly initialised BERT (the size flags are then ignored), so that dev "
        "F1 is high enough to compare quality",
    )
    p.add_argument(
        "--batch-order",
        choices=BATCH_ORDERS,
        default=BenchmarkOptions.batch_order,
        help="ours: length-sorted batches (little padding) or random order (as the Trainer)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


if __name__ == "__main__":
    args = build_parser().parse_args()
    if args.packed == 1:
        sys.exit("error: --packed needs K >= 2")
    cli.run(main, args)
