import numpy as np
from sklearn.base import clone

from skcatdog import ImageAugmenter, TunedCNNClassifier
from skcatdog.tuned import TUNED_IMAGE_SIZE, tuned_augmenter


def test_tuned_defaults_clone_and_build():
    clf = TunedCNNClassifier()
    assert clf.default_image_size == TUNED_IMAGE_SIZE == (128, 128)
    assert clone(clf).get_params() == clf.get_params()
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(20, 32, 32, 3)).astype(np.uint8)
    y = np.array(["cat", "dog"] * 10)
    fitted = TunedCNNClassifier(epochs=1, batch_norm_momentum=0.8, random_state=0).fit(X, y)
    layers = fitted.model_.layers
    momenta = [layer.momentum for layer in layers if hasattr(layer, "moving_variance")]
    assert len(momenta) == 7 and set(momenta) == {0.8}  # 1 + 2 + 2 + 2 convolutions
    names = {layer.name for layer in layers}
    assert "random_affine" in names
    assert {"global_pool", "dropout"} <= names and not {"flatten", "dense"} & names
    # A stride-2 first convolution, then "same" padding: the 32x32 input is 16x16
    # in the first block and still 2x2 in the fourth.
    assert fitted.model_.get_layer("relu1_1").output.shape == (None, 16, 16, 32)
    assert fitted.model_.get_layer("relu4_2").output.shape == (None, 2, 2, 256)
    optimizer = fitted.model_.optimizer
    assert type(optimizer).__name__ == "AdamW" and optimizer.weight_decay == 1e-4
    assert fitted.model_.loss.get_config()["label_smoothing"] == 0.1
    assert fitted.augmentation == "tuned"  # the string stays; the layers came from it
    augmenter = tuned_augmenter()
    assert type(augmenter) is ImageAugmenter and augmenter is not tuned_augmenter()
    expected = dict(zoom_range=0.15, rotation_range=18.0, width_shift_range=0.1,
                    height_shift_range=0.1, horizontal_flip=True)
    defaults = ImageAugmenter().get_params()
    changed = {k: v for k, v in augmenter.get_params().items() if v != defaults[k]}
    assert changed == expected  # the recipe the tuned network was chosen with


def test_tuned_trains_on_every_image_and_keeps_the_last_epoch(toy_images):
    X, y = toy_images
    clf = TunedCNNClassifier(epochs=3, filters=4, batch_size=6, random_state=0).fit(X, y)
    assert clf.validation_fraction == 0 and clf.warmup_fraction == 0.1
    assert "val_accuracy" not in clf.history_ and clf.best_epoch_ == 2
    # all 60 images in each epoch: 10 batches of 6, where holding 6 out would make 9
    assert int(clf.model_.optimizer.iterations.numpy()) == 3 * 10
    assert type(clf.model_.optimizer._learning_rate).__name__ == "CosineDecay"


def test_tuned_with_held_out_images_keeps_the_best_epoch(toy_images):
    X, y = toy_images
    clf = TunedCNNClassifier(epochs=3, filters=4, validation_fraction=0.2,
                             random_state=0).fit(X, y)
    assert clf.restore_best_weights
    assert clf.best_epoch_ == int(np.argmax(clf.history_["val_accuracy"]))
    assert len(clf.history_["val_accuracy"]) == 3


def test_two_tuned_networks_vote_in_parallel(toy_images):
    # The recipe in skcatdog.tuned's docs: two trainings side by side, averaged.
    from sklearn.ensemble import VotingClassifier

    X, y = toy_images
    members = [(f"seed{s}", TunedCNNClassifier(epochs=2, filters=8, validation_fraction=0.0,
                                               random_state=s)) for s in (0, 1)]
    ensemble = VotingClassifier(members, voting="soft", n_jobs=2).fit(X, y)
    proba = [m.predict_proba(X) for m in ensemble.estimators_]
    assert not np.allclose(proba[0], proba[1])  # two different networks
    np.testing.assert_allclose(ensemble.predict_proba(X), np.mean(proba, axis=0), rtol=1e-5)
    np.testing.assert_array_equal(
        ensemble.predict(X), ensemble.classes_[np.argmax(ensemble.predict_proba(X), axis=1)])
