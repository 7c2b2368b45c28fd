"""Display objects in scikit-learn's style for the CNN classifiers.

Each Display holds the numbers as attributes, has a ``from_estimator``
class method that computes them from a fitted classifier (or a fitted
Pipeline ending in one), and a ``plot`` method that draws them and stores
the Matplotlib objects (``figure_``, ``ax_`` or ``axes_``). Matplotlib is
imported only when drawing.

For ROC and precision-recall curves and confusion matrices, use
scikit-learn's own :class:`~sklearn.metrics.RocCurveDisplay`,
:class:`~sklearn.metrics.PrecisionRecallDisplay` and
:class:`~sklearn.metrics.ConfusionMatrixDisplay`: they work on these
classifiers as they are.
"""

import math
import os

import numpy as np

from skcatdog.inspection import (
    _images,
    _predict_proba,
    _split_estimator,
    feature_maps,
    grad_cam,
    most_confident_mistakes,
    saliency_map,
)

__all__ = ["TrainingHistoryDisplay", "FeatureMapsDisplay", "SaliencyDisplay", "MistakesDisplay"]


def _scale01(a):
    """``a`` scaled to ``[0, 1]``; a constant array gives zeros (no 0/0)."""
    a = np.asarray(a, dtype=np.float64)
    low, high = (a.min(), a.max()) if a.size else (0.0, 0.0)
    if not np.isfinite(low) or not np.isfinite(high) or high <= low:
        return np.zeros_like(a)
    return (a - low) / (high - low)


def _show_photo(ax, image):
    """Draw a uint8 / [0, 255] image; one channel in grey."""
    image = np.clip(np.asarray(image), 0, 255).astype(np.uint8)
    if image.ndim == 3 and image.shape[2] == 1:
        return ax.imshow(image[..., 0], cmap="gray", vmin=0, vmax=255)
    return ax.imshow(image)


def _shortened(name, width=24):
    """``name`` in at most ``width`` characters, cut in the middle.

    >>> _shortened("IMG_20240101_120000_portrait_of_the_cat.jpg")
    'IMG_20240101…the_cat.jpg'
    """
    if len(name) <= width:
        return name
    tail = (width - 1) // 2
    return name[:width - 1 - tail] + "…" + name[-tail:]


def _new_figure(fig, figsize):
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=figsize, layout="constrained")
    return fig


