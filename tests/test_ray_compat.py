"""The workarounds of Ray's, Optuna's, hpbandster's and fsspec's internals (nerhpo.search.ray_compat):
one test each that fails without the workaround, and the check that a changed library is
reported clearly (library, version found, version written for, hook) instead of the bug coming
back silently."""

import os
import random
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from project_copy import ROOT

from nerhpo.core.atomic import current_umask
from nerhpo.search import ray_compat
from nerhpo.search.ray_compat import HOOKS, HookMissing, check


def broken(*args, **kwargs):
    """Stands in for a hook a newer library changed: no parameters, no attributes used."""


# -- the check ------------------------------------------------------------------------------------
def test_the_installed_libraries_have_every_hook():
    check()  # also the searchers' hooks, which an import of ray_compat leaves for later
    assert set(ray_compat.AT_IMPORT) | {"bohb", "optuna"} == set(ray_compat.WORKAROUNDS)
    assert {hook.library for hook in HOOKS} == set(ray_compat.VERSIONS_TESTED)


@pytest.mark.parametrize("hook", HOOKS, ids=lambda hook: f"{hook.workaround}:{hook.name}")
def test_a_changed_hook_is_named_with_both_versions(monkeypatch, hook):
    monkeypatch.setattr(ray_compat._resolve(hook.owner), hook.attribute, broken)
    with pytest.raises(HookMissing) as raised:
        check(hook.workaround)
    message = str(raised.value)
    assert f"{hook.name} has changed" in message
    found = ray_compat.library_version(hook.library)
    assert f"{hook.library} {found} (nerhpo's workaround '{hook.workaround}'" in message
    assert f"written for {hook.library} {ray_compat.VERSIONS_TESTED[hook.library]}" in message
    target = (hook.owner, hook.attribute)
    sharing = {h.workaround for h in HOOKS if (h.owner, h.attribute) == target}
    check(*(w for w in ray_compat.WORKAROUNDS if w not in sharing))  # only those that use it


def test_a_missing_hook_is_named(monkeypatch):
    from ray.tune.experiment import Experiment
    from ray.tune.schedulers import PopulationBasedTraining

    monkeypatch.delattr(Experiment, "_storage_context_cls")
    monkeypatch.delattr(PopulationBasedTraining, "_checkpoint_or_exploit")
    with pytest.raises(HookMissing) as raised:
        check()
    message = str(raised.value)
    assert "ray.tune.experiment.Experiment._storage_context_cls is missing" in message
    assert "PopulationBasedTraining._checkpoint_or_exploit is missing" in message
    assert f"written for ray {ray_compat.RAY_VERSION_TESTED}" in message


