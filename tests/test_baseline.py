"""compare_with_baseline on hand-made labels and probabilities."""

import json

import numpy as np
import pytest

from skcatdog._baseline import NEAR_CONSTANT_STD, BaselineComparison, compare_with_baseline

BALANCED = np.array(["cat", "dog"] * 30)  # 60 images: the margin is 2 * sqrt(60 / 4) = 7.75


def test_every_photo_called_cat():
    # The user's case: a balanced folder, every test photo called "cat".
    c = compare_with_baseline(BALANCED, ["cat"] * 60, np.tile([0.51, 0.49], (60, 1)))
    assert c.n_samples == 60
    assert c.class_counts == {"cat": 30, "dog": 30}
    assert c.majority_class == "cat"  # the first in sorted order on a tie
    assert c.baseline_accuracy == c.accuracy == 0.5
    assert c.margin == pytest.approx(2 * np.sqrt(0.25 / 60))
    assert c.beats_baseline is False
    assert c.constant_prediction == "cat"
    assert c.proba_std == pytest.approx(0, abs=1e-12)
    assert c.learned_nothing is True
    lines = c.warning()
    assert lines[0] == "the model does no better than always answering the majority class, cat."
    assert "0.500 against 0.500" in lines[1] and "cat: 30, dog: 30" in lines[1]
    assert "more than 0.629 on 60 images: NOT beaten" in lines[1]
    assert lines[2] == "It learned nothing: it answers cat for every image."
    assert "--model pretrained" in lines[3]


def test_imbalanced_majority_is_the_baseline():
    y = np.array(["dog"] * 45 + ["cat"] * 15)
    c = compare_with_baseline(y, ["dog"] * 60)
    assert (c.majority_class, c.baseline_accuracy, c.accuracy) == ("dog", 0.75, 0.75)
    assert c.beats_baseline is False and c.learned_nothing is True
    assert c.proba_std is None  # no probabilities given
    # Always answering the minority class: worse than the baseline, and nothing learned.
    c = compare_with_baseline(y, ["cat"] * 60)
    assert c.accuracy == 0.25 and c.beats_baseline is False and c.learned_nothing is True


@pytest.mark.parametrize("n_correct, beats", [(60, True), (38, True), (37, False), (30, False)])
def test_the_margin_is_two_binomial_standard_errors(n_correct, beats):
    # 38 right is 8 images above the baseline's 30, more than 7.75; 37 is 7, not.
    y_pred = BALANCED.copy()
    y_pred[: 60 - n_correct] = np.where(y_pred[: 60 - n_correct] == "cat", "dog", "cat")
    c = compare_with_baseline(BALANCED, y_pred)
    assert c.accuracy == n_correct / 60
    assert c.beats_baseline is beats
    assert c.learned_nothing is False
    if beats:
        assert c.warning() == []
    else:
        assert c.warning()[0].startswith("the model does no better")


def test_near_constant_probabilities_learned_nothing():
    # Both classes predicted, even a good accuracy, but the probabilities hardly move.
    p_dog = np.where(BALANCED == "dog", 0.504, 0.496)
    c = compare_with_baseline(BALANCED, BALANCED, np.column_stack([1 - p_dog, p_dog]))
    assert c.beats_baseline is True and c.constant_prediction is None
    assert c.proba_std == pytest.approx(0.004) and c.proba_std < NEAR_CONSTANT_STD
    assert c.learned_nothing is True
    assert c.warning()[0] == "the model's probabilities barely vary from image to image."
    assert "vary by 0.0040" in c.warning()[2]
    # Probabilities that move are fine.
    p_dog = np.where(BALANCED == "dog", 0.9, 0.1)
    c = compare_with_baseline(BALANCED, BALANCED, np.column_stack([1 - p_dog, p_dog]))
    assert c.learned_nothing is False and c.warning() == []


def test_one_class_has_no_baseline_to_beat():
    p_dog = np.linspace(0.1, 0.2, 5)
    c = compare_with_baseline(["cat"] * 5, ["cat"] * 5, np.column_stack([1 - p_dog, p_dog]))
    assert c.baseline_accuracy == 1.0 and c.beats_baseline is None
    assert c.constant_prediction == "cat" and c.learned_nothing is False  # right, every one
    assert c.warning() == []
    assert c.summary() == "accuracy 1.000 on 5 images of one class (cat: 5): no baseline to beat"
    one = compare_with_baseline(["dog"], ["dog"], [[0.2, 0.8]])
    assert one.proba_std is None and one.learned_nothing is False


def test_plain_json_round_trip_and_integer_labels():
    c = compare_with_baseline(np.array([0, 1, 1, 1]), np.array([1, 1, 1, 1]), [[0.3, 0.7]] * 4)
    assert c.class_counts == {"0": 1, "1": 3}
    assert type(c.majority_class) is int and type(c.constant_prediction) is int
    assert BaselineComparison(**json.loads(json.dumps(c._asdict()))) == c


def test_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="y_pred has 2"):
        compare_with_baseline(["cat"] * 3, ["cat"] * 2)
    with pytest.raises(ValueError, match="No samples"):
        compare_with_baseline([], [])
