"""Every workaround of Ray Tune's, Optuna's, hpbandster's, fsspec's and pyarrow's internals, in one
place, each checked against the installed library.

Each workaround below touches something a library does not promise to keep (a private attribute, a
method's parameters, how one of its methods works inside). They were written for the versions in
``VERSIONS_TESTED``; :func:`check` verifies, when this module is imported, that every hook they
need is still there with the shape they expect, and raises :class:`HookMissing` (a RuntimeError)
naming the library, the version found, the version written for and the hook. Without that check a
changed Ray would bring the bugs back silently (a rename is not an error in a subclass: the
override is simply never called). The hooks of the BOHB and Optuna searchers are checked when their
class is first built (:func:`resumable_bohb_class`, :func:`resumable_optuna_class`), before any
trial: importing hpbandster imports statsmodels and scipy, which the other studies' drivers do not
need. ``check()`` with no argument checks them all (tests/test_ray_compat.py).

The workarounds (``tests/test_ray_compat.py`` has a test for each that fails without it):

``stage_driver_files_apart`` / :class:`StudyStorage` (ray 2.60.0)
    Tune stages a study's driver files in ``<Ray session>/artifacts/<start second>/tune``; two
    studies started in the same second on one Ray head shared that folder and wrote trials into
    each other's experiment folders. Hooks: ``Experiment._storage_context_cls`` (the class its
    storage is built from) and ``StorageContext._timestamp`` (the folder's start time), which gets
    the process id.
:class:`SeededPBT` (ray 2.60.0)
    PBT draws which trial to clone and how to perturb from the global ``random`` and numpy
    generators, which Ray and Tune also use in between: one seed gave different perturbations in
    two runs of a study. Hooks: ``PopulationBasedTraining._checkpoint_or_exploit`` (seeded per
    decision), its ``_trial_state`` and ``_PBTTrialState.last_train_time`` (the epoch), and the
    ``random`` module that ``ray.tune.schedulers.pbt`` draws from.
:class:`Population` (ray 2.60.0)
    PBT's population, "finished" only when all its trials are: Tune's
    ``TuneController._cleanup_cached_actors`` killed the idle trial actor between PBT's turns once
    the searcher said it was finished, and the next trial imported torch again (5.5 s). Hooks:
    that method's use of ``is_finished``; ``BasicVariantGenerator.get_state``/``set_state`` saving
    the instance's ``__dict__`` (the extra attribute is left out).
:func:`ResumableBOHB` (ray 2.60.0, hpbandster 0.7.4)
    A study killed between Tune's saves of its trials and of its searcher resumed with a trial
    that ``TuneBOHB.trial_to_params`` lacks: KeyError, and the study failed. The trial's
    configuration is read back from its result (``flatten_dict(prevent_delimiter=)``) into
    ``trial_to_params`` and fed to hpbandster's ``BOHB.new_result``; TuneBOHB's ``_space`` names
    the searched values.
:func:`ResumableOptunaSearch` (ray 2.60.0, optuna 5.0.0)
    The same for OptunaSearch (``tpe``, ``gp``): the trial is added to the Optuna study with
    ``Study.enqueue_trial`` and ``Study.ask(fixed_distributions=)`` and recorded in
    ``OptunaSearch._ot_trials``; hooks ``_ot_trials``, ``_ot_study``, ``_space``,
    ``_completed_trials``.
:func:`atomic_storage` / :class:`AtomicLocalFileSystem` (fsspec 2026.9.0, pyarrow 26.0.1, ray 2.60.0)
    Tune overwrote ``experiment_state-*.json`` in place, and a job killed during that write left an
    empty state: the resumed study lost its trials. fsspec's ``LocalFileSystem._open`` (which
    its ``open`` and so pyarrow's ``FSSpecHandler.open_output_stream`` call) writes
    to a temporary file renamed when complete; it uses ``_strip_protocol``, ``_parent`` and
    ``auto_mkdir``.
:func:`trial_ids` (ray 2.60.0)
    A reused actor may report another trial's id in its metrics; the trial ids come from
    ``ResultGrid._experiment_analysis.trials`` instead (``ResultGrid`` offers no public list).

When a check fails after an upgrade: read the library's new code, adapt the workaround (or drop it
if the library fixed the bug), run tests/test_ray_compat.py and update ``VERSIONS_TESTED``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import io
import logging
import os
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

import numpy as np
import pyarrow.fs
from fsspec.implementations.local import LocalFileSystem
from ray.train._internal.storage import StorageContext
from ray.tune.experiment import Experiment
from ray.tune.schedulers import PopulationBasedTraining
from ray.tune.search.basic_variant import BasicVariantGenerator

from nerhpo.core.atomic import current_umask
from nerhpo.search.tune_files import trial_number

log = logging.getLogger(__name__)

RAY_VERSION_TESTED = "2.60.0"
OPTUNA_VERSION_TESTED = "5.0.0"
HPBANDSTER_VERSION_TESTED = "0.7.4"
FSSPEC_VERSION_TESTED = "2026.9.0"
PYARROW_VERSION_TESTED = "26.0.1"
VERSIONS_TESTED = {
    "ray": RAY_VERSION_TESTED,
    "optuna": OPTUNA_VERSION_TESTED,
    "hpbandster": HPBANDSTER_VERSION_TESTED,
    "fsspec": FSSPEC_VERSION_TESTED,
    "pyarrow": PYARROW_VERSION_TESTED,
}


# -- the hooks and their check -------------------------------------------------------------------
class HookMissing(RuntimeError):
    """An installed library lacks an internal hook that a workaround here needs."""


@dataclass(frozen=True)
class Hook:
    """``owner.attribute`` of ``library`` that ``workaround`` needs, with the shape it expects."""

    workaround: str  # the group check() takes: "storage", "pbt", "population", "bohb", ...
    library: str
    owner: str  # "module:Class" or "module"
    attribute: str
    shape: Callable[[Any], bool]
    expect: str  # the shape, in words

    @property
    def name(self) -> str:
        return f"{self.owner.replace(':', '.')}.{self.attribute}"


def _code(value):
    value = getattr(value, "fget", value)  # a property: its getter
    return getattr(inspect.unwrap(getattr(value, "__func__", value)), "__code__", None)


def _params(*names: str) -> Callable[[Any], bool]:
    """A callable whose parameters (without self/cls) start with ``names``, in that order."""

    def shape(value) -> bool:
        try:
            found = [p for p in inspect.signature(value).parameters if p not in ("self", "cls")]
        except (TypeError, ValueError):
            return False
        return found[: len(names)] == list(names)

    return shape


def _has_param(name: str) -> Callable[[Any], bool]:
    def shape(value) -> bool:
        try:
            return name in inspect.signature(value).parameters
        except (TypeError, ValueError):
            return False

    return shape


def _uses(*names: str) -> Callable[[Any], bool]:
    """A function whose code reads or sets attributes (or globals) ``names``."""

    def shape(value) -> bool:
        code = _code(value)
        return code is not None and set(names) <= set(code.co_names)

    return shape


def _storage_class(value) -> bool:
    return isinstance(value, type) and issubclass(value, StorageContext)


def _stdlib_random(value) -> bool:
    return value is random


HOOKS: tuple[Hook, ...] = (
    # stage_driver_files_apart
    Hook("storage", "ray", "ray.tune.experiment:Experiment", "_storage_context_cls",
         _storage_class, "a class attribute holding StorageContext (or a subclass)"),
    Hook("storage", "ray", "ray.tune.experiment:Experiment", "__init__",
         _uses("_storage_context_cls"), "builds the storage from _storage_context_cls"),
    Hook("storage", "ray", "ray.train._internal.storage:StorageContext", "__init__",
         _uses("_timestamp"), "sets self._timestamp"),
    Hook("storage", "ray", "ray.train._internal.storage:StorageContext", "_get_session_path",
         _uses("_timestamp"), "builds the staging folder from self._timestamp"),
    # SeededPBT
    Hook("pbt", "ray", "ray.tune.schedulers.pbt:PopulationBasedTraining",
         "_checkpoint_or_exploit",
         _params("trial", "tune_controller", "upper_quantile", "lower_quantile"),
         "a method (trial, tune_controller, upper_quantile, lower_quantile)"),
    Hook("pbt", "ray", "ray.tune.schedulers.pbt:PopulationBasedTraining", "__init__",
         _uses("_trial_state"), "sets self._trial_state"),
    Hook("pbt", "ray", "ray.tune.schedulers.pbt:_PBTTrialState", "__init__",
         _uses("last_train_time"), "sets self.last_train_time"),
    Hook("pbt", "ray", "ray.tune.schedulers.pbt", "random", _stdlib_random,
         "the standard library's random module (PBT's draws)"),
    # Population
    Hook("population", "ray", "ray.tune.execution.tune_controller:TuneController",
         "_cleanup_cached_actors", _uses("_search_alg", "is_finished"),
         "keeps idle actors while the searcher is not finished"),
    Hook("population", "ray", "ray.tune.search.basic_variant:BasicVariantGenerator",
         "get_state", _uses("__dict__"), "saves the instance's __dict__"),
    Hook("population", "ray", "ray.tune.search.basic_variant:BasicVariantGenerator",
         "set_state", _uses("__dict__"), "restores the instance's __dict__"),
    Hook("population", "ray", "ray.tune.search.basic_variant:BasicVariantGenerator",
         "on_trial_complete", _params("trial_id", "result", "error"),
         "a method (trial_id, result, error)"),
    # ResumableBOHB
    Hook("bohb", "ray", "ray.tune.search.bohb:TuneBOHB", "__init__",
         _uses("trial_to_params", "_space"), "sets self.trial_to_params and self._space"),
    Hook("bohb", "ray", "ray.tune.search.bohb:TuneBOHB", "to_wrapper",
         _uses("trial_to_params"), "reads a trial's configuration from trial_to_params"),
    Hook("bohb", "ray", "ray.tune.search.bohb:TuneBOHB", "on_trial_result",
         _params("trial_id", "result"), "a method (trial_id, result)"),
    Hook("bohb", "ray", "ray.tune.search.bohb:TuneBOHB", "on_trial_complete",
         _params("trial_id", "result", "error"), "a method (trial_id, result, error)"),
    Hook("bohb", "ray", "ray.tune.utils.util", "flatten_dict",
         _has_param("prevent_delimiter"), "a function with a prevent_delimiter parameter"),
    Hook("bohb", "hpbandster", "hpbandster.optimizers.config_generators.bohb:BOHB",
         "new_result", _params("job"), "a method (job, ...)"),
    # ResumableOptunaSearch
    Hook("optuna", "ray", "ray.tune.search.optuna:OptunaSearch", "__init__",
         _uses("_ot_trials", "_ot_study", "_space", "_completed_trials"),
         "sets self._ot_trials, _ot_study, _space and _completed_trials"),
    Hook("optuna", "ray", "ray.tune.search.optuna:OptunaSearch", "on_trial_result",
         _params("trial_id", "result"), "a method (trial_id, result)"),
    Hook("optuna", "ray", "ray.tune.search.optuna:OptunaSearch", "on_trial_complete",
         _params("trial_id", "result", "error"), "a method (trial_id, result, error)"),
    Hook("optuna", "ray", "ray.tune.utils.util", "flatten_dict",
         _has_param("prevent_delimiter"), "a function with a prevent_delimiter parameter"),
    Hook("optuna", "optuna", "optuna.study:Study", "enqueue_trial", _params("params"),
         "a method (params, ...)"),
    Hook("optuna", "optuna", "optuna.study:Study", "ask", _has_param("fixed_distributions"),
         "a method with a fixed_distributions parameter"),
    # atomic_storage
    Hook("storage_fs", "fsspec", "fsspec.implementations.local:LocalFileSystem", "_open",
         _params("path", "mode", "block_size"), "a method (path, mode, block_size, **kwargs)"),
    Hook("storage_fs", "fsspec", "fsspec.implementations.local:LocalFileSystem", "open",
         _uses("_open"), "opens files through self._open"),
    Hook("storage_fs", "fsspec", "fsspec.implementations.local:LocalFileSystem",
         "_strip_protocol", _params("path"), "a class method (path)"),
    Hook("storage_fs", "fsspec", "fsspec.implementations.local:LocalFileSystem", "_parent",
         _params("path"), "a class method (path)"),
    Hook("storage_fs", "fsspec", "fsspec.implementations.local:LocalFileSystem", "__init__",
         _uses("auto_mkdir"), "sets self.auto_mkdir"),
    Hook("storage_fs", "pyarrow", "pyarrow.fs:FSSpecHandler", "open_output_stream",
         _uses("fs", "open"), "writes through the fsspec file system's open()"),
    # trial_ids
    Hook("trial_ids", "ray", "ray.tune.result_grid:ResultGrid", "__init__",
         _uses("_experiment_analysis"), "sets self._experiment_analysis"),
    Hook("trial_ids", "ray", "ray.tune.analysis.experiment_analysis:ExperimentAnalysis",
         "__init__", _uses("trials"), "sets self.trials"),
)  # fmt: skip
WORKAROUNDS = tuple(dict.fromkeys(hook.workaround for hook in HOOKS))
# checked when this module is imported; the searchers' hooks when their class is built
AT_IMPORT = ("storage", "pbt", "population", "storage_fs", "trial_ids")


def library_version(library: str) -> str:
    try:
        return metadata.version(library)
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _resolve(owner: str):
    module, _, qualname = owner.partition(":")
    obj = importlib.import_module(module)
    for part in qualname.split(".") if qualname else ():
        obj = getattr(obj, part)
    return obj


def _problem(hook: Hook) -> str | None:
    try:
        owner = _resolve(hook.owner)
    except (ImportError, AttributeError) as err:
        return f"{hook.owner.replace(':', '.')} cannot be found ({err})"
    missing = object()
    value = inspect.getattr_static(owner, hook.attribute, missing)
    if value is missing:
        return f"{hook.name} is missing (expected {hook.expect})"
    if not hook.shape(getattr(owner, hook.attribute)):
        return f"{hook.name} has changed (expected {hook.expect})"
    return None


def check(*workarounds: str) -> None:
    """Raise :class:`HookMissing` unless every hook of ``workarounds`` (all if none are named)
    is there with the shape its workaround expects."""
    unknown = set(workarounds) - set(WORKAROUNDS)
    if unknown:
        raise ValueError(f"unknown workarounds {sorted(unknown)}; expected some of {WORKAROUNDS}")
    wanted = set(workarounds or WORKAROUNDS)
    problems = []
    for hook in HOOKS:
        if hook.workaround not in wanted:
            continue
        problem = _problem(hook)
        if problem is not None:
            problems.append(
                f"{hook.library} {library_version(hook.library)} (nerhpo's workaround "
                f"'{hook.workaround}' was written for {hook.library} "
                f"{VERSIONS_TESTED[hook.library]}): {problem}"
            )
    if problems:
        raise HookMissing(
            "nerhpo.search.ray_compat: an installed library changed an internal that a workaround "
            "needs; adapt the workaround in src/nerhpo/search/ray_compat.py to this version (or pin the "
            "version it was written for):\n  " + "\n  ".join(dict.fromkeys(problems))
        )


# -- stage_driver_files_apart ----------------------------------------------------------------------
class StudyStorage(StorageContext):
    """Tune's storage, with the staging folder's start time (to the second) made unique per
    process: see :func:`stage_driver_files_apart`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._timestamp = f"{self._timestamp}_pid{os.getpid()}"


