"""The scikit-learn tools and third-party clients users bring, run on the paths Pipeline.

Each client gets the Pipeline users write (``ImageLoader`` then a CNN, file
paths in), tiny and for one epoch: what is checked is that the client works
with it, not the accuracy. Clients tested in other modules are listed in
:data:`ELSEWHERE` (the docs' table of clients names them all).
"""

import pickle

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from skcatdog import ImageLoader, SimpleCNNClassifier

#: Clients whose test lives in another module: client -> test.
ELSEWHERE = {
    "set_config(transform_output='pandas')":
        "tests/test_pipeline.py::test_the_pipeline_under_pandas_output",
    "skops.io dump / load": "tests/test_persistence.py::test_skops_round_trips_a_fitted_pipeline",
    "mlflow.sklearn (skops format) and pyfunc":
        "tests/test_persistence.py::test_mlflow_logs_and_loads_a_fitted_pipeline",
    "joblib Dask backend": "tests/test_scaling.py::test_dask_search_finds_the_serial_best",
    "joblib Ray backend": "tests/test_scaling.py::test_ray_search_finds_the_serial_best",
    "check_estimator": "tests/test_common.py",
}


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """24 small photo files, bright cats and dark dogs, and their labels."""
    folder = tmp_path_factory.mktemp("ecosystem")
    rng = np.random.RandomState(0)
    paths, labels = [], []
    for k in range(24):
        label = ("cat", "dog")[k % 2]
        pixels = rng.randint(0, 256, (12, 12, 3)).astype(np.uint8) // (1 if k % 2 == 0 else 4)
        path = folder / f"{label}.{k}.png"
        Image.fromarray(pixels).save(path)
        paths.append(str(path))
        labels.append(label)
    return np.array(paths, dtype=object), np.array(labels, dtype=object)


def _pipe(**cnn):
    return Pipeline([
        ("load", ImageLoader(image_size=(8, 8))),
        ("cnn", SimpleCNNClassifier(**{"epochs": 1, "filters": 2, "dense_units": 2,
                                       "validation_fraction": 0, "batch_size": 8,
                                       "random_state": 0, **cnn})),
    ])


@pytest.fixture(scope="module")
def fitted(photos):
    return _pipe().fit(*photos)


def _proba_ok(proba, n):
    assert proba.shape == (n, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-5)


# -- model selection -------------------------------------------------------------


@pytest.mark.parametrize("search", ["grid", "randomized", "halving_grid", "halving_random"])
def test_searches(photos, search):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import (
        GridSearchCV,
        HalvingGridSearchCV,
        HalvingRandomSearchCV,
        RandomizedSearchCV,
    )

    grid = {"cnn__dropout": [0.0, 0.5]}
    kinds = {"grid": lambda: GridSearchCV(_pipe(), grid, cv=2),
             "randomized": lambda: RandomizedSearchCV(_pipe(), grid, n_iter=2, cv=2,
                                                      random_state=0),
             "halving_grid": lambda: HalvingGridSearchCV(_pipe(), grid, cv=2, min_resources=12,
                                                         random_state=0),
             "halving_random": lambda: HalvingRandomSearchCV(_pipe(), grid, cv=2, n_candidates=2,
                                                             min_resources=12, random_state=0)}
    found = kinds[search]().fit(*photos)
    assert found.best_params_["cnn__dropout"] in (0.0, 0.5)
    _proba_ok(found.predict_proba(photos[0][:3]), 3)


def test_cross_validation_helpers(photos):
    from sklearn.model_selection import (
        cross_val_predict,
        cross_validate,
        learning_curve,
        validation_curve,
    )

    X, y = photos
    result = cross_validate(_pipe(), X, y, cv=2, return_estimator=True,
                            scoring=["accuracy", "roc_auc", "neg_log_loss"])
    assert len(result["estimator"]) == 2 and np.isfinite(result["test_roc_auc"]).all()
    _proba_ok(cross_val_predict(_pipe(), X, y, cv=2, method="predict_proba"), len(y))
    sizes, train, test = learning_curve(_pipe(), X, y, cv=2, train_sizes=[0.5, 1.0])
    assert test.shape == (2, 2)
    train, test = validation_curve(_pipe(), X, y, param_name="cnn__dropout",
                                   param_range=[0.0, 0.5], cv=2)
    assert test.shape == (2, 2)


def test_metadata_routing_sends_sample_weight_to_the_network(photos):
    import sklearn
    from sklearn.model_selection import cross_validate

    X, y = photos
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = _pipe()
        pipe["cnn"].set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        result = cross_validate(pipe, X, y, cv=2, params={"sample_weight": np.ones(len(y))},
                                error_score="raise")
    assert np.isfinite(result["test_score"]).all()


