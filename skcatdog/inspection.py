"""Look inside a fitted CNN: feature maps, saliency, Grad-CAM and mistakes.

Numbers only: every function returns NumPy arrays, and
:mod:`skcatdog.plotting` draws them. Each takes a fitted
:class:`~skcatdog.SimpleCNNClassifier` / :class:`~skcatdog.DeepCNNClassifier`,
or a fitted :class:`~sklearn.pipeline.Pipeline` ending in one (then images are
given as whatever the pipeline takes, usually file paths).

Gradients are taken with TensorFlow's ``GradientTape`` on the Keras model in
inference mode (augmentation and dropout off), with respect to the pixels in
``[0, 255]`` the model receives.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

__all__ = ["feature_maps", "saliency_map", "grad_cam", "most_confident_mistakes"]


# -- helpers shared with skcatdog.plotting ------------------------------------


def _split_estimator(estimator):
    """``(preprocessing or None, classifier)`` of a classifier or a Pipeline ending in one."""
    if isinstance(estimator, Pipeline):
        preprocessing, clf = (estimator[:-1] if len(estimator) > 1 else None), estimator[-1]
    else:
        preprocessing, clf = None, estimator
    check_is_fitted(clf)
    if not hasattr(clf, "image_shape_") or not hasattr(clf, "model_"):
        raise TypeError(
            f"{type(clf).__name__} is not a skcatdog CNN classifier (no image_shape_); "
            "pass a fitted SimpleCNNClassifier, DeepCNNClassifier or a Pipeline ending in one."
        )
    return preprocessing, clf


def _images(estimator, X):
    """The 4-D float32 images ``(n, h, w, c)`` in ``[0, 255]`` the network sees for ``X``."""
    preprocessing, clf = _split_estimator(estimator)
    if preprocessing is not None:
        X = preprocessing.transform(X)
    X = np.asarray(X)
    shape = tuple(clf.image_shape_)
    if X.ndim == 4 and X.shape[1:] == shape:
        return X.astype(np.float32, copy=False)
    if X.ndim == 2 and X.shape[1] == int(np.prod(shape)):
        return X.reshape(-1, *shape).astype(np.float32, copy=False)
    raise ValueError(
        f"Expected images of shape {shape} as rows of {int(np.prod(shape))} values or as a "
        f"4-D array; got an array of shape {X.shape}."
    )


def _one_image(estimator, image):
    """One image (a path for a pipeline, a pixel row or an (h, w, c) array) as a batch of 1."""
    preprocessing, clf = _split_estimator(estimator)
    if preprocessing is not None:
        if isinstance(image, (str, bytes)) or not hasattr(image, "__len__"):
            image = [image]
        images = _images(estimator, image)
    else:
        image = np.asarray(image)
        shape = tuple(clf.image_shape_)
        if image.shape == shape or image.ndim == 1 or (
            image.ndim == 2 and shape[2] == 1 and image.shape == shape[:2]
        ):
            image = image.reshape(1, -1)
        images = _images(estimator, image)
    if len(images) != 1:
        raise ValueError(f"Expected one image, got {len(images)}.")
    return images


def _predict_proba(estimator, X, n):
    """``predict_proba`` as ``(n, n_classes)`` (scikeras gives ``(n_classes,)`` for one)."""
    proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    return proba.reshape(n, -1) if proba.ndim == 1 and n == 1 else proba


def _target_indices(clf, probabilities, target, n):
    """Index into ``classes_`` of the class to explain for each of ``n`` images."""
    classes = list(clf.classes_)
    if target is None:
        if probabilities.shape[1] == 1:
            return (probabilities[:, 0] >= 0.5).astype(int)
        return np.argmax(probabilities, axis=1)
    targets = [target] * n if np.ndim(target) == 0 else list(target)
    if len(targets) != n:
        raise ValueError(f"target has {len(targets)} labels for {n} images.")
    unknown = [t for t in targets if t not in classes]
    if unknown:
        raise ValueError(f"target {unknown[0]!r} is not one of classes_ {classes}.")
    return np.array([classes.index(t) for t in targets], dtype=int)


def _all_layers(model, prefix=""):
    """``(name, layer)`` of every layer, in order; a nested model's as ``"model/layer"``."""
    import keras

    found = []
    for layer in model.layers:
        found.append((prefix + layer.name, layer))
        if isinstance(layer, keras.Model):
            found.extend(_all_layers(layer, f"{prefix}{layer.name}/"))
    return found