def stage_driver_files_apart() -> None:
    """Give each study its own staging folder for Tune's driver files on a shared Ray.

    Tune stages them in ``<Ray session>/artifacts/<start time, to the second>/<experiment
    name>`` and every study here is named ``tune``: two studies started in the same second on
    one Ray head (a pipeline's shared head, a cluster) shared that folder and wrote trials into
    each other's experiment folders (ray 2.60). Ray offers no setting for it; its ``Experiment``
    builds its storage from a class attribute, so the start time gets this process's id. A
    resumed study reuses the folder name saved with its trials, as Tune intends.
    """
    current = getattr(Experiment, "_storage_context_cls", None)
    if current is StudyStorage:
        return
    if current is not StorageContext:
        raise HookMissing(
            f"nerhpo.search.ray_compat: ray {library_version('ray')}'s Experiment._storage_context_cls "
            f"is {current!r}, not Ray's StorageContext (written for ray {RAY_VERSION_TESTED}): "
            "two studies started in the same second on one Ray head would share their staging "
            "folder"
        )
    Experiment._storage_context_cls = StudyStorage


# -- SeededPBT -------------------------------------------------------------------------------------
class SeededPBT(PopulationBasedTraining):
    """PBT whose choices (which trial to clone, how to perturb) are seeded per decision from
    the study seed, the trial's creation number and its epoch. PBT draws them from the
    global ``random`` and numpy generators, which Ray and Tune also use in between, so one
    seed at the start gave different perturbations in two runs of the same study (CI)."""

    def __init__(self, seed: int, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._nerhpo_seed = seed

    def _checkpoint_or_exploit(self, trial, tune_controller, upper_quantile, lower_quantile):
        number = trial_number(getattr(trial, "local_path", None) or trial.experiment_tag)
        if number < 0:  # no directory yet: the experiment tag starts with the number
            number = int(str(trial.experiment_tag).split("_", 1)[0] or 0)
        epoch = int(self._trial_state[trial].last_train_time or 0)
        state = (self._nerhpo_seed * 1_000_003 + number * 1_009 + epoch) % (2**32)
        random.seed(state)
        np.random.seed(state)
        return super()._checkpoint_or_exploit(
            trial, tune_controller, upper_quantile, lower_quantile
        )


# -- Population ------------------------------------------------------------------------------------
class Population(BasicVariantGenerator):
    """PBT's population: all trials at once, and "finished" only when every trial is.

    Synchronous PBT pauses every trial at each perturbation point, then runs them in turns.
    Tune (ray 2.60) keeps an idle trial actor for the next trial only while the search is
    not over or a trial is staged; with the whole population created and none staged at
    that moment, it killed the actor, and the next trial started a new worker process
    that imported torch and transformers again (about 5.5 s, once or twice per demo PBT
    study, seen in its worker logs). Tune still ends the study when all trials are done:
    its own check asks both. Only trials created by this process count, so a study
    resumed from a saved state (whose trials Tune restores itself) cannot wait forever."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._unfinished_here: set[str] = set()

    def next_trial(self):
        trial = super().next_trial()
        if trial is not None:
            self._unfinished_here.add(trial.trial_id)
        return trial

    def on_trial_complete(self, trial_id, result=None, error=False):
        super().on_trial_complete(trial_id, result=result, error=error)
        self._unfinished_here.discard(trial_id)

    def is_finished(self) -> bool:
        return super().is_finished() and not self._unfinished_here

    def get_state(self):
        state = super().get_state()
        if state:
            state.pop("_unfinished_here", None)
        return state

    def set_state(self, state):
        super().set_state(state)
        self._unfinished_here = set()


# -- ResumableBOHB and ResumableOptunaSearch -------------------------------------------------------
def resumed_config(space, result: dict | None) -> dict | None:
    """The searched values of a trial, from a result (Tune puts the config in every result)."""
    from ray.tune.utils.util import flatten_dict

    if not result or not isinstance(result.get("config"), dict):
        return None
    config = flatten_dict(result["config"], prevent_delimiter=True)
    return {name: config[name] for name in space if name in config}


@functools.cache
def resumable_bohb_class():
    check("bohb")
    from ray.tune.search.bohb import TuneBOHB

    class _ResumableBOHB(TuneBOHB):
        """TuneBOHB that keeps going when a resumed study holds a trial it never suggested.

        A study killed between Tune's saves of the trials and of the searcher comes back with a
        trial that is missing from the searcher's ``trial_to_params``; TuneBOHB (ray 2.60) then
        raises KeyError on that trial's next result or when it stops, and the resumed study
        failed (seen in CI: a SIGKILLed pipeline's repeated BOHB study). Such a trial's
        configuration is read back from its result, which carries it; a trial without a
        result is simply forgotten when it completes."""

        def on_trial_result(self, trial_id: str, result: dict):
            if trial_id not in self.trial_to_params:
                config = resumed_config(self._space, result)
                if config is not None:
                    self.trial_to_params[trial_id] = config
                    log.info("BOHB: resumed trial %s: configuration read from its result", trial_id)
            super().on_trial_result(trial_id, result)

        def on_trial_complete(self, trial_id: str, result=None, error: bool = False):
            self.trial_to_params.setdefault(trial_id, {})
            super().on_trial_complete(trial_id, result=result, error=error)

    return _ResumableBOHB


def ResumableBOHB(*args, **kwargs):  # noqa: N802 (builds the class lazily: hpbandster import)
    return resumable_bohb_class()(*args, **kwargs)


@functools.cache
def resumable_optuna_class():
    check("optuna")
    from ray.tune.search.optuna import OptunaSearch

    class _ResumableOptunaSearch(OptunaSearch):
        """OptunaSearch (``tpe``, ``gp``) that adopts a resumed trial it never suggested, as
        :func:`ResumableBOHB` does: the trial is added to the Optuna study with the
        configuration its result carries; one without a result is forgotten."""

        def _adopt(self, trial_id: str, result: dict | None) -> bool:
            if trial_id in self._ot_trials:
                return True
            config = resumed_config(self._space, result)
            if config is None or callable(self._space):
                return False
            self._ot_study.enqueue_trial(config)
            self._ot_trials[trial_id] = self._ot_study.ask(fixed_distributions=self._space)
            log.info(
                "Optuna: resumed trial %s adopted with the configuration of its result", trial_id
            )
            return True

        def on_trial_result(self, trial_id: str, result: dict):
            if self._adopt(trial_id, result):
                super().on_trial_result(trial_id, result)

        def on_trial_complete(self, trial_id: str, result=None, error: bool = False):
            if self._adopt(trial_id, result):
                super().on_trial_complete(trial_id, result=result, error=error)
            else:
                self._completed_trials.add(trial_id)

    return _ResumableOptunaSearch


def ResumableOptunaSearch(*args, **kwargs):  # noqa: N802 (builds the class lazily: optuna import)
    return resumable_optuna_class()(*args, **kwargs)


# -- atomic_storage --------------------------------------------------------------------------------
def atomic_storage():
    """Ray Tune's storage file system for the local results folder, writing every file atomically.

    Ray 2.60 copies its experiment state (``experiment_state-*.json``, the searcher state) from
    the driver's staging folder into the storage folder by overwriting the file in place; a job
    killed during that copy left an empty state file, and the resumed study lost its trials. Here
    each file is written to a temporary name beside it and renamed when complete, so a killed job
    leaves the previous complete version (and at most a stray ``.*.tmp`` file).
    """
    return pyarrow.fs.PyFileSystem(pyarrow.fs.FSSpecHandler(AtomicLocalFileSystem(auto_mkdir=True)))


class AtomicFile(io.FileIO):
    """A file written under a temporary name and renamed to ``path`` when closed."""

    def __init__(self, path: str):
        directory, name = os.path.split(path)
        fd, self.tmp = tempfile.mkstemp(dir=directory or ".", prefix=f".{name}.", suffix=".tmp")
        os.close(fd)
        os.chmod(self.tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; Tune's files were 0644
        self.target = path
        super().__init__(self.tmp, "wb")

    def close(self):
        if self.closed:
            return
        super().close()
        os.replace(self.tmp, self.target)


class AtomicLocalFileSystem(LocalFileSystem):
    """fsspec's local file system, but files opened for writing appear only when complete."""

    def _open(self, path, mode="rb", block_size=None, **kwargs):
        if "w" not in mode:
            return super()._open(path, mode, block_size, **kwargs)
        path = self._strip_protocol(path)
        if self.auto_mkdir:
            self.makedirs(self._parent(path), exist_ok=True)
        return AtomicFile(path)


# -- trial_ids -------------------------------------------------------------------------------------
def trial_ids(grid_result) -> dict[str, str]:
    """Trial directory -> trial id. (A reused actor may report another trial's id in metrics.)"""
    return {trial.path: trial.trial_id for trial in grid_result._experiment_analysis.trials or []}


check(*AT_IMPORT)