def test_optuna_study_over_the_pipeline(photos):
    optuna = pytest.importorskip("optuna")
    from sklearn.model_selection import cross_val_score

    X, y = photos
    optuna.logging.set_verbosity(optuna.logging.WARNING)

    def objective(trial):
        dropout = trial.suggest_float("dropout", 0.0, 0.5)
        return cross_val_score(_pipe(dropout=dropout), X, y, cv=2).mean()

    study = optuna.create_study(direction="maximize",
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=2)
    assert 0.0 <= study.best_params["dropout"] <= 0.5


# -- meta-estimators -------------------------------------------------------------


@pytest.mark.parametrize("meta", ["calibrated", "tuned_threshold", "fixed_threshold",
                                  "stacking", "voting", "bagging", "one_vs_rest", "frozen"])
def test_meta_estimators(photos, fitted, meta):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import BaggingClassifier, StackingClassifier, VotingClassifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import FixedThresholdClassifier, TunedThresholdClassifierCV
    from sklearn.multiclass import OneVsRestClassifier

    X, y = photos
    kinds = {
        "calibrated": lambda: CalibratedClassifierCV(_pipe(), cv=2),
        "tuned_threshold": lambda: TunedThresholdClassifierCV(_pipe(), cv=2,
                                                              scoring="balanced_accuracy"),
        "fixed_threshold": lambda: FixedThresholdClassifier(_pipe(), threshold=0.3),
        "stacking": lambda: StackingClassifier([("a", _pipe()), ("b", _pipe(filters=3))],
                                               final_estimator=LogisticRegression(), cv=2),
        "voting": lambda: VotingClassifier([("a", _pipe()), ("b", _pipe(filters=3))],
                                           voting="soft"),
        "bagging": lambda: BaggingClassifier(_pipe(), n_estimators=2, random_state=0),
        "one_vs_rest": lambda: OneVsRestClassifier(_pipe()),
        "frozen": lambda: CalibratedClassifierCV(FrozenEstimator(fitted)),
    }
    if meta == "bagging":  # it wants 2-D X: the paths as one column, which ImageLoader takes
        X = X[:, None]
    model = kinds[meta]().fit(X, y)
    assert set(model.predict(X[:5])) <= {"cat", "dog"}
    if hasattr(model, "predict_proba"):
        _proba_ok(model.predict_proba(X[:5]), 5)


# -- caching, copying, showing ------------------------------------------------------


def test_joblib_memory_caches_the_loader(photos, tmp_path):
    X, y = photos
    memory = joblib.Memory(tmp_path / "cache", verbose=0)
    first = Pipeline(_pipe().steps, memory=memory).fit(X, y)
    again = Pipeline(_pipe().steps, memory=memory).fit(X, y)
    assert any((tmp_path / "cache").rglob("*.pkl"))  # the loader's fit was stored
    np.testing.assert_allclose(first.predict_proba(X), again.predict_proba(X), atol=1e-6)


def test_clone_pickle_and_html_repr(photos, fitted):
    from sklearn.utils import estimator_html_repr

    X, _ = photos
    assert clone(fitted).get_params()["cnn__filters"] == 2
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(again.predict_proba(X), fitted.predict_proba(X), atol=1e-6)
    assert "SimpleCNNClassifier" in estimator_html_repr(fitted)


def test_displays_and_scorers(photos, fitted):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import (
        ConfusionMatrixDisplay,
        DetCurveDisplay,
        PrecisionRecallDisplay,
        RocCurveDisplay,
        classification_report,
        get_scorer,
    )

    X, y = photos
    try:
        for display in (RocCurveDisplay, PrecisionRecallDisplay, DetCurveDisplay,
                        ConfusionMatrixDisplay):
            display.from_estimator(fitted, X, y)
    finally:
        plt.close("all")
    assert "cat" in classification_report(y, fitted.predict(X))
    # (not "average_precision": its pos_label=1 cannot name a class of string labels)
    for scorer in ("roc_auc", "neg_log_loss", "balanced_accuracy", "f1_macro"):
        assert np.isfinite(get_scorer(scorer)(fitted, X, y))


def test_mlflow_with_cloudpickle(photos, fitted, tmp_path, monkeypatch):
    pytest.importorskip("mlflow")
    import mlflow
    import mlflow.sklearn  # noqa: F401  (mlflow.sklearn.log_model below)

    X, _ = photos
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri((tmp_path / "mlruns").as_uri())
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(fitted, name="model", serialization_format="cloudpickle")
    loaded = mlflow.sklearn.load_model(info.model_uri)
    np.testing.assert_allclose(loaded.predict_proba(X), fitted.predict_proba(X), atol=1e-6)