def _layer_names(model):
    return [name for name, _ in _all_layers(model)]


def _output_layer(model):
    """The network's last Dense layer, whose pre-activation is the class score."""
    from keras import layers

    last = model.layers[-1]
    if not isinstance(last, layers.Dense):
        raise ValueError(f"The network ends in a {type(last).__name__}, not the Dense "
                         "sigmoid or softmax layer inspection reads the class scores from.")
    return last


def _check_chain(model):
    """Nested layers are reached by running a model layer after layer: it must be a chain."""
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if not isinstance(layer, keras.Model) and isinstance(layer.input, (list, tuple, dict)):
            raise ValueError(
                f"Cannot reach the layers nested in {model.name!r}: its layer "
                f"{layer.name!r} takes several inputs, and nested layers are read by "
                "running a model one layer after the other."
            )


def _reader(model, names, *, hidden=False):
    """A function from images to the outputs of the layers ``names`` (and, with
    ``hidden``, to the input of the output layer: the last of the results).

    Top-level layers are read from the network's own graph, whatever its
    shape (residual additions included). A layer inside a nested model
    (a pretrained backbone, ``"backbone/block6_conv"``) is reached by running
    the enclosing models one layer after the other, reading the nested model
    from its own graph where the layer sits at its top level.
    """
    import keras

    names = list(names)
    output = _output_layer(model) if hidden else None
    if all("/" not in name for name in names):
        outputs = [model.get_layer(name).output for name in names]
        reader = keras.Model(model.input, outputs + ([output.input] if hidden else []))
        return lambda x: list(_as_list(reader(x, training=False)))

    def through(chain, x, prefix, found):
        _check_chain(chain)
        for layer in chain.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            name = prefix + layer.name
            inside = [n[len(name) + 1:] for n in names if n.startswith(name + "/")]
            if inside and all("/" not in n for n in inside):
                # The nested model's own inputs and outputs (its .output is
                # its call in the enclosing graph).
                tap = keras.Model(layer.inputs, [layer.get_layer(n).output for n in inside]
                                  + list(layer.outputs))
                *maps, x = _as_list(tap(x, training=False))
                found.update(zip((f"{name}/{n}" for n in inside), maps))
            elif inside:
                x = through(layer, x, name + "/", found)
            else:
                if layer is output:
                    found[None] = x
                x = layer(x, training=False)
            found[name] = x
        return x

    def read(x):
        found = {}
        through(model, x, "", found)
        return [found[name] for name in names] + ([found[None]] if hidden else [])

    return read


def _as_list(outputs):
    return outputs if isinstance(outputs, (list, tuple)) else [outputs]


def _class_scores(output_layer, hidden, class_index):
    """Score of class ``class_index[i]`` for image i: its logit (``-z`` for "cat" of a sigmoid)."""
    import tensorflow as tf

    z = tf.matmul(hidden, output_layer.kernel) + output_layer.bias
    if z.shape[-1] == 1:
        sign = tf.constant(np.where(class_index == 1, 1.0, -1.0), dtype=z.dtype)
        return z[:, 0] * sign
    return tf.gather(z, tf.constant(class_index), axis=1, batch_dims=1)


def _input_gradients(clf, images, target, batch_size=32):
    """``d score / d pixel`` of shape ``images.shape`` and the class explained per image."""
    import tensorflow as tf

    output_layer = _output_layer(clf.model_)
    read = _reader(clf.model_, [], hidden=True)
    gradients = np.empty_like(images, dtype=np.float32)
    class_index = np.empty(len(images), dtype=int)
    for start in range(0, len(images), batch_size):
        x = tf.convert_to_tensor(images[start:start + batch_size])
        with tf.GradientTape() as tape:
            tape.watch(x)
            (hidden,) = read(x)
            probabilities = output_layer.activation(
                tf.matmul(hidden, output_layer.kernel) + output_layer.bias
            )
            index = _target_indices(
                clf, np.asarray(probabilities),
                None if target is None else target[start:start + batch_size], len(x),
            )
            score = tf.reduce_sum(_class_scores(output_layer, hidden, index))
        gradients[start:start + batch_size] = tape.gradient(score, x).numpy()
        class_index[start:start + batch_size] = index
    return gradients, class_index


