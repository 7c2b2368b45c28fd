"""The geometric augmentation: one random affine transform per image."""

import math

import numpy as np
import pytest

from skcatdog import ImageAugmenter
from skcatdog._keras_layers import RandomAffine


def _draw(n=256, **ranges):
    images = np.zeros((n, 9, 13, 1), dtype="float32")
    return np.asarray(RandomAffine(**ranges).get_random_transformation(images, seed=0))


def test_each_range_draws_within_its_bounds():
    rotation = _draw(rotation=30)
    angles = np.degrees(np.arctan2(rotation[:, 3], rotation[:, 0]))
    assert np.abs(angles).max() <= 30 and np.abs(angles).max() > 25
    np.testing.assert_allclose(rotation[:, 0] ** 2 + rotation[:, 3] ** 2, 1, rtol=1e-5)
    zoom = _draw(zoom=0.2)
    np.testing.assert_allclose(zoom[:, 0], zoom[:, 4])  # one factor for both axes
    assert 0.8 <= zoom[:, 0].min() < 0.85 and 1.15 < zoom[:, 0].max() <= 1.2
    shift = _draw(width_shift=0.25, height_shift=0.5)
    # Around the centre: the shift is what is left of the offset once A = 1.
    assert np.abs(shift[:, 2]).max() <= 0.25 * 13 and np.abs(shift[:, 5]).max() <= 0.5 * 9
    flips = _draw(horizontal_flip=True)
    assert set(np.round(flips[:, 0], 6)) == {-1.0, 1.0} and (flips[:, 4] == 1).all()
    # the mirror image reads column 12 - x: x' = -x + 12
    np.testing.assert_allclose(flips[flips[:, 0] < 0][:, 2], 12)
    shear = _draw(shear=0.1)
    assert np.abs(shear[:, 1]).max() <= 0.1 and np.abs(shear[:, 3]).max() <= 0.1
    np.testing.assert_array_equal(_draw()[:, :6], np.tile([1, 0, 0, 0, 1, 0], (256, 1)))


def test_images_are_resampled_once_and_only_while_training():
    image = np.zeros((1, 16, 16, 1), dtype="float32")
    image[0, 4:12, 2:6] = 255  # a bar on the left
    layer = RandomAffine(horizontal_flip=True, seed=1)
    assert np.array_equal(np.asarray(layer(image)), image)  # inference: untouched
    batch = np.repeat(image, 32, axis=0)
    out = np.asarray(layer(batch, training=True))
    mirrored = [np.array_equal(o, image[0][:, ::-1]) for o in out]
    kept = [np.array_equal(o, image[0]) for o in out]
    assert all(m or k for m, k in zip(mirrored, kept)) and any(mirrored) and any(kept)
    # A quarter turn: the horizontal bar stands upright, nothing is blurred.
    turn = RandomAffine(rotation=90)
    quarter = np.array([[0, -1, 15, 1, 0, 0, 0, 0]], dtype="float32")  # read (x, y) at (15 - y, x)
    turned = np.asarray(turn.transform_images(image, quarter))[0, ..., 0]
    np.testing.assert_array_equal(turned, np.rot90(image[0, ..., 0]))


@pytest.mark.parametrize("fill_mode", ["reflect", "constant", "nearest", "wrap"])
def test_augmenter_builds_one_affine_layer_then_colour_layers(fill_mode):
    layers = ImageAugmenter(rotation_range=10, shear_range=0.1, zoom_range=0.1,
                            width_shift_range=0.1, height_shift_range=0.1,
                            horizontal_flip=True, contrast_range=0.2, brightness_range=0.1,
                            fill_mode=fill_mode).build_layers(seed=0)
    assert [layer.name for layer in layers] == ["random_affine", "random_contrast",
                                                "random_brightness"]
    affine = layers[0]
    assert (affine.rotation, affine.shear, affine.zoom, affine.width_shift,
            affine.height_shift, affine.horizontal_flip, affine.vertical_flip,
            affine.fill_mode) == (10, 0.1, 0.1, 0.1, 0.1, True, False, fill_mode)
    again = RandomAffine.from_config(affine.get_config())
    assert again.get_config() == affine.get_config()
    assert ImageAugmenter(contrast_range=0.2).build_layers(seed=0)[0].name == "random_contrast"
    assert ImageAugmenter().build_layers(seed=0) == []


def test_transform_keeps_the_picture_inside_the_frame():
    # A small rotation and zoom move a centred square only a little.
    images = np.zeros((8, 32, 32, 3), dtype=np.uint8)
    images[:, 12:20, 12:20] = 255
    out = ImageAugmenter(rotation_range=10, zoom_range=0.1, random_state=0).fit_transform(images)
    assert out.dtype == np.uint8 and out.shape == images.shape
    assert not np.array_equal(out, images)
    centre = out[:, 14:18, 14:18]
    assert (centre > 200).all()
    assert math.isclose(out.mean(), images.mean(), rel_tol=0.3)
