"""Shared command-line plumbing for the thin scripts in workflow/scripts/.

Expected failures (bad corpus, bad params, a missing input, an unwritable path, a full disk) end
in one line on stderr and exit status 1, never a traceback (``-v`` shows the traceback of an
OS-level error too).
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
from collections.abc import Callable

from nerhpo.core.atomic import WRITE_ONLY_ERRNOS, WriteError
from nerhpo.core.errors import NerhpoError


class UserError(NerhpoError, RuntimeError):
    """A failure the user can fix; reported as one line."""


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    return p


def run(main: Callable[[argparse.Namespace], None], args: argparse.Namespace) -> None:
    """Call ``main(args)`` and turn expected failures into a one-line error and exit 1."""
    verbose = getattr(args, "verbose", False)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        main(args)
    except NerhpoError as err:
        sys.exit(f"error: {err}")
    except OSError as err:
        if verbose:
            raise
        sys.exit(os_error_line(err))


def os_error_line(err: OSError) -> str:
    """One line for an OS-level error: what could not be done to which path, and why."""
    why = err.strerror or str(err) or type(err).__name__
    path = err.filename
    if path is None:
        if err.errno in WRITE_ONLY_ERRNOS:
            return f"error: cannot write: {why}"
        return f"error: {why}"
    if isinstance(err, WriteError) or err.errno in WRITE_ONLY_ERRNOS:
        return f"error: cannot write {path}: {why}"
    if err.errno in (errno.EACCES, errno.EPERM):
        return f"error: cannot {_denied(path)} {path}: {why}"
    return f"error: {path}: {why}"


def _denied(path) -> str:
    """Whether a permission error on ``path`` was (most likely) a write or a read."""
    try:
        if os.path.exists(path):
            return "write" if os.access(path, os.R_OK) else "read"
        parent = os.path.dirname(os.path.abspath(path))
        return "write" if os.path.isdir(parent) and not os.access(parent, os.W_OK) else "access"
    except OSError:
        return "access"
