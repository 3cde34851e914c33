"""Train one batch-size baseline (default hyperparameters, no HPO) and score it on dev and test.

Reads --data (the baseline's family and variant); writes --out (results/baseline/bs{N}.json).
"""

from nerhpo.core import cli
from nerhpo.core.config import load_params


def main(args):
    import torch

    from nerhpo.core.atomic import atomic_write_json
    from nerhpo.core.layout import model_source
    from nerhpo.training.baseline import run_baseline

    torch.set_num_threads(args.threads)
    params = load_params(args.params)
    base = params["baseline"]
    result = run_baseline(
        params, base["family"], base["variant"], args.batch_size, model_source(params), args.data
    )
    atomic_write_json(args.out, result)


if __name__ == "__main__":
    p = cli.parser(__doc__)
    p.add_argument("--batch-size", type=int, required=True, help="the batch size to train with")
    p.add_argument("--data", required=True, help="the baseline variant's folder of split files")
    p.add_argument("--out", required=True, help="output JSON (results/baseline/bs{N}.json)")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    cli.run(main, p.parse_args())
