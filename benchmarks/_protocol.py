"""The notebook's evaluation protocol, shared by the training benchmarks.

From the 6k Kaggle folder (``../shared/data/dogs-vs-cats-6k``, 5,975 images),
575 images are set aside for testing with
``train_test_split(test_size=575, stratify=labels, random_state=0)``. Of the
remaining 5,400 the classifier holds out ``VALIDATION_FRACTION`` (600 images,
stratified, shuffled with the classifier's ``random_state``) to pick its best
epoch, so it trains on 4,800 images. The test images are never used to choose
anything.

The helpers here also record the machine, the versions and the load, so that
every benchmark's JSON says under which conditions it was measured.
"""

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = (Path(os.environ.get("SKCATDOG_DATA", REPO.parent / "shared" / "data"))
            / "dogs-vs-cats-6k")
OUT_DIR = REPO / "benchmarks" / "out"

TEST_SIZE = 575
SPLIT_SEED = 0
N_VALIDATION = 600
#: Fraction of the 5,400 non-test images the classifier holds out: 600 of them.
VALIDATION_FRACTION = N_VALIDATION / 5400
IMAGE_SIZE = (50, 50)
EPOCHS = 17
#: Test accuracy the notebook reported for its two networks.
NOTEBOOK_ACCURACY = {"simple": 0.70, "deep": 0.78}


def load_split(data_dir=DATA_DIR):
    """``(paths_train, paths_test, y_train, y_test)``: 5,400 / 575 images."""
    from skcatdog.datasets import load_image_dataset

    paths, labels = load_image_dataset(data_dir, return_X_y=True)
    return train_test_split(
        paths, labels, test_size=TEST_SIZE, stratify=labels, random_state=SPLIT_SEED
    )


def notebook_augmenter():
    """The notebook's augmentation: shear 0.1, zoom 0.1, horizontal flips."""
    from skcatdog.augmentation import ImageAugmenter

    return ImageAugmenter(shear_range=0.1, zoom_range=0.1, horizontal_flip=True)


def validation_indices(y, random_state):
    """The ``(train, validation)`` indices a classifier with this seed holds out.

    The same computation as ``CNNClassifier._validation_split``, so a
    plain-Keras baseline can validate on exactly the same 600 images.
    """
    n_val = int(np.ceil(VALIDATION_FRACTION * len(y)))
    seed = check_random_state(random_state).randint(2**31 - 1)
    return train_test_split(np.arange(len(y)), test_size=n_val, stratify=y, random_state=seed)


def load_pixels(paths, image_size=IMAGE_SIZE, n_jobs=2):
    """Decode ``paths`` with :class:`ImageLoader`; returns ``(X, seconds)``."""
    from skcatdog.loading import ImageLoader

    start = time.perf_counter()
    X = ImageLoader(image_size=tuple(image_size), n_jobs=n_jobs).fit_transform(paths)
    return X, time.perf_counter() - start


def load_average():
    """The 1-, 5- and 15-minute load averages (2 cores: 2.0 means busy)."""
    return list(os.getloadavg())


def environment():
    """Machine, versions and load, for the JSON records."""
    import keras
    import scikeras
    import sklearn
    import tensorflow as tf

    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        cpu = next(
            (line.split(":", 1)[1].strip() for line in lscpu.splitlines()
             if line.startswith("Model name")),
            platform.processor(),
        )
    except OSError:
        cpu = platform.processor()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "scikeras": scikeras.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
        "load_average": load_average(),
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }


def write_json(name, record, path=None):
    """Write ``record`` to ``benchmarks/out/<name>.json`` and to ``path`` if given."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=2, default=_jsonable)
    targets = [OUT_DIR / f"{name}.json"] + ([Path(path)] if path else [])
    for target in targets:
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(text)
        os.replace(tmp, target)
    return targets


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)


def print_table(rows, columns):
    """Print ``rows`` (dicts) as a Markdown table with these ``columns``."""
    def fmt(v):
        if isinstance(v, float):
            return f"{v:.3f}" if abs(v) < 100 else f"{v:.0f}"
        return str(v)

    cells = [[fmt(row.get(c, "")) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c)
              for i, c in enumerate(columns)]
    print("| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in cells:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(r, widths)) + " |")
