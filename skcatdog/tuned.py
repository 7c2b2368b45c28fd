"""``TunedCNNClassifier``: the best network we could train from scratch in a Keras recipe's time.

The residual family (:mod:`skcatdog.networks.residual`) with the training that
``benchmarks/bench_recipe.py`` and ``benchmarks/bench_tuned.py`` measured
against a plain Keras recipe in the same compute, choosing on validation
images only (``benchmarks/RESULTS.md``). Feed it images of
:data:`TUNED_IMAGE_SIZE`::

    Pipeline([("load", ImageLoader(image_size=TUNED_IMAGE_SIZE)),
              ("cnn", TunedCNNClassifier())])
"""

from sklearn.utils._param_validation import HasMethods, StrOptions

from skcatdog.networks import residual
from skcatdog.training import CNNClassifier

__all__ = ["TUNED_IMAGE_SIZE", "TunedCNNClassifier", "tuned_augmenter"]

#: ``(height, width)`` the tuned network was chosen for; pass it to ImageLoader.
TUNED_IMAGE_SIZE = (128, 128)


def tuned_augmenter():
    """The augmentation the tuned network was chosen with (a fresh instance)."""
    from skcatdog.augmentation import ImageAugmenter

    return ImageAugmenter(
        horizontal_flip=True,
        rotation_range=18.0,
        zoom_range=0.15,
        width_shift_range=0.1,
        height_shift_range=0.1,
    )


class TunedCNNClassifier(CNNClassifier):
    """Same-padded convolution blocks with global pooling, trained as the tuned recipe.

    Images of :data:`TUNED_IMAGE_SIZE` (128x128 RGB) pass a first 3x3
    convolution of 32 filters and stride 2, so the network works on 64x64
    maps and pays for them, while that convolution sees every pixel; it is
    the first of four blocks, the others two 3x3 "same" convolutions (64,
    128, 256 filters), each convolution with batch normalisation and a ReLU,
    each block ending in a 2x2 max-pooling; global average pooling, dropout
    0.3 and one sigmoid unit (the family :mod:`skcatdog.networks.residual`).
    AdamW (weight decay 1e-4) with a 10% linear warm-up to 3e-3 and a cosine
    decay to zero, 43 epochs in batches of 64, label smoothing 0.1; flip,
    rotation, zoom and shift augmentation while training; bfloat16 mixed
    precision on CPUs that compute it natively; predictions averaged over
    each image and its mirror image, in place and shifted diagonally by 4
    pixels each way (ten views).

    It trains on every image it is given and keeps the last epoch's weights
    (``validation_fraction=0``), as scikit-learn's ``GridSearchCV`` refits a
    configuration chosen on held-out images on all of them: at the end of
    the cosine decay the last epoch scores about as well as the best one on
    held-out images, and the images are worth more to the training. Pass
    ``validation_fraction=0.1`` to hold images out, score every epoch and
    keep the best one's weights. Its measured accuracy and training time
    are in ``benchmarks/RESULTS.md``.

%(parameters)s
    See Also
    --------
    DeepCNNClassifier : the notebook's three-convolution network.
    TUNED_IMAGE_SIZE : the image size to load for this network.

    Examples
    --------
    >>> import numpy as np
    >>> from skcatdog.tuned import TunedCNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(40, 16, 16, 3)).astype(np.uint8)
    >>> y = np.array(["cat", "dog"] * 20)
    >>> clf = TunedCNNClassifier(epochs=1, filters=4, random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    network = residual
    augmentation_presets = {"tuned": tuned_augmenter}
    defaults = {
        "stem_stride": 2,
        "convs_per_block": (1, 2, 2, 2),
        "dtype_policy": "auto",
        "optimizer": "adamw",
        "weight_decay": 1e-4,
        "learning_rate": 3e-3,
        "lr_schedule": "cosine",
        "warmup_fraction": 0.1,
        "label_smoothing": 0.1,
        "epochs": 43,
        "validation_fraction": 0.0,
        "batch_size": 64,
        "augmentation": "tuned",
        "test_time_flip": True,
        "test_time_shift": 4,
    }
    parameter_docs = {
        "augmentation": ('ImageAugmenter, "tuned" or None', """
        Random perturbation of training images, fresh each epoch; ``"tuned"``
        is :func:`tuned_augmenter` (flips, rotation 18 degrees, zoom 0.15,
        shifts 0.1)."""),
    }
    _parameter_constraints = {
        "augmentation": [HasMethods(["build_layers"]), StrOptions({"tuned"}), None],
    }

    #: The image size to load for this network (read by the command line).
    default_image_size = TUNED_IMAGE_SIZE
    #: The release whose TunedCNNClassifier became this network: model files
    #: saved by earlier releases hold another one, and are refused.
    network_changed_in = "0.2.0"
