"""The base of every failure a user can fix (bad params, a malformed corpus, a model that does
not load): the scripts report it as one line and exit non-zero, without a traceback. Each
module derives its own error from it, so the command-line layer needs no other module."""


class NerhpoError(Exception):
    """A failure the user can fix; reported as one line."""
