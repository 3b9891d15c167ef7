"""Experiments: a target run over a dataset version, scored case by case, stored,
cached and resumable."""

from assay.experiments.calls import CallPolicy
from assay.experiments.experiment import ExperimentResult, run_experiment, run_experiment_async
from assay.experiments.records import RunView, StoredResult, get_run, list_runs, run_results
from assay.experiments.runner import RunStats

__all__ = [
    "CallPolicy",
    "ExperimentResult",
    "RunStats",
    "RunView",
    "StoredResult",
    "get_run",
    "list_runs",
    "run_experiment",
    "run_experiment_async",
    "run_results",
]
