"""Where the run stands: one row per planned study (main studies, the comparison's repeats, the
sprint's rounds) with its state (waiting, running, done, outdated, failed, stale), trials and
epochs done of planned, best dev F1 so far and its configuration, elapsed time and ETA, and a
last line for the whole run. The rules: nerhpo.analysis.status.

Reads only results/, the saved Tune states in it, logs/ and params: it works while Snakemake or
DVC runs, after a kill, from a SLURM login node, and before anything ran.

    python workflow/scripts/status.py                  # the table, once
    python workflow/scripts/status.py --watch          # redrawn every --interval s (Ctrl-C ends)
    python workflow/scripts/status.py --json           # one JSON object: rows and total
"""

from nerhpo.core import cli


def snapshot(args, params) -> dict:
    from nerhpo.analysis.status import live_drivers, run_status

    return run_status(
        params,
        args.results,
        stale_after=args.stale_after,
        live=live_drivers(),
        logs=args.logs,
        parallel=args.parallel,
    )


def watch(args, params) -> None:
    """Redraw in place every --interval seconds until Ctrl-C."""
    import time

    from rich.console import Console
    from rich.live import Live

    from nerhpo.analysis.status import render

    console = Console()
    try:
        with Live(console=console, auto_refresh=False) as live:
            while True:
                live.update(render(snapshot(args, params), console.width), refresh=True)
                time.sleep(args.interval)
    except KeyboardInterrupt:
        pass


def main(args):
    import json
    import os
    from pathlib import Path

    from rich.console import Console

    from nerhpo.analysis.status import WIDE, render
    from nerhpo.core.config import load_params

    if args.watch and args.json:
        raise cli.UserError("--watch and --json do not go together")
    if args.parallel < 1 or args.interval <= 0:
        raise cli.UserError("--parallel must be at least 1 and --interval above 0")
    params = load_params(args.params)
    if args.logs is None:
        args.logs = str(Path(args.results).parent / "logs")
    if args.watch:
        watch(args, params)
    elif args.json:
        print(json.dumps(snapshot(args, params), indent=2))
    else:
        console = Console()
        if not console.is_terminal and "COLUMNS" not in os.environ:
            console.width = WIDE  # a file or a pipe: one line per study
        console.print(render(snapshot(args, params), console.width))


if __name__ == "__main__":
    import argparse

    from nerhpo.analysis.status import STALE_AFTER_S

    p = cli.parser(__doc__)
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--results", default="results", help="the run's results (default: results)")
    p.add_argument("--logs", help="the jobs' logs (default: logs beside --results)")
    p.add_argument("--watch", action="store_true", help="redraw in place until Ctrl-C")
    p.add_argument("--interval", type=float, default=2.0, help="--watch: seconds (default: 2)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead")
    p.add_argument(
        "--parallel",
        type=int,
        default=1,
        help="studies run at once, for the run's ETA (default: 1)",
    )
    p.add_argument(
        "--stale-after",
        type=float,
        default=STALE_AFTER_S,
        help="seconds without a change after which an unfinished study with no driver here "
        f"counts as stale (default: {STALE_AFTER_S:.0f})",
    )
    cli.run(main, p.parse_args())
