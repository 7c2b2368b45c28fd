import numpy as np
from sklearn.base import clone

from skcatdog import ImageAugmenter, TunedCNNClassifier
from skcatdog.tuned import TUNED_IMAGE_SIZE, tuned_augmenter


def test_tuned_defaults_clone_and_build():
    clf = TunedCNNClassifier()
    assert clf.default_image_size == TUNED_IMAGE_SIZE == (64, 64)
    assert clone(clf).get_params() == clf.get_params()
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(20, 16, 16, 3)).astype(np.uint8)
    y = np.array(["cat", "dog"] * 10)
    fitted = TunedCNNClassifier(epochs=1, batch_norm_momentum=0.8, random_state=0).fit(X, y)
    layers = fitted.model_.layers
    momenta = [layer.momentum for layer in layers if hasattr(layer, "moving_variance")]
    assert len(momenta) == 8 and set(momenta) == {0.8}
    names = {layer.name for layer in layers}
    assert {"random_rotation", "random_zoom", "random_translation", "random_contrast"} <= names
    assert {"flatten", "dense", "dropout"} <= names and "global_pool" not in names
    assert fitted.model_.get_layer("dense").units == 256
    assert fitted.augmentation == "tuned"  # the string stays; the layers came from it
    assert isinstance(tuned_augmenter(), ImageAugmenter)
