"""Fixtures shared across the test modules: small data and fitted models.

TensorFlow takes seconds to import and networks seconds to fit, so fitted
models are session fixtures that tests only read.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture(scope="session")
def toy_images():
    """60 RGB 16x16 images as flat uint8 rows: bright 'cat's, dark 'dog's, interleaved."""
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, size=(60, 16 * 16 * 3)).astype(np.uint8)
    y = np.array(["cat", "dog"] * 30, dtype=object)
    X[y == "dog"] //= 4
    return X, y


@pytest.fixture(scope="session")
def fitted_deep(toy_images):
    from skcatdog import DeepCNNClassifier

    X, y = toy_images
    clf = DeepCNNClassifier(epochs=3, filters=(8, 16, 16), dense_units=16, random_state=0)
    return clf.fit(X, y)


# -- inspection / plotting / report (issue 4) ---------------------------------
#
# Measured with these settings (48x48, 200 training images per class, 12 epochs,
# random_state=0): ~8 s to fit, 86% accuracy on the 80 test images, and the
# Grad-CAM peak of the last convolution inside the animal's box for 80% of them
# (the box covers ~25% of the image).


@pytest.fixture(scope="session")
def shapes_data():
    """Synthetic cats and dogs with known animal boxes: (train, test), each (X, y, boxes)."""
    from skcatdog.datasets import make_cats_and_dogs

    train = make_cats_and_dogs(200, image_size=(48, 48), random_state=0)
    test = make_cats_and_dogs(40, image_size=(48, 48), random_state=1)
    return train, test


@pytest.fixture(scope="session")
def shapes_clf(shapes_data):
    """A small DeepCNNClassifier that has learnt the shapes (read it, don't refit it)."""
    from skcatdog import DeepCNNClassifier

    (X, y, _), _ = shapes_data
    return DeepCNNClassifier(
        epochs=12, batch_size=32, filters=(16, 32, 32), dense_units=32, dropout=0.2,
        random_state=0,
    ).fit(X, y)


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory):
    """Generated demo photos on disk (Kaggle flat layout): paths, labels, boxes."""
    from skcatdog.datasets import load_demo

    home = tmp_path_factory.mktemp("skcatdog_data")
    return load_demo(n_per_class=40, image_size=(32, 32), random_state=0, data_home=home)


REAL_DATA = __import__("pathlib").Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def real_photos_6k():
    """The 5,975 real Kaggle photos, or a clean skip where ../shared/data is absent."""
    folder = REAL_DATA / "dogs-vs-cats-6k"
    if not folder.is_dir():
        pytest.skip(f"real photos not found at {folder}")
    return folder


@pytest.fixture
def fresh_decode_cache():
    """An empty per-process decode cache before and after the test."""
    from skcatdog import loading

    loading.clear_cache()
    yield
    loading.clear_cache()


@pytest.fixture
def folder(tmp_path):
    """A fresh folder for the test's image files, as a str path."""
    return str(tmp_path)