def test_importing_the_workarounds_fails_on_a_missing_hook(tmp_path):
    """The check runs when ray_compat is imported (by run_study, before any training)."""
    code = (
        "from ray.tune.experiment import Experiment\n"
        "del Experiment._storage_context_cls\n"
        "import nerhpo.search.ray_compat\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert out.returncode != 0
    assert (
        "HookMissing" in out.stderr and "Experiment._storage_context_cls is missing" in out.stderr
    )


def test_an_unknown_workaround_is_refused():
    with pytest.raises(ValueError, match="unknown workarounds"):
        check("nonesuch")


# -- stage_driver_files_apart ---------------------------------------------------------------------
def test_studies_started_in_the_same_second_stage_their_files_apart(monkeypatch, tmp_path):
    """Tune names the staging folder after the start second: two studies (processes) started
    in the same second on one Ray head shared it. StudyStorage adds the process id."""
    import ray.tune.utils
    from ray.train._internal import storage

    monkeypatch.setattr(ray.tune.utils, "date_str", lambda: "2026-01-01_00-00-00")
    monkeypatch.setattr(storage, "_get_ray_train_session_dir", lambda: str(tmp_path / "session"))

    def staging(cls, pid):
        monkeypatch.setattr(os, "getpid", lambda: pid)  # another study's driver process
        context = cls(storage_path=str(tmp_path / "results"), experiment_dir_name="tune")
        return context.experiment_driver_staging_path

    stock = {staging(storage.StorageContext, pid) for pid in (1001, 1002)}
    assert len(stock) == 1  # the bug: one folder for both
    ours = [staging(ray_compat.StudyStorage, pid) for pid in (1001, 1002)]
    assert ours[0] != ours[1] and "pid1001" in ours[0] and "pid1002" in ours[1]


def test_tune_builds_its_storage_from_the_installed_class(monkeypatch, tmp_path):
    from ray.train._internal.storage import StorageContext
    from ray.tune.experiment import Experiment

    monkeypatch.setattr(Experiment, "_storage_context_cls", StorageContext)
    ray_compat.stage_driver_files_apart()
    ray_compat.stage_driver_files_apart()  # a second study in the same process: nothing to do
    assert Experiment._storage_context_cls is ray_compat.StudyStorage
    experiment = Experiment("tune", run=lambda config: None, storage_path=str(tmp_path))
    assert isinstance(experiment.storage, ray_compat.StudyStorage)

    class Other(StorageContext):
        pass

    monkeypatch.setattr(Experiment, "_storage_context_cls", Other)
    with pytest.raises(HookMissing, match="share their staging folder"):
        ray_compat.stage_driver_files_apart()


# -- SeededPBT ------------------------------------------------------------------------------------
class FakeTrial:
    def __init__(self, tag: str):
        self.experiment_tag = tag
        self.local_path = None


def test_pbt_decides_alike_whatever_the_global_generators_hold(monkeypatch):
    """PBT draws its decisions from the global random and numpy generators, which Ray uses in
    between: stock PBT decided differently in two runs of one seeded study; SeededPBT seeds
    each decision from the study seed, the trial's number and its epoch."""
    from ray.tune.schedulers import PopulationBasedTraining

    def draws(self, trial, tune_controller, upper_quantile, lower_quantile):
        return random.random(), float(np.random.random())

    monkeypatch.setattr(PopulationBasedTraining, "_checkpoint_or_exploit", draws)
    settings = dict(time_attr="training_iteration", hyperparam_mutations={"lr": [1, 2]})
    ours, stock = ray_compat.SeededPBT(7, **settings), PopulationBasedTraining(**settings)
    trial, other = FakeTrial("3_lr=1"), FakeTrial("4_lr=2")
    for scheduler in (ours, stock):
        scheduler._trial_state[trial] = SimpleNamespace(last_train_time=2)
        scheduler._trial_state[other] = SimpleNamespace(last_train_time=2)

    def decide(scheduler, state, which=trial):
        random.seed(state)
        np.random.seed(state)  # what Ray did with the global generators in between
        return scheduler._checkpoint_or_exploit(which, None, [], [])

    assert decide(stock, 1) != decide(stock, 2)  # the bug
    assert decide(ours, 1) == decide(ours, 2)
    assert decide(ours, 1) != decide(ours, 1, other)  # each trial its own draws
    before = decide(ours, 1)
    ours._trial_state[trial].last_train_time = 3
    assert decide(ours, 1) != before  # and each epoch
    reseeded = ray_compat.SeededPBT(8, **settings)
    reseeded._trial_state[trial] = SimpleNamespace(last_train_time=3)
    assert decide(reseeded, 1) != decide(ours, 1)  # and each study seed


# -- Population -----------------------------------------------------------------------------------
def test_pbt_population_is_finished_only_when_every_trial_is():
    """Tune keeps an idle trial actor for the next of PBT's turns only while the search is not
    over; the population says so until its last trial completes. A state restored from disk
    (a resumed study, whose trials Tune restores itself) waits for none of them."""
    from ray.tune.search.basic_variant import BasicVariantGenerator

    spec = {"study": {"run": lambda config: None, "num_samples": 2}}
    stock = BasicVariantGenerator(random_state=0, max_concurrent=0)
    stock.add_configurations(spec)
    stock.next_trial(), stock.next_trial(), stock.next_trial()
    assert stock.is_finished()  # the bug: with both trials still to run

    population = ray_compat.Population(random_state=0, max_concurrent=0)
    population.add_configurations(spec)
    trials = [population.next_trial(), population.next_trial()]
    assert population.next_trial() is None  # all created: Tune's own flag is now set
    assert not population.is_finished()
    population.on_trial_complete(trials[0].trial_id)
    assert not population.is_finished()
    state = population.get_state()
    assert "_unfinished_here" not in state
    population.on_trial_complete(trials[1].trial_id)
    assert population.is_finished()

    restored = ray_compat.Population(random_state=0, max_concurrent=0)
    restored.set_state(state)
    assert restored.is_finished()


# -- ResumableBOHB and ResumableOptunaSearch ------------------------------------------------------
@pytest.fixture(scope="module")
def space():
    from nerhpo.search.space import tune_space

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    return params["hpo"], tune_space(params["hpo"]["search_space"])


def test_bohb_takes_a_resumed_trial_it_never_suggested(space):
    """A study killed between Tune's saves of its trials and of the searcher resumes with a
    trial that BOHB's saved state lacks. Stock TuneBOHB raises KeyError on that trial's result
    and when it stops (CI: a resumed repeated BOHB study failed); ours reads its configuration
    back from the result and goes on, feeding the result to BOHB's model."""
    from ray.tune.search.bohb import TuneBOHB

    from nerhpo.search.algorithms import search_parts
    from nerhpo.search.study import METRIC

    settings, space = space
    searchers = []
    for searcher in (search_parts("bohb", settings, space, 7)[0], TuneBOHB(seed=7)):
        searcher.set_search_properties(METRIC, "max", space)
        searchers.append(searcher)
    ours, stock = searchers
    assert isinstance(ours, ray_compat.resumable_bohb_class())
    results = []
    for searcher in searchers:  # a trial it suggested: both fine
        config = searcher.suggest("known")
        results.append({METRIC: 0.5, "config": config, "hyperband_info": {"budget": 1}})
        searcher.on_trial_result("known", results[-1])
    result = results[0]  # ours: the restored trial has the configuration of ours' "known"
    with pytest.raises(KeyError):
        stock.on_trial_result("restored", result)
    with pytest.raises(KeyError):
        stock.on_trial_complete("restored")

    ours.on_trial_result("restored", {**result, METRIC: 0.7})
    assert ours.trial_to_params["restored"] == ours.trial_to_params["known"]
    assert len(ours.bohber.configs[1]) == 2  # both results reached BOHB's model
    ours.on_trial_complete("restored", result)
    ours.on_trial_complete("never-reported", error=True)  # restored, killed before a result
    assert set(ours.trial_to_params) == {"known"}


def test_optuna_takes_a_resumed_trial_it_never_suggested(space):
    """The same for Optuna's TPE: the stock OptunaSearch raises KeyError; ours adds the trial
    to the Optuna study with the configuration of its result."""
    import optuna
    from ray.tune.search.optuna import OptunaSearch

    from nerhpo.search.algorithms import search_parts
    from nerhpo.search.study import METRIC

    settings, space = space
    ours = search_parts("tpe", settings, space, 7)[0]
    assert isinstance(ours, ray_compat.resumable_optuna_class())
    stock = OptunaSearch(sampler=optuna.samplers.TPESampler(seed=7))
    for searcher in (ours, stock):
        searcher.set_search_properties(METRIC, "max", space)
    config = ours.suggest("known")
    result = {METRIC: 0.6, "training_iteration": 1, "config": config}
    with pytest.raises(KeyError):
        stock.on_trial_result("restored", result)
    with pytest.raises(KeyError):
        stock.on_trial_complete("restored", result)

    ours.on_trial_result("restored", result)
    ours.on_trial_complete("restored", result)
    ours.on_trial_complete("never-reported", error=True)
    ours.on_trial_complete("known", {**result, METRIC: 0.5})
    trials = {t.number: t for t in ours._ot_study.trials}
    assert [t.state.name for t in trials.values()] == ["COMPLETE", "COMPLETE"]
    assert trials[1].params == pytest.approx(config) and trials[1].value == 0.6


def test_each_algorithm_gets_the_patched_parts(space):
    from nerhpo.search.algorithms import search_parts

    settings, space = space
    search, scheduler = search_parts("pbt", settings, space, 7)
    assert isinstance(search, ray_compat.Population)
    assert isinstance(scheduler, ray_compat.SeededPBT) and scheduler._nerhpo_seed == 7
    assert isinstance(
        search_parts("gp", settings, space, 7)[0], ray_compat.resumable_optuna_class()
    )


# -- atomic_storage -------------------------------------------------------------------------------
def test_tune_state_files_appear_only_when_complete(tmp_path):
    """Tune overwrote experiment_state-*.json in place; a job killed during the write left an
    empty file and the resumed study lost its trials. Through atomic_storage the previous
    version stays until the new one is complete."""
    import pyarrow.fs
    from fsspec.implementations.local import LocalFileSystem

    path = tmp_path / "tune" / "experiment_state-1.json"  # tune/ does not exist yet
    stock = pyarrow.fs.PyFileSystem(pyarrow.fs.FSSpecHandler(LocalFileSystem(auto_mkdir=True)))
    ours = ray_compat.atomic_storage()
    for fs in (stock, ours):
        with fs.open_output_stream(str(path)) as stream:
            stream.write(b'{"trials": 4}')
        assert path.read_bytes() == b'{"trials": 4}'

    stream = stock.open_output_stream(str(path))
    assert path.read_bytes() == b""  # the bug: killed now, the state is gone
    stream.close()
    path.write_bytes(b'{"trials": 4}')

    stream = ours.open_output_stream(str(path))
    stream.write(b'{"trials": 5')
    stream.flush()
    assert path.read_bytes() == b'{"trials": 4}'  # killed now: the previous state
    assert len(list(path.parent.glob(".experiment_state-1.json.*.tmp"))) == 1
    stream.write(b"}")
    stream.close()
    assert path.read_bytes() == b'{"trials": 5}'
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    assert path.stat().st_mode & 0o777 == 0o666 & ~current_umask()
    with ours.open_input_stream(str(path)) as stream:  # reading is fsspec's own
        assert stream.read() == b'{"trials": 5}'


# -- trial_ids ------------------------------------------------------------------------------------
def test_trial_ids_come_from_tunes_trials_not_from_metrics(monkeypatch):
    """A reused actor may report another trial's id in its metrics; the ids are read from the
    trials Tune keeps behind the result grid."""
    from ray.tune.result_grid import ResultGrid

    trials = [SimpleNamespace(path=f"/tune/trainable_{i}", trial_id=f"id{i}") for i in range(2)]

    def result(self, trial):
        return SimpleNamespace(path=trial.path, metrics={"trial_id": "id0"})  # a reused actor

    monkeypatch.setattr(ResultGrid, "_trial_to_result", result)
    grid = ResultGrid(SimpleNamespace(trials=trials))
    assert [r.metrics["trial_id"] for r in grid] == ["id0", "id0"]  # the metrics alone
    assert ray_compat.trial_ids(grid) == {"/tune/trainable_0": "id0", "/tune/trainable_1": "id1"}
