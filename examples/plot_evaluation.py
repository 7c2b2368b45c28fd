"""
===================================================
Evaluating the classifier with scikit-learn's tools
===================================================

The notebook ended with training curves, ROC and precision-recall curves and
a confusion matrix, each drawn by hand. With skcatdog, scikit-learn's own
Display objects draw them straight from the fitted pipeline --
:class:`~sklearn.metrics.RocCurveDisplay`,
:class:`~sklearn.metrics.PrecisionRecallDisplay`,
:class:`~sklearn.metrics.ConfusionMatrixDisplay` -- and skcatdog adds
:class:`~skcatdog.TrainingHistoryDisplay` for the curves and
:func:`~skcatdog.compute_metrics` for the numbers in one dict.

Small demo settings, so that the page builds in well under a minute;
``SKCATDOG_EXAMPLES_FULL=1`` makes it larger.
"""

# %%
# Train a pipeline on the demo photos
# -----------------------------------
import os
from pprint import pprint

import matplotlib.pyplot as plt
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    PrecisionRecallDisplay,
    RocCurveDisplay,
    classification_report,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from skcatdog import DeepCNNClassifier, ImageLoader, TrainingHistoryDisplay, compute_metrics
from skcatdog.datasets import load_demo

FULL = os.environ.get("SKCATDOG_EXAMPLES_FULL") == "1"
N_PER_CLASS = 500 if FULL else 150
IMAGE_SIZE = (48, 48)
EPOCHS = 20 if FULL else 12

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
pipe.fit(p_train, y_train)
print(f"test accuracy: {pipe.score(p_test, y_test):.3f}")

# %%
# Training curves
# ---------------
# ``history_`` holds the loss and accuracy of every epoch on the training
# photos and on the held-out validation photos (``validation_fraction``);
# the weights of the best validation epoch (dashed) were kept.
display = TrainingHistoryDisplay.from_estimator(pipe)

# %%
# ROC and precision-recall curves
# -------------------------------
# The classifiers are scikit-learn classifiers with ``predict_proba`` and
# ``classes_ = ["cat", "dog"]``, so the Displays take the pipeline and the
# test file names as they are. The positive class is ``"dog"``
# (``classes_[1]``).
fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(10, 4.2), layout="constrained")
RocCurveDisplay.from_estimator(pipe, p_test, y_test, ax=ax_roc, plot_chance_level=True)
PrecisionRecallDisplay.from_estimator(pipe, p_test, y_test, ax=ax_pr, plot_chance_level=True)
ax_roc.set_title("ROC curve")
ax_pr.set_title("Precision-recall curve")

# %%
# Confusion matrix
# ----------------
# Rows are the true labels, columns the predicted ones.
ConfusionMatrixDisplay.from_estimator(pipe, p_test, y_test, cmap="Blues", colorbar=False)

# %%
# The numbers
# -----------
# scikit-learn's text report, and skcatdog's :func:`~skcatdog.compute_metrics`:
# the same numbers as a JSON-serialisable dict (what the command line writes
# to ``metrics.json``), from a single pass of the test photos through the
# network.
print(classification_report(y_test, pipe.predict(p_test), digits=3))
pprint(compute_metrics(pipe, p_test, y_test), sort_dicts=False, width=88)