def _check_targets(target, n):
    if target is None or np.ndim(target) == 0:
        return None if target is None else [target] * n
    target = list(target)
    if len(target) != n:
        raise ValueError(f"target has {len(target)} labels for {n} images.")
    return target


# -- public functions ----------------------------------------------------------


def feature_maps(estimator, image, *, layers=None):
    """Activations of the network's layers for one image.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
        A fitted :class:`~skcatdog.SimpleCNNClassifier` or
        :class:`~skcatdog.DeepCNNClassifier`, or a fitted Pipeline whose last
        step is one.
    image : str, path, array-like of shape (n_features,) or (h, w, c)
        One image: a file path (or whatever one sample the pipeline takes) for
        a pipeline; a pixel row or an image array otherwise.
    layers : list of str, default=None
        Names of the layers to read (see :func:`~skcatdog.models.build_cnn`).
        None means every convolution output after its ReLU (``conv*``, or
        ``relu*`` when the network uses batch normalisation), every pooling
        layer and the hidden dense layer.

    Returns
    -------
    maps : dict of str to ndarray
        Layer name to its activation, in network order (or the order of
        ``layers``): ``(height, width, channels)`` for a convolution or
        pooling layer, ``(units,)`` for a dense layer, float32.

    See Also
    --------
    skcatdog.plotting.FeatureMapsDisplay : Draw them, one tile per channel.

    Examples
    --------
    >>> import numpy as np
    >>> from skcatdog import SimpleCNNClassifier
    >>> from skcatdog.inspection import feature_maps
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(8, 8, 8, 3)).astype(np.uint8)
    >>> clf = SimpleCNNClassifier(epochs=1, filters=4, dense_units=3,
    ...                           validation_fraction=0, random_state=0)
    >>> clf = clf.fit(X, ["cat", "dog"] * 4)
    >>> maps = feature_maps(clf, X[0])
    >>> {name: m.shape for name, m in maps.items()}
    {'conv1_1': (6, 6, 4), 'pool1': (3, 3, 4), 'dense': (3,)}
    """

    _, clf = _split_estimator(estimator)
    x = _one_image(estimator, image)
    model = clf.model_
    if layers is None:
        layers = [name for name, layer in _all_layers(model)
                  if _is_feature_layer(layer, _output_layer(model))]
    else:
        layers = [layers] if isinstance(layers, str) else list(layers)
        names = _layer_names(model)
        for name in layers:
            if name not in names:
                raise ValueError(f"No layer named {name!r}; the network has {names}.")
    if not layers:
        return {}
    outputs = _reader(model, layers)(x)
    return {name: np.asarray(out)[0] for name, out in zip(layers, outputs)}


def _is_feature_layer(layer, output_layer):
    from keras import activations, layers

    if isinstance(layer, layers.Conv2D):
        return layer.activation is not activations.linear
    if isinstance(layer, layers.Dense):
        return layer is not output_layer
    return isinstance(layer, (layers.ReLU, layers.MaxPooling2D, layers.AveragePooling2D))


