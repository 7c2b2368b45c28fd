"""
=============================================
Tuning the network with GridSearchCV
=============================================

The notebook tried two networks by hand. Because skcatdog's classifiers are
scikit-learn estimators whose every architectural choice is a constructor
parameter, scikit-learn's own tools can do the trying:
:func:`~sklearn.model_selection.cross_val_score` measures one setting,
:class:`~sklearn.model_selection.GridSearchCV` compares many, both with
stratified folds (the classifiers are recognised as classifiers) and both on
a :class:`~sklearn.pipeline.Pipeline` that takes file names.

The search here is deliberately tiny (few photos, few epochs, two folds) so
that the page builds in well under a minute; on so few photos, differences
of a few points are within the noise. ``SKCATDOG_EXAMPLES_FULL=1`` makes it
larger.
"""

# %%
# The data and the pipeline
# -------------------------
import os

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import Pipeline

from skcatdog import DeepCNNClassifier, ImageAugmenter, ImageLoader
from skcatdog.datasets import load_demo

FULL = os.environ.get("SKCATDOG_EXAMPLES_FULL") == "1"
N_PER_CLASS = 300 if FULL else 160
IMAGE_SIZE = (48, 48)
EPOCHS = 15 if FULL else 10
CV = 3 if FULL else 2

paths, labels = load_demo(n_per_class=N_PER_CLASS, image_size=IMAGE_SIZE, random_state=0,
                          return_X_y=True)
p_train, p_test, y_train, y_test = train_test_split(
    paths, labels, test_size=0.25, stratify=labels, random_state=0
)

pipe = Pipeline([
    ("load", ImageLoader(image_size=IMAGE_SIZE)),
    ("cnn", DeepCNNClassifier(filters=(16, 32, 32), dense_units=32, dropout=0.2,
                              batch_size=16, learning_rate=0.003, epochs=EPOCHS,
                              random_state=0)),
])

# %%
# One setting, cross-validated
# ----------------------------
# ``cross_val_score`` fits a fresh clone of the pipeline on each fold. The
# :class:`~skcatdog.ImageLoader` keeps decoded photos in a per-process cache,
# so each file is decoded once however many times the folds read it.
scores = cross_val_score(pipe, p_train, y_train, cv=CV)
print(f"accuracy per fold: {np.round(scores, 3)}, mean {scores.mean():.3f}")

# %%
# A grid of settings
# ------------------
# Parameters of a pipeline step are named ``<step>__<parameter>``. A list of
# grids varies one thing at a time around the pipeline above: the number of
# convolution blocks, the dropout rate, and augmentation (an
# :class:`~skcatdog.ImageAugmenter` is itself a parameter value). The
# candidate ``n_conv_layers=3`` is the pipeline as it stands, so its fold
# scores are the ones ``cross_val_score`` gave above: training is repeatable
# with a fixed ``random_state`` on CPU.
flip_zoom = ImageAugmenter(horizontal_flip=True, zoom_range=0.1, random_state=0)
param_grid = [
    {"cnn__n_conv_layers": [2, 3]},
    {"cnn__dropout": [0.5]},
    {"cnn__augmentation": [flip_zoom]},
]
if FULL:
    param_grid = {
        "cnn__n_conv_layers": [2, 3],
        "cnn__dropout": [0.2, 0.5],
        "cnn__augmentation": [None, flip_zoom],
    }
search = GridSearchCV(pipe, param_grid, cv=CV)
search.fit(p_train, y_train)
print("best:", search.best_params_, f"cross-validated accuracy {search.best_score_:.3f}")

# %%
# ``cv_results_`` holds every candidate's scores; pandas makes it a table. A
# short name per candidate keeps it (and the figure's labels) narrow.
names = {id(flip_zoom): "flip+zoom", id(None): "none"}


def candidate(params):
    return ", ".join(f"{k.removeprefix('cnn__')}={names.get(id(v), v)}"
                     for k, v in params.items())


results = pd.DataFrame(search.cv_results_)
table = pd.DataFrame({
    "candidate": results["params"].map(candidate),
    "accuracy": results["mean_test_score"].round(3),
    "std": results["std_test_score"].round(3),
    "fit (s)": results["mean_fit_time"].round(1),
    "rank": results["rank_test_score"],
}).sort_values("rank")
print(table.to_string(index=False))

# %%
# The same numbers as a picture, with one standard deviation across folds.
fig, ax = plt.subplots(figsize=(7, 0.8 + 0.45 * len(table)), layout="constrained")
ax.errorbar(table["accuracy"], np.arange(len(table)), xerr=table["std"],
            fmt="o", capsize=3)
ax.set_yticks(np.arange(len(table)), table["candidate"])
ax.invert_yaxis()
ax.set_xlabel("cross-validated accuracy")
ax.set_title("GridSearchCV candidates, best on top", loc="left", fontsize="medium")
ax.grid(axis="x", alpha=0.3)

# %%
# The best pipeline, refitted on all training photos
# --------------------------------------------------
# ``GridSearchCV`` refits the best candidate on the whole training set; it
# predicts from file names like any pipeline.
print(f"test accuracy of the best pipeline: {search.score(p_test, y_test):.3f}")
print(search.best_estimator_.predict(p_test[:5]), y_test[:5])
