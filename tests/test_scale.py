"""Beyond one device: a MirroredStrategy, a Dask cluster, prediction in partitions."""

import sys

import numpy as np
import pytest

from conftest import run_python, sentiment, tiny_classifier

MIRRORED = """
import sys
sys.path.insert(0, {tests!r})
import numpy as np
import pytest
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
two = [tf.config.LogicalDeviceConfiguration()] * 2
tf.config.set_logical_device_configuration(cpu, two)
from conftest import sentiment, tiny_classifier

X, y = sentiment(64, seed=0)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
assert strategy.num_replicas_in_sync == 2
frozen = dict(train_encoder=False, head="sequence", head__pooling="mean",
              head__dropout=0.0, epochs=2, learning_rate=3e-2)
one = tiny_classifier(**frozen).fit(X, y).predict_proba(X)
two = tiny_classifier(**frozen, distribute_strategy=strategy).fit(X, y).predict_proba(X)
np.testing.assert_allclose(two, one, atol=1e-5)
tuned = tiny_classifier(epochs=8, distribute_strategy=strategy).fit(X, y)
assert tuned.score(X, y) > 0.8, tuned.score(X, y)
print("max difference", np.abs(two - one).max())
"""


@pytest.mark.slow
def test_mirrored_strategy_over_two_cpus_matches_one_device():
    tests = str(__import__("pathlib").Path(__file__).parent)
    out = run_python(MIRRORED.format(tests=tests)).stdout
    assert "max difference" in out


def test_a_strategy_is_checked_and_not_pickled(toy):
    import pickle

    import pytest
    import tensorflow as tf
    from sklearn.base import clone

    X, y, _, _ = toy
    with pytest.raises(TypeError, match="tf.distribute.Strategy"):
        tiny_classifier(distribute_strategy="mirrored").fit(X[:8], y[:8])
    clf = tiny_classifier(distribute_strategy=tf.distribute.MirroredStrategy())
    assert isinstance(clone(clf).distribute_strategy, tf.distribute.Strategy)
    assert pickle.loads(pickle.dumps(clf)).distribute_strategy is None


@pytest.mark.slow
def test_grid_search_and_partitioned_prediction_on_a_dask_cluster(toy):
    import cloudpickle
    import dask.dataframe as dd
    import joblib
    import pandas as pd
    from dask.distributed import Client, LocalCluster
    from sklearn.model_selection import GridSearchCV

    X, y, X_test, _ = toy
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        grid = GridSearchCV(
            tiny_classifier(train_encoder=False, head="sequence", epochs=3),
            {"head__pooling": ["mean", "max"], "learning_rate": [3e-2, 1e-1]},
            cv=2,
        )
        with joblib.parallel_backend("dask"):
            grid.fit(X, y)
        encoded = client.run(_texts_encoded)
        assert len(encoded) == 2 and all(n > 0 for n in encoded.values())
        best = grid.best_estimator_
        frame = dd.from_pandas(pd.DataFrame({"text": X_test}), npartitions=3)
        proba = frame["text"].map_partitions(
            lambda part: pd.Series(best.predict_proba(part)[:, 1], index=part.index),
            meta=("proba", "f8"),
        )
        np.testing.assert_allclose(
            proba.compute().to_numpy(), best.predict_proba(X_test)[:, 1], atol=1e-6
        )


@pytest.mark.slow
def test_incremental_search_on_a_dask_cluster(toy):
    import dask.array as da
    from dask.distributed import Client, LocalCluster
    from dask_ml.model_selection import IncrementalSearchCV

    _, _, X_test, y_test = toy
    # dask_ml trains on one chunk per call: chunks of 15 batches learn in a few.
    X, y = sentiment(480, seed=0)
    texts = da.from_array(np.asarray(X, dtype=object), chunks=120)
    labels = da.from_array(np.asarray(y, dtype=object), chunks=120)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster),
    ):
        search = IncrementalSearchCV(
            tiny_classifier(),
            {"learning_rate": [1e-5, 3e-3], "head__dropout": [0.0, 0.1]},
            n_initial_parameters="grid",
            max_iter=6,
            test_size=0.25,
            random_state=0,
        )
        search.fit(texts, labels, classes=["neg", "pos"])
    calls = {h["model_id"]: h["partial_fit_calls"] for h in search.history_}
    assert len(calls) == 4 and max(calls.values()) > 1, calls
    best = search.best_estimator_
    best_id = search.cv_results_["model_id"][search.best_index_]
    assert best.learning_rate == 3e-3, search.history_
    assert best.n_iter_ == calls[best_id], search.history_
    assert best.score(X_test, y_test) > 0.8


def _texts_encoded():
    import skbert

    return skbert.feature_cache_info()["texts_encoded"]
