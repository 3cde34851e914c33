"""The search space: params' hpo.search_space as Ray Tune distributions, and the grid."""

from __future__ import annotations

from nerhpo.core.errors import NerhpoError
from nerhpo.training.families import model_type_of, unsupported_dropout

CONTINUOUS = (
    "learning_rate",
    "weight_decay",
    "warmup_ratio",
    "attention_dropout",
    "hidden_dropout",
)


class SearchSpaceError(NerhpoError, ValueError):
    """A search space the encoder cannot follow."""


# -- search space --------------------------------------------------------------------------
def check_space(space: dict, model_dir) -> None:
    """Refuse, in one line, a dropout hyperparameter that the encoder's family keeps nowhere
    nerhpo knows: searching it would tune a value the model never uses. An encoder whose
    config cannot be read here is left to the trials, which check it again."""
    model_type = model_type_of(model_dir)
    problem = unsupported_dropout(model_type, space) if model_type else None
    if problem:
        raise SearchSpaceError(problem)


def tune_space(space: dict) -> dict:
    """params' search space -> Ray Tune distributions (shared by every algorithm)."""
    from ray import tune

    out = {}
    for name, spec in space.items():
        kind = spec["type"]
        if kind == "loguniform":
            out[name] = tune.loguniform(spec["low"], spec["high"])
        elif kind == "uniform":
            out[name] = tune.uniform(spec["low"], spec["high"])
        elif kind == "int":
            out[name] = tune.randint(spec["low"], spec["high"] + 1)
        elif kind == "choice":
            out[name] = tune.choice(spec["values"])
        else:  # the schema rejects anything else
            raise ValueError(f"hpo.search_space.{name}.type: unknown {kind!r}")
    return out


def grid_space(space: dict, defaults: dict) -> dict:
    """grid: each parameter's ``grid`` list (or choice values); others fixed at train defaults."""
    from ray import tune

    out = {}
    for name, spec in space.items():
        values = spec.get("grid") or spec.get("values")
        out[name] = tune.grid_search(values) if values else defaults[name]
    return out