def saliency_map(
    estimator,
    images,
    *,
    method="gradient",
    target=None,
    n_samples=25,
    noise=0.1,
    random_state=None,
):
    """How much each pixel moves the score of a class: gradient saliency.

    The score of a class is its logit, the network's output before the
    sigmoid or softmax (for a binary network with one sigmoid unit ``z``,
    ``z`` for ``classes_[1]`` and ``-z`` for ``classes_[0]``), so a confident
    prediction still has informative gradients. The saliency of a pixel is
    ``|d score / d pixel|``, the largest over its colour channels
    (Simonyan et al., 2014).

    ``method="smoothgrad"`` averages the gradient over ``n_samples`` copies
    of the image with Gaussian noise of standard deviation ``noise * 255``
    added, then takes the absolute value (Smilkov et al., 2017); it is less
    speckled. With ``noise=0`` it equals the plain gradient.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
        A fitted skcatdog CNN classifier or a Pipeline ending in one.
    images : array-like
        The images: what the pipeline takes (e.g. paths), or pixel rows
        ``(n, h*w*c)`` / image arrays ``(n, h, w, c)`` for a classifier.
    method : {"gradient", "smoothgrad"}, default="gradient"
        Plain gradient or SmoothGrad.
    target : label or array-like of labels, default=None
        Class to explain, one for all images or one per image. None means
        each image's predicted class (the network's own output, without
        ``test_time_flip``).
    n_samples : int, default=25
        Noisy copies per image for SmoothGrad.
    noise : float, default=0.1
        Noise standard deviation for SmoothGrad, as a fraction of the pixel
        range 0-255.
    random_state : int, RandomState instance or None, default=None
        Seeds SmoothGrad's noise.

    Returns
    -------
    saliency : ndarray of shape (n_images, height, width), float32
        Non-negative.

    See Also
    --------
    grad_cam : Coarser, class-discriminative heatmaps.
    skcatdog.plotting.SaliencyDisplay : Overlay both on the photos.

    Examples
    --------
    >>> import numpy as np
    >>> from skcatdog import SimpleCNNClassifier
    >>> from skcatdog.inspection import saliency_map
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(8, 8, 8, 3)).astype(np.uint8)
    >>> clf = SimpleCNNClassifier(epochs=1, filters=4, dense_units=3,
    ...                           validation_fraction=0, random_state=0)
    >>> clf = clf.fit(X, ["cat", "dog"] * 4)
    >>> saliency = saliency_map(clf, X[:2])
    >>> saliency.shape, bool((saliency >= 0).all())
    ((2, 8, 8), True)
    >>> smooth = saliency_map(clf, X[:2], method="smoothgrad", noise=0.0, n_samples=2)
    >>> bool(np.allclose(smooth, saliency))
    True
    """
    if method not in ("gradient", "smoothgrad"):
        raise ValueError(f'method must be "gradient" or "smoothgrad"; got {method!r}.')
    if not isinstance(n_samples, Integral) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int; got {n_samples!r}.")
    if not isinstance(noise, Real) or noise < 0:
        raise ValueError(f"noise must be a non-negative number; got {noise!r}.")
    _, clf = _split_estimator(estimator)
    x = _images(estimator, images)
    target = _check_targets(target, len(x))
    if method == "gradient":
        gradients, _ = _input_gradients(clf, x, target)
    else:
        # Fix the class from the clean image, so every noisy copy explains the same one.
        _, class_index = _input_gradients(clf, x, target)
        fixed = [clf.classes_[i] for i in class_index]
        rng = check_random_state(random_state)
        gradients = np.zeros_like(x)
        for _ in range(n_samples):
            noisy = x + rng.normal(0.0, noise * 255.0, size=x.shape).astype(np.float32)
            gradients += _input_gradients(clf, noisy, fixed)[0]
        gradients /= n_samples
    return np.abs(gradients).max(axis=-1)


def _last_conv_layer(model):
    """Name of the last convolution output, after its ReLU when batch normalisation splits it.

    Nested models count: a backbone's last convolution is ``"backbone/top_conv"``.
    """
    from keras import layers

    name = None
    for qualified, layer in _all_layers(model):
        if isinstance(layer, layers.Conv2D) or (
            isinstance(layer, (layers.ReLU, layers.Activation)) and name is not None
        ):
            name = qualified
    if name is None:
        raise ValueError("The network has no convolution layer.")
    return name


