"""Compare a classifier with the majority-class baseline, and spot one that learned nothing.

A network trained on too few photos often settles on the answer that is right
for the larger class, or for half of a balanced folder: 150 cats and 150 dogs
gave 0.492 test accuracy, every photo called "cat". Its accuracy looks like a
number, not like a failure; :func:`compare_with_baseline` says which it is.
The command line prints the comparison after every fit and the report shows
it near the top.
"""

import math
from typing import NamedTuple

import numpy as np

__all__ = ["BaselineComparison", "compare_with_baseline"]

#: Predicted probabilities whose standard deviation across the images is below
#: this have not moved off a constant: a network that learned something pushes
#: its probabilities towards 0 and 1, and one point of a percentage between the
#: photos is no ranking worth the name.
NEAR_CONSTANT_STD = 0.01

#: How many binomial standard errors the model must beat the baseline by.
N_STANDARD_ERRORS = 2

SUGGESTION = ("More photos, more epochs, or, for a small folder, a pretrained backbone "
              "(--model pretrained) should do better.")


def _json_label(label):
    return label.item() if isinstance(label, np.generic) else label


class BaselineComparison(NamedTuple):
    """A classifier's accuracy beside the majority-class baseline's.

    Every field is a plain JSON value, so ``comparison._asdict()`` goes into
    ``metrics.json`` as it is and ``BaselineComparison(**that_dict)`` comes back.
    """

    #: Number of images compared.
    n_samples: int
    #: Images per true class (label as text -> count), in sorted label order.
    class_counts: dict
    #: The most common true class (the first in sorted order on a tie).
    majority_class: object
    #: Accuracy of always answering ``majority_class``.
    baseline_accuracy: float
    #: Accuracy of the model.
    accuracy: float
    #: ``accuracy`` must exceed ``baseline_accuracy`` by more than this.
    margin: float
    #: Whether it does; None when the true labels hold one class (nothing to beat).
    beats_baseline: object
    #: The class predicted for every image, or None when the predictions vary.
    constant_prediction: object
    #: Largest standard deviation of a class's probability across the images
    #: (None without probabilities, or with fewer than two images).
    proba_std: object
    #: A single class predicted although the true labels hold several, or
    #: probabilities that barely vary (``proba_std < NEAR_CONSTANT_STD``).
    learned_nothing: bool

    def summary(self):
        """One line: the two accuracies, the class counts and whether the baseline is beaten."""
        counts = ", ".join(f"{c}: {n}" for c, n in self.class_counts.items())
        if self.beats_baseline is None:
            return (f"accuracy {self.accuracy:.3f} on {self.n_samples} images of one class "
                    f"({counts}): no baseline to beat")
        return (f"accuracy {self.accuracy:.3f} against {self.baseline_accuracy:.3f} for always "
                f"answering {self.majority_class} ({counts}); beating it takes more than "
                f"{self.baseline_accuracy + self.margin:.3f} on {self.n_samples} images: "
                + ("beaten" if self.beats_baseline else "NOT beaten"))

    def problem(self):
        """What is wrong, in one sentence, or None when all is well."""
        if self.beats_baseline is False:
            return ("the model does no better than always answering the majority class, "
                    f"{self.majority_class}.")
        if self.learned_nothing:
            return "the model's probabilities barely vary from image to image."
        return None

    def nothing_learned(self):
        """Why the model learned nothing, or None."""
        if not self.learned_nothing:
            return None
        if self.constant_prediction is not None:
            return f"it answers {self.constant_prediction} for every image"
        return (f"its probabilities vary by {self.proba_std:.4f} (standard deviation) from "
                "image to image")

    def warning(self):
        """Lines of the warning to show, or an empty list when all is well."""
        problem = self.problem()
        if problem is None:
            return []
        summary, nothing = self.summary(), self.nothing_learned()
        return [problem, summary[0].upper() + summary[1:] + ".",
                *([f"It learned nothing: {nothing}."] if nothing else []), SUGGESTION]


def compare_with_baseline(y_true, y_pred, proba=None):
    """Compare predictions with always answering the most common true class.

    The model beats the baseline when its accuracy exceeds the baseline's by
    more than two binomial standard errors, ``2 * sqrt(b * (1 - b) / n)`` for
    baseline accuracy ``b`` on ``n`` images.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    proba : array-like of shape (n_samples, n_classes), default=None
        Predicted probabilities, to tell near-constant ones.

    Returns
    -------
    comparison : BaselineComparison
        The accuracies, class counts, margin and flags.

    Examples
    --------
    >>> from skcatdog._baseline import compare_with_baseline
    >>> y = ["cat"] * 30 + ["dog"] * 30
    >>> lazy = compare_with_baseline(y, ["cat"] * 60)
    >>> lazy.baseline_accuracy, lazy.accuracy, lazy.beats_baseline, lazy.learned_nothing
    (0.5, 0.5, False, True)
    >>> lazy.class_counts, lazy.constant_prediction, round(lazy.margin, 3)
    ({'cat': 30, 'dog': 30}, 'cat', 0.129)
    >>> good = compare_with_baseline(y, ["cat"] * 27 + ["dog"] * 33)
    >>> good.accuracy, good.beats_baseline, good.learned_nothing
    (0.95, True, False)
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}.")
    if len(y_true) == 0:
        raise ValueError("No samples to compare.")
    n = len(y_true)
    classes, counts = np.unique(y_true, return_counts=True)
    majority = int(np.argmax(counts))
    n_majority, n_correct = int(counts[majority]), int(np.sum(y_true == y_pred))
    # Why a noise margin rather than "at least one image more": a model no
    # better than the baseline still scores as a coin that lands right with
    # probability b, n times, whose count of hits spreads by sqrt(n b (1 - b)).
    # On 60 photos of a balanced folder that is 3.9 images: 35 right (0.58)
    # is 1.3 of them above 30. Two standard errors (a one-sided test at about 2%,
    # in the normal approximation) let a model that learned nothing pass
    # rarely, and a model that learned (0.9 and more) always.
    margin = N_STANDARD_ERRORS * math.sqrt(n_majority * (n - n_majority) / n)
    beats = None if len(classes) < 2 else bool(n_correct - n_majority > margin)
    predicted = np.unique(y_pred)
    constant = _json_label(predicted[0]) if len(predicted) == 1 else None
    proba_std = None
    if proba is not None and n >= 2:
        proba_std = float(np.max(np.std(np.asarray(proba, dtype=np.float64), axis=0)))
    learned_nothing = bool((constant is not None and len(classes) > 1)
                           or (proba_std is not None and proba_std < NEAR_CONSTANT_STD))
    return BaselineComparison(
        n_samples=n,
        class_counts={str(c): int(k) for c, k in zip(classes, counts)},
        majority_class=_json_label(classes[majority]),
        baseline_accuracy=n_majority / n,
        accuracy=n_correct / n,
        margin=margin / n,
        beats_baseline=beats,
        constant_prediction=constant,
        proba_std=proba_std,
        learned_nothing=learned_nothing,
    )