class TrainingHistoryDisplay:
    """Training curves: accuracy and loss per epoch, training vs validation.

    The epoch whose weights the classifier kept (``best_epoch_``) is marked
    on both panels. Epochs are numbered from 1 on the x axis, so epoch index
    ``best_epoch`` is drawn at ``x = best_epoch + 1``.

    Parameters
    ----------
    history : dict of str to list of float
        Per-epoch values, e.g. ``loss``, ``accuracy``, ``val_loss``,
        ``val_accuracy`` (a classifier's ``history_``).
    best_epoch : int, default=None
        Index of the epoch to mark; None marks none.
    estimator_name : str, default=None
        Shown in the title.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
    ax_ : ndarray of two matplotlib Axes
        Accuracy on the left, loss on the right.
    lines_ : dict of str to matplotlib.lines.Line2D
        One line per history key drawn.
    best_markers_ : list of matplotlib.lines.Line2D
        The vertical marks at the best epoch, one per panel.

    See Also
    --------
    skcatdog.DeepCNNClassifier : its ``history_`` and ``best_epoch_``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcatdog.plotting import TrainingHistoryDisplay
    >>> history = {"accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.5, 0.75, 0.7],
    ...            "loss": [0.7, 0.5, 0.4], "val_loss": [0.7, 0.55, 0.6]}
    >>> display = TrainingHistoryDisplay(history, best_epoch=1).plot()
    >>> display.best_markers_[0].get_xdata()
    [2, 2]
    >>> sorted(display.lines_)
    ['accuracy', 'loss', 'val_accuracy', 'val_loss']
    """

    def __init__(self, history, *, best_epoch=None, estimator_name=None):
        self.history = history
        self.best_epoch = best_epoch
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, **kwargs):
        """Read ``history_`` and ``best_epoch_`` of a fitted classifier and plot them.

        Parameters
        ----------
        estimator : fitted classifier or Pipeline
            A fitted skcatdog CNN classifier or a Pipeline ending in one.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : TrainingHistoryDisplay
        """
        _, clf = _split_estimator(estimator)
        display = cls(
            {key: list(map(float, values)) for key, values in clf.history_.items()},
            best_epoch=getattr(clf, "best_epoch_", None),
            estimator_name=type(clf).__name__,
        )
        return display.plot(**kwargs)

    def plot(self, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : sequence of two matplotlib Axes, default=None
            Where to draw accuracy and loss; None makes a new figure.

        Returns
        -------
        display : TrainingHistoryDisplay
        """
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        if ax is None:
            fig, ax = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
        ax = np.asarray(ax, dtype=object).ravel()
        if ax.size != 2:
            raise ValueError(f"ax must hold two Axes (accuracy, loss); got {ax.size}.")
        self.lines_ = {}
        self.best_markers_ = []
        for panel, metric in zip(ax, ("accuracy", "loss")):
            for prefix, label, style in (("", "training", "-o"), ("val_", "validation", "-s")):
                values = self.history.get(prefix + metric)
                if values:
                    epochs = np.arange(1, len(values) + 1)
                    (self.lines_[prefix + metric],) = panel.plot(
                        epochs, values, style, markersize=3, label=label
                    )
            if self.best_epoch is not None:
                self.best_markers_.append(
                    panel.axvline(self.best_epoch + 1, color="0.4", linestyle="--",
                                  label=f"kept: epoch {self.best_epoch + 1}")
                )
            panel.set_xlabel("epoch")
            panel.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 2.5
            panel.set_ylabel(metric)
            panel.grid(alpha=0.3)
            if panel.get_legend_handles_labels()[0]:
                panel.legend(loc="best", fontsize="small")
        if self.estimator_name:
            ax[0].set_title(self.estimator_name, loc="left", fontsize="medium")
        self.ax_ = ax
        self.figure_ = ax[0].figure
        return self


class FeatureMapsDisplay:
    """The activations of a network's layers for one image, one tile per channel.

    Each layer gets a block of tiles (``n_cols`` per row), one per channel,
    each scaled to its own range; a constant channel (a dead ReLU, say) is
    drawn uniformly dark rather than divided by zero. A dense layer is one
    strip of its units.

    Parameters
    ----------
    maps : dict of str to ndarray
        Layer name to activation ``(h, w, channels)`` or ``(units,)``, as
        :func:`~skcatdog.inspection.feature_maps` returns.
    image : ndarray of shape (h, w, c), default=None
        The input image, drawn first if given.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
    axes_ : dict of str to ndarray of matplotlib Axes
        Per layer, one Axes per tile drawn (``"image"`` for the input).
    images_ : dict of str to list of matplotlib.image.AxesImage
        Per layer, the drawn tiles with their scaled data.

    See Also
    --------
    skcatdog.inspection.feature_maps : The numbers.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skcatdog.plotting import FeatureMapsDisplay
    >>> maps = {"conv1_1": np.random.RandomState(0).rand(6, 6, 5), "dense": np.ones(4)}
    >>> display = FeatureMapsDisplay(maps).plot(n_cols=4)
    >>> len(display.images_["conv1_1"]), len(display.images_["dense"])
    (5, 1)
    """

    def __init__(self, maps, *, image=None):
        self.maps = maps
        self.image = image

    @classmethod
    def from_estimator(cls, estimator, image, *, layers=None, **kwargs):
        """Compute the feature maps of one image and plot them.

        Parameters
        ----------
        estimator : fitted classifier or Pipeline
            A fitted skcatdog CNN classifier or a Pipeline ending in one.
        image : str, path or array-like
            One image, as :func:`~skcatdog.inspection.feature_maps` takes it.
        layers : list of str, default=None
            Layers to show; None shows convolutions, poolings and the dense layer.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : FeatureMapsDisplay
        """
        from skcatdog.inspection import _one_image

        maps = feature_maps(estimator, image, layers=layers)
        return cls(maps, image=_one_image(estimator, image)[0]).plot(**kwargs)

    def _layout(self, n_cols, max_channels):
        """``[(layer name, tiles or None for the image)]`` and the tile rows of each."""
        blocks = []
        if self.image is not None:
            blocks.append(("image", None))
        for name, values in self.maps.items():
            values = np.asarray(values)
            if values.ndim == 1:
                tiles = [values[None, :]]
            elif values.ndim == 3:
                tiles = [values[:, :, k] for k in range(values.shape[2])][:max_channels]
            else:
                raise ValueError(
                    f"Layer {name!r}: expected (h, w, channels) or (units,), got {values.shape}."
                )
            blocks.append((name, tiles))
        rows = [1 if tiles is None or len(tiles) == 1 else math.ceil(len(tiles) / n_cols)
                for _, tiles in blocks]
        return blocks, rows

    def _heights(self, n_cols, max_channels):
        # a dense layer's strip needs less height than a row of square tiles
        blocks, rows = self._layout(n_cols, max_channels)
        return [0.4 if tiles is not None and tiles[0].shape[0] == 1 else r
                for (_, tiles), r in zip(blocks, rows)]

    def _figsize(self, n_cols=16, max_channels=None):
        heights = self._heights(n_cols, max_channels)
        return (n_cols * 0.75 + 0.5, sum(heights) * 0.8 + 0.45 * len(heights))

    def plot(self, fig=None, *, n_cols=16, max_channels=None, cmap="viridis", mosaic=False):
        """Draw the tiles.

        Parameters
        ----------
        fig : matplotlib Figure, default=None
            Figure to draw in (it is filled with subfigures); None makes one.
        n_cols : int, default=16
            Tiles per row.
        max_channels : int, default=None
            Draw at most this many channels per layer; None draws all.
        cmap : str, default="viridis"
            Colour map of the tiles.
        mosaic : bool, default=False
            Draw each layer's tiles as one image (one Axes per layer, the
            tiles one pixel apart) instead of one Axes per tile: the same
            picture, drawn many times faster when there are many channels.
            ``axes_`` and ``images_`` then hold one entry per layer.

        Returns
        -------
        display : FeatureMapsDisplay
        """
        if n_cols < 1:
            raise ValueError(f"n_cols must be at least 1; got {n_cols}.")
        blocks, rows = self._layout(n_cols, max_channels)
        fig = _new_figure(fig, self._figsize(n_cols, max_channels))
        heights = self._heights(n_cols, max_channels)
        if mosaic:
            return self._plot_mosaic(fig, blocks, heights, n_cols, cmap)
        subfigs = np.atleast_1d(
            fig.subfigures(len(blocks), 1, height_ratios=[h + 0.5 for h in heights])
        )
        self.axes_, self.images_ = {}, {}
        for subfig, (name, tiles), n_rows in zip(subfigs, blocks, rows):
            if tiles is None:
                ax = subfig.subplots(1, 1)
                self.images_[name] = [_show_photo(ax, self.image)]
                ax.set_axis_off()
                self.axes_[name] = np.array([ax])
                subfig.suptitle("input image", fontsize="small", x=0.01, ha="left")
                continue
            cols = 1 if len(tiles) == 1 else n_cols
            axes = np.atleast_1d(subfig.subplots(n_rows, cols, squeeze=False).ravel())
            drawn = []
            for ax, tile in zip(axes, tiles):
                drawn.append(ax.imshow(_scale01(tile), cmap=cmap, vmin=0, vmax=1,
                                       interpolation="nearest", aspect="auto"
                                       if tile.shape[0] == 1 else "equal"))
            for ax in axes:
                ax.set_axis_off()
            shape = np.asarray(self.maps[name]).shape
            subfig.suptitle(f"{name} {shape}", fontsize="small", x=0.01, ha="left")
            self.axes_[name] = axes[:len(tiles)]
            self.images_[name] = drawn
        self.figure_ = fig
        return self

    def _plot_mosaic(self, fig, blocks, heights, n_cols, cmap):
        import matplotlib

        colours = matplotlib.colormaps[cmap].with_extremes(bad="white")  # the gaps
        axes = np.atleast_1d(fig.subplots(len(blocks), 1, height_ratios=heights))
        self.axes_, self.images_ = {}, {}
        for ax, (name, tiles) in zip(axes, blocks):
            ax.set_axis_off()
            self.axes_[name] = np.array([ax])
            if tiles is None:
                self.images_[name] = [_show_photo(ax, self.image)]
                ax.set_title("input image", fontsize="small", loc="left")
                continue
            h, w = tiles[0].shape
            cols = min(n_cols, len(tiles))
            n_rows = math.ceil(len(tiles) / cols)
            sheet = np.full((n_rows * (h + 1) - 1, cols * (w + 1) - 1), np.nan)
            for k, tile in enumerate(tiles):
                r, c = divmod(k, cols)
                sheet[r * (h + 1):r * (h + 1) + h, c * (w + 1):c * (w + 1) + w] = _scale01(tile)
            self.images_[name] = [ax.imshow(sheet, cmap=colours, vmin=0, vmax=1,
                                            interpolation="nearest",
                                            aspect="auto" if h == 1 else "equal")]
            shape = np.asarray(self.maps[name]).shape
            ax.set_title(f"{name} {shape}", fontsize="small", loc="left")
        self.figure_ = fig
        return self


class SaliencyDisplay:
    """Where the network looks: gradient, SmoothGrad and Grad-CAM on the photos.

    One row per image: the photo with its true and predicted label, then the
    vanilla gradient saliency, SmoothGrad and Grad-CAM, each overlaid on the
    photo. Each heatmap is scaled to its own maximum for drawing.

    Parameters
    ----------
    images : ndarray of shape (n, h, w, c)
        The photos, pixel values in ``[0, 255]``.
    gradient, smoothgrad, grad_cam : ndarray of shape (n, h, w)
        The heatmaps (:func:`~skcatdog.inspection.saliency_map`,
        :func:`~skcatdog.inspection.grad_cam`); any of them may be None.
    y_true, y_pred : array-like of shape (n,), default=None
        Labels for the titles.
    proba : array-like of shape (n,), default=None
        Predicted probability of ``y_pred``.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
    axes_ : ndarray of matplotlib Axes of shape (n, n_columns)

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skcatdog.plotting import SaliencyDisplay
    >>> rng = np.random.RandomState(0)
    >>> images = rng.randint(0, 256, size=(2, 8, 8, 3))
    >>> heat = rng.rand(2, 8, 8)
    >>> display = SaliencyDisplay(images, gradient=heat, grad_cam=heat).plot()
    >>> display.axes_.shape
    (2, 3)
    """

    def __init__(self, images, *, gradient=None, smoothgrad=None, grad_cam=None,
                 y_true=None, y_pred=None, proba=None):
        self.images = images
        self.gradient = gradient
        self.smoothgrad = smoothgrad
        self.grad_cam = grad_cam
        self.y_true = y_true
        self.y_pred = y_pred
        self.proba = proba

    @classmethod
    def from_estimator(cls, estimator, X, y=None, *, layer=None, n_samples=25, noise=0.1,
                       random_state=None, **kwargs):
        """Compute the three heatmaps for the images ``X`` and plot them.

        Parameters
        ----------
        estimator : fitted classifier or Pipeline
            A fitted skcatdog CNN classifier or a Pipeline ending in one.
        X : array-like
            A few images (paths for a pipeline that loads them).
        y : array-like, default=None
            Their true labels, for the titles.
        layer : str, default=None
            Grad-CAM's layer; None means the last convolution.
        n_samples, noise, random_state :
            SmoothGrad's, see :func:`~skcatdog.inspection.saliency_map`.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : SaliencyDisplay
        """
        _, clf = _split_estimator(estimator)
        images = _images(estimator, X)
        proba = _predict_proba(clf, images, len(images))
        best = proba.argmax(axis=1)
        display = cls(
            images,
            gradient=saliency_map(clf, images),
            smoothgrad=saliency_map(clf, images, method="smoothgrad", n_samples=n_samples,
                                    noise=noise, random_state=random_state),
            grad_cam=grad_cam(clf, images, layer=layer),
            y_true=None if y is None else np.asarray(y),
            y_pred=np.asarray(clf.classes_)[best],
            proba=proba[np.arange(len(proba)), best],
        )
        return display.plot(**kwargs)

    def plot(self, fig=None, *, alpha=0.55, cmap="inferno"):
        """Draw one row per image.

        Parameters
        ----------
        fig : matplotlib Figure, default=None
            Figure to draw in; None makes one.
        alpha : float, default=0.55
            Opacity of the heatmaps over the photos.
        cmap : str, default="inferno"
            Colour map of the heatmaps.

        Returns
        -------
        display : SaliencyDisplay
        """
        columns = [(title, heat) for title, heat in (
            ("gradient", self.gradient), ("SmoothGrad", self.smoothgrad),
            ("Grad-CAM", self.grad_cam)) if heat is not None]
        n = len(self.images)
        fig = _new_figure(fig, self._figsize())
        axes = fig.subplots(max(n, 1), 1 + len(columns), squeeze=False)
        for i in range(n):
            _show_photo(axes[i, 0], self.images[i])
            axes[i, 0].set_title(self._label(i), fontsize="small")
            for j, (title, heat) in enumerate(columns, start=1):
                photo = np.asarray(self.images[i], dtype=np.float64)
                _show_photo(axes[i, j], photo.mean(axis=-1, keepdims=True))  # grey under colour
                axes[i, j].imshow(_scale01(heat[i]), cmap=cmap, vmin=0, vmax=1, alpha=alpha)
                if i == 0:
                    axes[i, j].set_title(title, fontsize="small")
        for ax in axes.ravel():
            ax.set_axis_off()
        self.axes_ = axes
        self.figure_ = fig
        return self

    def _figsize(self):
        columns = sum(heat is not None for heat in (self.gradient, self.smoothgrad,
                                                    self.grad_cam))
        return (2.2 * (1 + columns), 2.3 * max(len(self.images), 1))

    def _label(self, i):
        parts = []
        if self.y_true is not None:
            parts.append(f"true {self.y_true[i]}")
        if self.y_pred is not None:
            pred = f"pred {self.y_pred[i]}"
            if self.proba is not None:
                pred += f" ({self.proba[i]:.2f})"
            parts.append(pred)
        return "\n".join(parts)


class MistakesDisplay:
    """The most confidently misclassified photos, with true label and probability.

    Parameters
    ----------
    images : ndarray of shape (n, h, w, c)
        The misclassified photos, most confident first.
    y_true, y_pred : array-like of shape (n,)
        Their true and predicted labels.
    confidence : array-like of shape (n,)
        Predicted probability of ``y_pred``.
    indices : array-like of shape (n,), default=None
        Their positions in the test set.
    names : array-like of str of shape (n,), default=None
        Their file names, shown above each photo (long names are shortened
        in the middle) so that a mislabelled photo can be found.

    Attributes
    ----------
    figure_ : matplotlib.figure.Figure
    axes_ : ndarray of matplotlib Axes
        One per photo (empty when there are no mistakes).

    See Also
    --------
    skcatdog.inspection.most_confident_mistakes : The numbers.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skcatdog.plotting import MistakesDisplay
    >>> images = np.zeros((3, 8, 8, 3), dtype=np.uint8)
    >>> display = MistakesDisplay(images, ["cat", "dog", "cat"], ["dog", "cat", "dog"],
    ...                           [0.9, 0.8, 0.6]).plot(n_cols=2)
    >>> len(display.axes_), display.axes_[0].get_title()
    (3, 'true cat\\npred dog (0.90)')
    """

    def __init__(self, images, y_true, y_pred, confidence, *, indices=None, names=None):
        self.images = images
        self.y_true = y_true
        self.y_pred = y_pred
        self.confidence = confidence
        self.indices = indices
        self.names = names

    @classmethod
    def from_estimator(cls, estimator, X, y, *, n=8, **kwargs):
        """Find the ``n`` most confident mistakes on ``(X, y)`` and plot them.

        Parameters
        ----------
        estimator : fitted classifier or Pipeline
            A fitted skcatdog CNN classifier or a Pipeline ending in one.
        X : array-like
            Test images (paths for a pipeline that loads them).
        y : array-like
            Their true labels.
        n : int, default=8
            Number of mistakes to show at most.
        **kwargs : dict
            Passed to :meth:`plot`.

        Returns
        -------
        display : MistakesDisplay
        """
        indices, y_pred, confidence = most_confident_mistakes(estimator, X, y, n=n)
        _, clf = _split_estimator(estimator)
        if len(indices):
            X_wrong = [X[i] for i in indices] if isinstance(X, list) else np.asarray(X)[indices]
            images = _images(estimator, X_wrong)
        else:
            images = np.empty((0, *clf.image_shape_), dtype=np.float32)
        names = None
        if len(indices) and all(isinstance(X[i], (str, os.PathLike)) for i in indices):
            names = [os.path.basename(X[i]) for i in indices]
        display = cls(images, np.asarray(y)[indices], y_pred, confidence, indices=indices,
                      names=names)
        return display.plot(**kwargs)

    def _figsize(self, n_cols=4):
        n = len(self.images)
        n_cols = max(1, min(n_cols, n))
        return (2.2 * n_cols + 0.3, 2.4 * max(1, math.ceil(n / n_cols)))

    def plot(self, fig=None, *, n_cols=4):
        """Draw the photos in a grid.

        Parameters
        ----------
        fig : matplotlib Figure, default=None
            Figure to draw in; None makes one.
        n_cols : int, default=4
            Photos per row.

        Returns
        -------
        display : MistakesDisplay
        """
        n = len(self.images)
        n_cols = max(1, min(n_cols, n))
        n_rows = max(1, math.ceil(n / n_cols))
        fig = _new_figure(fig, self._figsize(n_cols))
        if n == 0:
            ax = fig.subplots()
            ax.text(0.5, 0.5, "no mistakes", ha="center", va="center")
            ax.set_axis_off()
            self.axes_ = np.array([], dtype=object)
            self.figure_ = fig
            return self
        axes = fig.subplots(n_rows, n_cols, squeeze=False).ravel()
        for i, ax in enumerate(axes):
            ax.set_axis_off()
            if i >= n:
                continue
            _show_photo(ax, self.images[i])
            name = "" if self.names is None else f"{_shortened(str(self.names[i]))}\n"
            ax.set_title(f"{name}true {self.y_true[i]}\npred {self.y_pred[i]} "
                         f"({float(self.confidence[i]):.2f})", fontsize="small")
        self.axes_ = axes[:n]
        self.figure_ = fig
        return self
