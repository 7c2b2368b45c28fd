"""
==============================================================
Inside the network: feature maps, saliency, Grad-CAM, mistakes
==============================================================

The notebook's last cells showed what the convolution layers of the trained
network see. skcatdog computes such pictures from a fitted pipeline:

- :class:`~skcatdog.FeatureMapsDisplay`: every channel of every convolution
  and pooling layer for one photo;
- :class:`~skcatdog.SaliencyDisplay`: which pixels move the prediction
  (gradient saliency and its less noisy average, SmoothGrad) and where in
  the photo the evidence lies (Grad-CAM);
- :class:`~skcatdog.MistakesDisplay`: the test photos it got most
  confidently wrong.

The arrays behind them come from :mod:`skcatdog.inspection`
(:func:`~skcatdog.inspection.feature_maps`,
:func:`~skcatdog.inspection.saliency_map`,
:func:`~skcatdog.inspection.grad_cam`,
:func:`~skcatdog.inspection.most_confident_mistakes`).

Small demo settings, so that the page builds in well under a minute;
``SKCATDOG_EXAMPLES_FULL=1`` makes it larger.
"""

# %%
# Train a pipeline on the demo photos
# -----------------------------------
import os
import tempfile

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from skcatdog import (
    DeepCNNClassifier,
    FeatureMapsDisplay,
    ImageLoader,
    MistakesDisplay,
    SaliencyDisplay,
    write_report,
)
from skcatdog.datasets import load_demo
from skcatdog.inspection import grad_cam

FULL = os.environ.get("SKCATDOG_EXAMPLES_FULL") == "1"
N_PER_CLASS = 500 if FULL else 150
IMAGE_SIZE = (48, 48)
EPOCHS = 20 if FULL else 12

demo = load_demo(n_per_class=N_PER_CLASS, image_size=IMAGE_SIZE, random_state=0)
p_train, p_test, y_train, y_test, box_train, box_test = train_test_split(
    demo.data, demo.target, demo.boxes, test_size=0.25, stratify=demo.target, random_state=0
)
pipe = Pipeline([
    ("load", ImageLoader(image_size=IMAGE_SIZE)),
    ("cnn", DeepCNNClassifier(filters=(16, 32, 32), dense_units=32, dropout=0.2,
                              batch_size=16, learning_rate=0.003, epochs=EPOCHS,
                              random_state=0)),
])
pipe.fit(p_train, y_train)
print(f"test accuracy: {pipe.score(p_test, y_test):.3f}")
print([layer.name for layer in pipe["cnn"].model_.layers])

# %%
# Feature maps
# ------------
# One row of tiles per layer, one tile per channel, for the first test
# photo. The first convolution responds to edges and colours; after each
# pooling the maps are coarser and more abstract.
FeatureMapsDisplay.from_estimator(pipe, p_test[0], max_channels=16)

# %%
# Saliency and Grad-CAM
# ---------------------
# One row per photo (two cats, two dogs): the photo with its true label and
# the predicted label and probability, then three heatmaps over it. The
# gradient saliency is the size of the gradient of the class score with
# respect to each pixel; SmoothGrad averages it over ``n_samples`` noisy
# copies of the photo; Grad-CAM weights the last convolution's maps by their
# gradients, a coarser map of where the evidence lies.
cats, dogs = np.flatnonzero(y_test == "cat")[:2], np.flatnonzero(y_test == "dog")[:2]
rows = np.concatenate([cats, dogs])
SaliencyDisplay.from_estimator(pipe, p_test[rows], y_test[rows],
                               n_samples=25 if FULL else 10, random_state=0)

# %%
# Does the network look at the animal? The demo photos come with the box
# around each animal (``demo.boxes``), so this can be counted: how often does
# the Grad-CAM peak fall inside the box, which covers about a quarter of
# the photo?
heat = grad_cam(pipe, p_test)
peaks = np.array(np.unravel_index(heat.reshape(len(heat), -1).argmax(axis=1), heat.shape[1:])).T
top, left, bottom, right = box_test.T
inside = (peaks[:, 0] >= top) & (peaks[:, 0] < bottom) & (peaks[:, 1] >= left) & (
    peaks[:, 1] < right)
print(f"Grad-CAM peak inside the animal's box for {inside.mean():.0%} of the test photos")

# %%
# The most confident mistakes
# ---------------------------
# The test photos whose wrong label got the highest probability: often the
# most instructive (on real photos: mislabelled files, two animals, a logo).
MistakesDisplay.from_estimator(pipe, p_test, y_test, n=8)

# %%
# All of it in one HTML page
# --------------------------
# :func:`~skcatdog.write_report` writes the metrics and every picture above
# (plus the ROC, precision-recall and confusion-matrix plots) into one
# self-contained ``report.html``, as the command line's ``evaluate`` does.
with tempfile.TemporaryDirectory() as folder:
    report = write_report(pipe, p_test, y_test, folder, title="skcatdog demo")
    print(report.name, f"{report.stat().st_size / 1024:.0f} KiB;",
          sorted(p.name for p in report.parent.glob("*.png")))
