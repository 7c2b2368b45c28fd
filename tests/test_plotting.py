"""Display objects: the numbers they hold and what they draw."""

import warnings

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skcatdog.inspection import grad_cam, most_confident_mistakes, saliency_map  # noqa: E402
from skcatdog.plotting import (  # noqa: E402
    FeatureMapsDisplay,
    MistakesDisplay,
    SaliencyDisplay,
    TrainingHistoryDisplay,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_history_display_marks_best_epoch(shapes_clf):
    display = TrainingHistoryDisplay.from_estimator(shapes_clf)
    best = shapes_clf.best_epoch_
    assert display.best_epoch == best
    assert len(display.ax_) == 2 and display.figure_ is display.ax_[0].figure
    for marker in display.best_markers_:
        assert list(marker.get_xdata()) == [best + 1, best + 1]
    line = display.lines_["val_accuracy"]
    np.testing.assert_allclose(line.get_ydata(), shapes_clf.history_["val_accuracy"])
    np.testing.assert_array_equal(line.get_xdata(),
                                  np.arange(1, len(shapes_clf.history_["loss"]) + 1))
    # the kept epoch is the best validation accuracy
    assert line.get_ydata()[best] == max(shapes_clf.history_["val_accuracy"])


def test_history_display_on_given_axes_and_without_validation():
    fig, axes = plt.subplots(1, 2)
    display = TrainingHistoryDisplay({"loss": [1.0, 0.5], "accuracy": [0.5, 0.9]}).plot(ax=axes)
    assert display.figure_ is fig and display.best_markers_ == []
    assert sorted(display.lines_) == ["accuracy", "loss"]
    with pytest.raises(ValueError, match="two Axes"):
        display.plot(ax=axes[:1])


def test_history_display_epoch_ticks_are_whole_numbers():
    fig, axes = plt.subplots(1, 2)
    TrainingHistoryDisplay({"loss": [1.0, 0.5, 0.4], "accuracy": [0.5, 0.9, 0.9]}).plot(ax=axes)
    fig.canvas.draw()
    for panel in axes:
        ticks = [t for t in panel.get_xticks() if panel.get_xlim()[0] <= t <= panel.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
    plt.close(fig)


def test_feature_maps_display_one_tile_per_channel(fitted_deep, toy_images):
    X, _ = toy_images
    display = FeatureMapsDisplay.from_estimator(fitted_deep, X[0], n_cols=5)
    for name, values in display.maps.items():
        expected = 1 if values.ndim == 1 else values.shape[-1]
        assert len(display.images_[name]) == expected, name
        assert len(display.axes_[name]) == expected
    assert len(display.images_["conv1_1"]) == 8
    np.testing.assert_array_equal(display.images_["image"][0].get_array(),
                                  X[0].reshape(16, 16, 3))


def test_feature_maps_display_odd_channel_counts_and_limit():
    maps = {"a": np.random.RandomState(0).rand(4, 4, 7), "b": np.ones((3, 3, 1))}
    display = FeatureMapsDisplay(maps).plot(n_cols=3)
    assert len(display.images_["a"]) == 7 and len(display.images_["b"]) == 1
    display = FeatureMapsDisplay(maps).plot(n_cols=3, max_channels=2)
    assert len(display.images_["a"]) == 2


def test_feature_maps_display_constant_channel_no_nan():
    maps = {"conv": np.stack([np.zeros((5, 5)), np.full((5, 5), 3.0),
                              np.arange(25.0).reshape(5, 5)], axis=-1)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        display = FeatureMapsDisplay(maps).plot()
        display.figure_.canvas.draw()
    zero, constant, ramp = (np.asarray(im.get_array()) for im in display.images_["conv"])
    assert not np.isnan(zero).any() and not np.isnan(constant).any()
    assert (constant == 0).all()
    assert ramp.min() == 0 and ramp.max() == 1


def test_saliency_display_values(shapes_clf, shapes_data):
    _, (X, y, _) = shapes_data
    display = SaliencyDisplay.from_estimator(shapes_clf, X[:3], y[:3], random_state=0)
    assert display.axes_.shape == (3, 4)
    # the heatmaps are inspection's, for the same images and settings
    np.testing.assert_allclose(display.gradient, saliency_map(shapes_clf, X[:3]), rtol=1e-6)
    np.testing.assert_allclose(
        display.smoothgrad,
        saliency_map(shapes_clf, X[:3], method="smoothgrad", n_samples=25, noise=0.1,
                     random_state=0),
        rtol=1e-6,
    )
    np.testing.assert_allclose(display.grad_cam, grad_cam(shapes_clf, X[:3]), rtol=1e-6)
    for heat in (display.gradient, display.smoothgrad, display.grad_cam):
        assert heat.shape == (3, 48, 48)
    np.testing.assert_array_equal(display.y_pred, shapes_clf.predict(X[:3]))
    proba = shapes_clf.predict_proba(X[:3])
    np.testing.assert_allclose(display.proba, proba.max(axis=1), rtol=1e-6)
    title = f"true {y[0]}\npred {display.y_pred[0]} ({proba[0].max():.2f})"
    assert display.axes_[0, 0].get_title() == title


def test_mistakes_display(shapes_clf, shapes_data):
    _, (X, y, _) = shapes_data
    # The network makes 0-7 mistakes on these images depending on its seed: call
    # ten cats "dog" so that there are sure to be at least three.
    y = y.copy()
    y[:10] = "dog"
    display = MistakesDisplay.from_estimator(shapes_clf, X, y, n=3)
    indices, y_pred, confidence = most_confident_mistakes(shapes_clf, X, y, n=3)
    assert len(display.axes_) == len(indices) == 3
    np.testing.assert_array_equal(display.indices, indices)
    np.testing.assert_array_equal(display.y_true, y[indices])
    np.testing.assert_array_equal(display.y_pred, y_pred)
    np.testing.assert_allclose(display.confidence, confidence, rtol=1e-6)
    np.testing.assert_array_equal(display.images, X[display.indices].astype(np.float32))
    i = display.indices[0]
    assert display.axes_[0].get_title().startswith(f"true {y[i]}\npred")


def test_mistakes_display_without_mistakes():
    display = MistakesDisplay(np.empty((0, 4, 4, 3)), [], [], []).plot()
    assert len(display.axes_) == 0
    assert "no mistakes" in display.figure_.axes[0].texts[0].get_text()


def test_displays_draw_grayscale_images():
    images = np.random.RandomState(0).randint(0, 256, size=(2, 6, 6, 1))
    heat = np.random.RandomState(1).rand(2, 6, 6)
    SaliencyDisplay(images, gradient=heat).plot()
    display = MistakesDisplay(images, ["cat", "dog"], ["dog", "cat"], [0.9, 0.7]).plot()
    assert display.axes_[0].images[0].get_array().shape == (6, 6)