def _receptive_field_geometry(model, layer_name):
    """Where the units of a layer sit in the input: ``(start, jump)`` per axis, or None.

    Unit ``i`` of the layer's map is centred on input pixel ``start + i * jump``.
    "Valid" convolutions and poolings shrink the map, so it covers a centred
    part of the image; stretching it over the whole image would misplace the
    heat by several pixels near the borders. None for a layer type this walk
    does not know: the caller then stretches.
    """
    from keras import layers

    if "/" in layer_name:  # inside a nested model: stretch
        return None
    start, jump = np.zeros(2), np.ones(2)
    for layer in _main_path(model.get_layer(layer_name)):
        if isinstance(layer, (layers.Conv2D, layers.MaxPooling2D, layers.AveragePooling2D)):
            if isinstance(layer, layers.Conv2D):
                if tuple(layer.dilation_rate) != (1, 1):
                    return None
                kernel, strides = layer.kernel_size, layer.strides
            else:
                kernel, strides = layer.pool_size, layer.strides
            size_in = layer.input.shape[1:3]
            for axis in range(2):
                k, s, n = kernel[axis], strides[axis], size_in[axis]
                pad = 0
                if layer.padding == "same":
                    n_out = -(-n // s)
                    pad = max((n_out - 1) * s + k - n, 0) // 2
                start[axis] += ((k - 1) / 2 - pad) * jump[axis]
                jump[axis] *= s
        elif not isinstance(layer, (layers.InputLayer, layers.Rescaling, layers.ReLU,
                                    layers.BatchNormalization, layers.Activation,
                                    layers.Dropout, layers.Add)) and not layer.name.startswith(
                                        "random_"):
            return None
        if layer.name == layer_name:
            return start, jump
    return None


def _main_path(layer):
    """The layers from the input to ``layer``, through the first input of each merge.

    A residual block's shortcut branch sits beside its convolutions in
    ``model.layers``; the geometry of the map follows the main branch.
    """
    from keras import layers

    path = [layer]
    while not isinstance(layer, layers.InputLayer):
        tensor = layer.input[0] if isinstance(layer.input, (list, tuple)) else layer.input
        layer = tensor._keras_history.operation
        path.append(layer)
    return path[::-1]


def _interpolation_matrix(n_out, n_in, start, jump):
    """``(n_out, n_in)`` linear interpolation from unit centres to pixels, clamped at the ends."""
    position = np.clip((np.arange(n_out) - start) / jump, 0, n_in - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, n_in - 1)
    weight = position - low
    matrix = np.zeros((n_out, n_in))
    matrix[np.arange(n_out), low] += 1 - weight
    matrix[np.arange(n_out), high] += weight
    return matrix


def _upsample(cams, geometry, size):
    """Bilinear resize of ``(n, h, w)`` maps to ``size``, aligned on the receptive fields."""
    (height, width), (h, w) = size, cams.shape[1:]
    if geometry is None:  # stretch over the whole image, pixel centres aligned
        geometry = (np.array([(h and height / h - 1) / 2, (w and width / w - 1) / 2]),
                    np.array([height / h, width / w]))
    (start_y, start_x), (jump_y, jump_x) = geometry
    rows = _interpolation_matrix(height, h, start_y, jump_y)
    cols = _interpolation_matrix(width, w, start_x, jump_x)
    return np.einsum("yi,nij,xj->nyx", rows, cams, cols).astype(np.float32)


def grad_cam(estimator, images, *, layer=None, target=None):
    """Grad-CAM heatmaps: where in the image the evidence for a class lies.

    The feature maps ``A_k`` of a convolution layer are weighted by the mean
    gradient of the class score (its logit, as in :func:`saliency_map`) over
    each map, summed, passed through a ReLU, scaled to a maximum of 1 per
    image and resized bilinearly to the input size (Selvaraju et al., 2017).
    An image whose weighted sum is nowhere positive gets all zeros.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
        A fitted skcatdog CNN classifier or a Pipeline ending in one.
    images : array-like
        The images, as in :func:`saliency_map`.
    layer : str, default=None
        The convolution layer (or its ReLU) to explain. None means the last
        one: the coarsest but most semantic maps.
    target : label or array-like of labels, default=None
        Class to explain; None means each image's predicted class.

    Returns
    -------
    heatmaps : ndarray of shape (n_images, height, width), float32
        Values in ``[0, 1]``.

    See Also
    --------
    saliency_map : Pixel-level gradients.
    skcatdog.plotting.SaliencyDisplay : Overlay both on the photos.

    Examples
    --------
    >>> import numpy as np
    >>> from skcatdog import SimpleCNNClassifier
    >>> from skcatdog.inspection import grad_cam
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(8, 8, 8, 3)).astype(np.uint8)
    >>> clf = SimpleCNNClassifier(epochs=1, filters=4, dense_units=3,
    ...                           validation_fraction=0, random_state=0)
    >>> clf = clf.fit(X, ["cat", "dog"] * 4)
    >>> heat = grad_cam(clf, X[:2])
    >>> heat.shape, float(heat.min()) >= 0, float(heat.max()) <= 1
    ((2, 8, 8), True, True)
    """
    import tensorflow as tf

    _, clf = _split_estimator(estimator)
    x = _images(estimator, images)
    target = _check_targets(target, len(x))
    if layer is None:
        layer = _last_conv_layer(clf.model_)
    names = _layer_names(clf.model_)
    if layer not in names:
        raise ValueError(f"No layer named {layer!r}; the network has {names}.")
    output_layer = _output_layer(clf.model_)
    read = _reader(clf.model_, [layer], hidden=True)
    height, width = x.shape[1:3]
    geometry = _receptive_field_geometry(clf.model_, layer)
    heatmaps = np.empty((len(x), height, width), dtype=np.float32)
    batch_size = 32
    for start in range(0, len(x), batch_size):
        batch = tf.convert_to_tensor(x[start:start + batch_size])
        with tf.GradientTape() as tape:
            maps, hidden = read(batch)
            tape.watch(maps)
            probabilities = output_layer.activation(
                tf.matmul(hidden, output_layer.kernel) + output_layer.bias
            )
            index = _target_indices(
                clf, np.asarray(probabilities),
                None if target is None else target[start:start + batch_size], len(batch),
            )
            score = tf.reduce_sum(_class_scores(output_layer, hidden, index))
        grads = tape.gradient(score, maps)
        if maps.shape.rank != 4:
            raise ValueError(f"Layer {layer!r} has no spatial maps (output {maps.shape}).")
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * maps, axis=-1, keepdims=True))
        cam = _upsample(cam[..., 0].numpy(), geometry, (height, width))
        peak = cam.reshape(len(cam), -1).max(axis=1)
        # a cam that is zero everywhere stays zero instead of 0/0
        scale = np.divide(1.0, peak, out=np.zeros_like(peak), where=peak > 0)
        heatmaps[start:start + batch_size] = np.clip(cam * scale[:, None, None], 0.0, 1.0)
    return heatmaps


