"""Start or stop the Ray head shared by a pipeline run's HPO jobs (see nerhpo.search.ray_head)."""

import argparse
import os

from nerhpo.search import ray_head

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("action", choices=["start", "stop"])
    p.add_argument("--cpus", type=int, default=os.cpu_count(), help="CPUs the head offers")
    p.add_argument("--gpus", type=int, help="GPUs the head offers (default: Ray detects them)")
    p.add_argument("--watch-pid", type=int, help="stop the head when this process ends")
    args = p.parse_args()
    if args.action == "start":
        print(ray_head.start(args.cpus, args.gpus, args.watch_pid))
    else:
        ray_head.stop()
