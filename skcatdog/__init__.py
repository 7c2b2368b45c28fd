"""Tell cats from dogs with convolutional networks that plug into scikit-learn.

``import skcatdog`` stays fast: the classes that need TensorFlow are imported
on first use (PEP 562 module ``__getattr__``).
"""

import importlib
import os

# TensorFlow's C++ logging is noise for our users (on a machine without a GPU it
# logs "failed call to cuInit" as an error); an explicit setting wins. See _quiet.py.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

__version__ = "0.2.0"

_LAZY = {
    "ImageLoader": "skcatdog.loading",
    "ImageLoadError": "skcatdog.loading",
    "verify_images": "skcatdog.loading",
    "ImageAugmenter": "skcatdog.augmentation",
    "SimpleCNNClassifier": "skcatdog.models",
    "DeepCNNClassifier": "skcatdog.models",
    "TunedCNNClassifier": "skcatdog.tuned",
    "PretrainedCNNClassifier": "skcatdog.pretrained",
    "PretrainedFeatures": "skcatdog.features",
    "TrainingHistoryDisplay": "skcatdog.plotting",
    "FeatureMapsDisplay": "skcatdog.plotting",
    "SaliencyDisplay": "skcatdog.plotting",
    "MistakesDisplay": "skcatdog.plotting",
    "compute_metrics": "skcatdog.report",
    "write_report": "skcatdog.report",
    "save_model": "skcatdog.persistence",
    "load_model": "skcatdog.persistence",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'skcatdog' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