def most_confident_mistakes(estimator, X, y, *, n=None):
    """The misclassified images, the most confidently wrong first.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
        Anything with ``predict_proba`` and ``classes_``.
    X : array-like
        The images (paths for a pipeline that loads them).
    y : array-like of shape (n_samples,)
        Their true labels.
    n : int, default=None
        Keep at most this many; None keeps all mistakes.

    Returns
    -------
    indices : ndarray of int
        Positions in ``X`` of the mistakes, by decreasing confidence (ties
        in the order of ``X``).
    y_pred : ndarray
        The predicted (wrong) label of each.
    confidence : ndarray of float
        The predicted probability of that wrong label.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from skcatdog.inspection import most_confident_mistakes
    >>> X, y = np.zeros((5, 1)), np.array(["cat", "cat", "cat", "dog", "dog"])
    >>> clf = DummyClassifier(strategy="prior").fit(X, y)
    >>> indices, y_pred, confidence = most_confident_mistakes(clf, X, y)
    >>> indices, y_pred, confidence.round(2)
    (array([3, 4]), array(['cat', 'cat'], dtype='<U3'), array([0.6, 0.6]))
    """
    if n is not None and (not isinstance(n, Integral) or n < 0):
        raise ValueError(f"n must be a non-negative int or None; got {n!r}.")
    y = np.asarray(y)
    proba = _predict_proba(estimator, X, len(y))
    if len(proba) != len(y):
        raise ValueError(f"X has {len(proba)} samples but y has {len(y)}.")
    return _rank_mistakes(estimator.classes_, y, proba, n)


def _rank_mistakes(classes, y, proba, n=None):
    """``most_confident_mistakes`` from already predicted probabilities."""
    best = np.argmax(proba, axis=1)
    y_pred = np.asarray(classes)[best]
    confidence = proba[np.arange(len(proba)), best]
    wrong = np.flatnonzero(y_pred != np.asarray(y))
    order = wrong[np.argsort(-confidence[wrong], kind="stable")]
    if n is not None:
        order = order[:n]
    return order, y_pred[order], confidence[order]
