"""Shared command-line plumbing for the thin scripts in workflow/scripts/.

Expected failures (bad corpus, bad params, unwritable paths) end in one line on stderr
and exit status 1, never a traceback.
"""

from __future__ import annotations

import argparse
import errno
import logging
import sys
from collections.abc import Callable

from nerhpo.config import ParamsError
from nerhpo.corpus import CorpusError
from nerhpo.model import ModelLoadError


class UserError(RuntimeError):
    """A failure the user can fix; reported as one line."""


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def run(main: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> None:
    """Call ``main(args)`` and turn expected failures into a one-line error and exit 1."""
    logging.basicConfig(
        level=logging.DEBUG if getattr(args, "verbose", False) else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        main(args)
    except (CorpusError, ParamsError, ModelLoadError, UserError) as err:
        sys.exit(f"error: {err}")
    except OSError as err:
        if err.errno == errno.ENOSPC:
            sys.exit(f"error: no space left on device while writing {err.filename or ''}".rstrip())
        if err.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
            sys.exit(f"error: cannot write {err.filename}: {err.strerror}")
        raise
