"""Display objects: the numbers they hold and what they draw."""

import warnings

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

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
    for heat in (display.gradient, display.smoothgrad, display.grad_cam):
        assert heat.shape == (3, 48, 48) and (heat >= 0).all()
    np.testing.assert_array_equal(display.y_pred, shapes_clf.predict(X[:3]))
    assert display.grad_cam.max() <= 1
    assert "true" in display.axes_[0, 0].get_title()


def test_mistakes_display(shapes_clf, shapes_data):
    _, (X, y, _) = shapes_data
    display = MistakesDisplay.from_estimator(shapes_clf, X, y, n=3)
    assert 0 < len(display.axes_) <= 3
    assert (display.y_true != display.y_pred).all()
    assert np.all(np.diff(display.confidence) <= 0)
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
