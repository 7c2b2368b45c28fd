"""The notebook's two networks as scikit-learn classifiers.

:class:`SimpleCNNClassifier` and :class:`DeepCNNClassifier` are the plain
family (:mod:`skcatdog.networks.plain`) with the classic Kaggle notebook's
defaults, layer for layer, trained by :class:`skcatdog.training.CNNClassifier`;
every architectural choice is a constructor parameter, so ``GridSearchCV``
can tune it.
"""

from skcatdog.networks import plain
from skcatdog.training import CNNClassifier

__all__ = ["build_cnn", "NOTEBOOK_SCHEDULE", "SimpleCNNClassifier", "DeepCNNClassifier"]

#: The plain family's builder, under the name it had before families.
build_cnn = plain.build

#: The notebook's Adam at 0.001, reached by a linear warm-up over the first
#: 10% of the steps. At the full rate from the
#: first step, Adam moves all 18,432 input weights of each unit of the simple
#: network's dense layer by about the rate, in the same direction: the units'
#: inputs shift by several times their spread across images, and for some
#: seeds every unit is below zero for every image within 20 steps and never
#: learns (``benchmarks/dead_units.py``).
NOTEBOOK_SCHEDULE = {"warmup_fraction": 0.1}


class DeepCNNClassifier(CNNClassifier):
    """The notebook's "deep" network: three convolution blocks and dropout.

    Defaults reproduce it layer for layer: Conv2D 32, 64, 64 (3x3, ReLU), each
    followed by 2x2 max-pooling, ``Flatten``, ``Dense(128, relu)``,
    ``Dropout(0.5)`` and one sigmoid unit; Adam, binary cross-entropy, 17
    epochs, batches of 32, pixels scaled by 1/255 inside the model. With more
    than two classes the output is a softmax. Its family is
    :mod:`skcatdog.networks.plain`. Unlike the notebook, the learning rate
    rises to 0.001 over the first 10% of the steps (:data:`NOTEBOOK_SCHEDULE`).

%(parameters)s
    See Also
    --------
    SimpleCNNClassifier : the notebook's one-convolution network.
    ImageLoader : turns file paths into the pixel rows this classifier takes.
    ImageAugmenter : random augmentation while training.

    Examples
    --------
    >>> import numpy as np
    >>> from skcatdog import DeepCNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(40, 16 * 16 * 3)).astype(np.uint8)
    >>> y = np.array(["cat", "dog"] * 20)
    >>> X[y == "dog"] //= 4  # dark dogs
    >>> clf = DeepCNNClassifier(epochs=2, random_state=0).fit(X, y)
    >>> clf.classes_.tolist()
    ['cat', 'dog']
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    >>> clf.image_shape_
    (16, 16, 3)
    """

    network = plain
    defaults = {"n_conv_layers": 3, "filters": (32, 64, 64), "dense_units": 128,
                "dropout": 0.5, **NOTEBOOK_SCHEDULE}


class SimpleCNNClassifier(CNNClassifier):
    """The notebook's "simple" network: one convolution block.

    Defaults reproduce it layer for layer: Conv2D 32 (3x3, ReLU), 2x2
    max-pooling, ``Flatten``, ``Dense(32, relu)`` and one sigmoid unit; Adam,
    binary cross-entropy, 17 epochs, batches of 32, pixels scaled by 1/255
    inside the model; the learning rate rises to 0.001 over the first 10% of
    the steps (:data:`NOTEBOOK_SCHEDULE`). It takes the same parameters as
    :class:`DeepCNNClassifier`, only the defaults differ.

%(parameters)s
    See Also
    --------
    DeepCNNClassifier : the notebook's three-convolution network.

    Examples
    --------
    >>> import numpy as np
    >>> from skcatdog import SimpleCNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(40, 8, 8, 1)).astype(np.uint8)
    >>> y = np.array(["cat", "dog"] * 20)
    >>> clf = SimpleCNNClassifier(epochs=1, random_state=0).fit(X, y)
    >>> clf.predict(X[:2]).shape
    (2,)
    """

    network = plain
    defaults = {"n_conv_layers": 1, "filters": 32, "dense_units": 32, "dropout": 0.0,
                **NOTEBOOK_SCHEDULE}
