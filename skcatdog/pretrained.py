"""``PretrainedCNNClassifier``: an ImageNet backbone with a new head, trained the usual way.

The family :mod:`skcatdog.networks.pretrained` with the training every
classifier shares (validation split, best epoch, test-time flips,
streaming, saving): first the head alone on the frozen backbone, then,
with ``fine_tune_epochs``, the whole network at a small learning rate.
Feed it images of :data:`PRETRAINED_IMAGE_SIZE`::

    Pipeline([("load", ImageLoader(image_size=PRETRAINED_IMAGE_SIZE)),
              ("cnn", PretrainedCNNClassifier())])
"""

from numbers import Integral, Real

from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from skcatdog.networks import pretrained
from skcatdog.training import CNNClassifier

__all__ = ["PRETRAINED_IMAGE_SIZE", "PretrainedCNNClassifier", "pretrained_augmenter"]

#: ``(height, width)`` the backbones were trained on; pass it to ImageLoader.
PRETRAINED_IMAGE_SIZE = (224, 224)


def pretrained_augmenter():
    """Light augmentation for a pretrained backbone (a fresh instance)."""
    from skcatdog.augmentation import ImageAugmenter

    return ImageAugmenter(horizontal_flip=True, rotation_range=10.0, zoom_range=0.1)


class PretrainedCNNClassifier(CNNClassifier):
    """A pretrained backbone, frozen, with a new head; optionally fine-tuned.

    For a few hundred photos, where a network trained from scratch learns
    little: the backbone (EfficientNet-Lite0 by default, whose ImageNet
    weights the ``skcatdog[pretrained]`` extra brings without internet
    access; any ``keras.applications`` network; or a local weights file)
    already tells fur from background. The head (global average pooling,
    dropout and the output) is trained for ``epochs`` on the frozen backbone,
    with Adam at ``learning_rate`` (0.01: the head is one layer on fixed
    features, and a few hundred photos give it few steps); with
    ``fine_tune_epochs``, the backbone is then unfrozen (its batch
    normalisation keeps ImageNet's statistics) and the whole network trained
    that many more epochs at
    ``fine_tune_learning_rate``. Each phase keeps the weights of its best
    validation epoch (the lowest validation loss: see ``best_epoch_metric``);
    predictions average each image and its mirror image.

%(parameters)s
    See Also
    --------
    PretrainedFeatures : the backbone's features for any scikit-learn classifier.
    PRETRAINED_IMAGE_SIZE : the image size to load for this network.

    Examples
    --------
    >>> import numpy as np
    >>> from skcatdog.pretrained import PretrainedCNNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randint(0, 256, size=(20, 32, 32, 3)).astype(np.uint8)
    >>> y = np.array(["cat", "dog"] * 10)
    >>> clf = PretrainedCNNClassifier(backbone="MobileNetV2", weights=None, epochs=1,
    ...                               random_state=0).fit(X, y)
    >>> clf.predict_proba(X[:3]).shape
    (3, 2)
    """

    network = pretrained
    augmentation_presets = {"pretrained": pretrained_augmenter}
    defaults = {
        "learning_rate": 1e-2,
        "epochs": 10,
        "batch_size": 32,
        "augmentation": "pretrained",
        "test_time_flip": True,
        "fine_tune_epochs": 0,
        "fine_tune_learning_rate": 1e-5,
    }
    parameter_docs = {
        "augmentation": ('ImageAugmenter, "pretrained" or None', """
        Random perturbation of training images, fresh each epoch;
        ``"pretrained"`` is :func:`pretrained_augmenter` (flips, rotation 10
        degrees, zoom 0.1)."""),
        "fine_tune_epochs": ("int", """
        Epochs of training the whole network after the head's ``epochs``; 0
        keeps the backbone frozen."""),
        "fine_tune_learning_rate": ("float", """
        The optimizer's learning rate while fine-tuning (a fresh optimizer,
        constant rate): small, so that the pretrained weights move little."""),
    }
    _parameter_constraints = {
        "augmentation": [HasMethods(["build_layers"]), StrOptions({"pretrained"}), None],
        "fine_tune_epochs": [Interval(Integral, 0, None, closed="left")],
        "fine_tune_learning_rate": [Interval(Real, 0, None, closed="neither")],
    }

    #: The image size to load for this network (read by the command line).
    default_image_size = PRETRAINED_IMAGE_SIZE
    #: A few hundred photos leave a few dozen for validation, on which most
    #: epochs tie in accuracy and the earliest (an untrained head) would be
    #: kept; the loss tells them apart (``benchmarks/RESULTS.md``).
    best_epoch_metric = ("loss", "min")

    def check_weights(self):
        """Make sure the backbone's weights can be had, before any image is decoded.

        Converts and caches EfficientNet-Lite's ImageNet weights if need be;
        raises :class:`~skcatdog.backbones.NoWeightsError` (naming the ways to
        get them) when they cannot be had. Other backbones are checked when
        built: Keras downloads theirs then.
        """
        from skcatdog.backbones import BACKBONES, imagenet_weights_path

        if self.weights == "imagenet" and self.backbone in BACKBONES:
            imagenet_weights_path(self.backbone)

    def _fit_network(self, X, y, sample_weight, *, epochs, initial_epoch, **kwargs):
        super()._fit_network(X, y, sample_weight, epochs=epochs, initial_epoch=initial_epoch,
                             **kwargs)
        if not self.fine_tune_epochs:
            return
        import keras

        model = self.model_
        # The family's one nested model is the backbone.
        backbone = next(layer for layer in model.layers if isinstance(layer, keras.Model))
        backbone.trainable = True
        options = {"learning_rate": self.fine_tune_learning_rate}
        if self.weight_decay is not None:
            options["weight_decay"] = self.weight_decay
        # Keras applies a change of trainable weights at the next compile.
        model.compile(optimizer=self._make_optimizer(**options), loss=model.loss,
                      metrics=["accuracy"])
        n_epochs = len(self.history_["loss"])
        super()._fit_network(X, y, sample_weight, epochs=n_epochs + self.fine_tune_epochs,
                             initial_epoch=n_epochs, **kwargs)

