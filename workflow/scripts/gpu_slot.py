"""Run a command on GPUs of its own: wait for N free GPU slots (see nerhpo.search.gpu_slots), set
CUDA_VISIBLE_DEVICES to them, then exec the command in this same process, which keeps the slot
locks until it ends (even by SIGKILL). With --gpus 0 the command runs as it is.

    python workflow/scripts/gpu_slot.py --gpus 1 -- python workflow/scripts/hpo.py ...
"""

import argparse
import os
import sys

from nerhpo.search.gpu_slots import DEFAULT_LOCK_DIR, claim_for_process

if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--gpus", type=int, default=0, help="GPU slots the command needs (default 0)")
    p.add_argument("--lock-dir", default=str(DEFAULT_LOCK_DIR), help="directory of the lock files")
    p.add_argument(
        "--list", help="comma-separated GPU ids (default: CUDA_VISIBLE_DEVICES, nvidia-smi)"
    )
    p.add_argument(
        "--timeout", type=float, help="seconds to wait for free GPUs (default: for ever)"
    )
    p.add_argument("command", nargs=argparse.REMAINDER, help="-- the command and its arguments")
    args = p.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("no command given (put it after --)")
    gpus = args.list.split(",") if args.list else None
    try:
        ids = claim_for_process(args.gpus, gpus, args.lock_dir, args.timeout, inheritable=True)
    except (ValueError, TimeoutError) as err:
        sys.exit(f"error: {err}")
    if args.gpus:
        print(f"[gpu_slot] CUDA_VISIBLE_DEVICES={','.join(ids)}", file=sys.stderr, flush=True)
    os.execvp(command[0], command)
