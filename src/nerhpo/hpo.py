"""Where nerhpo 0.1.0 kept its HPO code (now nerhpo.search): a Tune state it saved names
functions and classes of this module, so that a study saved then still resumes. New code
imports from nerhpo.search."""

import importlib

_MODULES = (
    "nerhpo.search.study",
    "nerhpo.search.space",
    "nerhpo.search.algorithms",
    "nerhpo.search.trainable",
    "nerhpo.search.runner",
    "nerhpo.search.identity",
    "nerhpo.search.ray_compat",
    "nerhpo.search.tune_files",
)


def __getattr__(name: str):
    for module in _MODULES:
        found = getattr(importlib.import_module(module), name, None)
        if found is not None:
            return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
