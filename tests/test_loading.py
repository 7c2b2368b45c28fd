"""ImageLoader and verify_images: shapes, values, formats, threads, cache, sklearn API."""

import os
import pickle
import subprocess
import sys
from unittest import SkipTest

import numpy as np
import pandas as pd
import pytest
from _images import BLUE, RED, animated_gif, exif_rotated_jpeg, solid, upright_marked
from PIL import Image
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import estimator_checks
from sklearn.utils._param_validation import InvalidParameterError

from skcatdog import loading
from skcatdog.loading import ImageLoader, ImageLoadError, verify_images

# Every test starts and ends with an empty decode cache (fixture in conftest.py).
pytestmark = pytest.mark.usefixtures("fresh_decode_cache")


# ---------------------------------------------------------------- shapes and values


@pytest.mark.parametrize("image_size", [(1, 1), (5, 7), (10, 20), (32, 16)])
def test_solid_red_png_is_red_at_any_size(folder, image_size):
    path = solid(folder, "red.png", size=(20, 10), color=RED)
    X = ImageLoader(image_size=image_size).transform([path])
    h, w = image_size
    assert X.shape == (1, h * w * 3)
    assert X.dtype == np.uint8
    assert X.flags["C_CONTIGUOUS"]
    assert (X.reshape(h, w, 3) == RED).all()


def test_rows_are_images_in_hwc_order(folder):
    top_left_red = upright_marked((40, 20))
    path = os.path.join(folder, "marked.png")
    top_left_red.save(path)
    loader = ImageLoader(image_size=(2, 2))
    X = loader.transform([path, path])
    assert loader.image_shape == (2, 2, 3)
    img = X[1].reshape(loader.image_shape)
    assert tuple(img[0, 0]) == RED
    assert tuple(img[0, 1]) == tuple(img[1, 0]) == tuple(img[1, 1]) == BLUE


def test_grayscale_mode_has_one_channel(folder):
    path = solid(folder, "red.png", color=RED)
    loader = ImageLoader(image_size=(4, 5), color_mode="grayscale")
    X = loader.transform([path])
    assert loader.image_shape == (4, 5, 1)
    assert X.shape == (1, 20)
    # ITU-R 601-2 luma of pure red: 0.299 * 255
    assert (X == 76).all()


def test_rgb_mode_repeats_the_gray_channel(folder):
    path = solid(folder, "gray.png", mode="L", color=100)
    X = ImageLoader(image_size=(3, 3)).transform([path])
    assert (X == 100).all()
    assert X.shape == (1, 27)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("x.jpg", {"quality": 95}),
        ("x.png", {}),
        ("x.bmp", {}),
        ("x.gif", {}),
        ("x.webp", {"lossless": True}),
        ("x.tiff", {}),
    ],
)
def test_each_format_loads(folder, name, kwargs):
    path = solid(folder, name, size=(16, 16), color=(200, 40, 10), **kwargs)
    X = ImageLoader(image_size=(8, 8)).transform([path]).reshape(8, 8, 3).astype(int)
    assert np.abs(X - (200, 40, 10)).max() <= 6  # JPEG and GIF's palette round a little


def test_gif_gives_its_first_frame(folder):
    X = ImageLoader(image_size=(4, 4)).transform([animated_gif(folder)])
    assert (X.reshape(4, 4, 3) == RED).all()


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_exif_orientation_makes_the_image_upright(folder, orientation):
    path = exif_rotated_jpeg(folder, orientation=orientation)
    with Image.open(path) as raw:
        assert raw.size == ((40, 20) if orientation == 3 else (20, 40))  # stored sideways
    for color_mode in ("rgb", "grayscale"):
        loader = ImageLoader(image_size=(10, 20), color_mode=color_mode)
        img = loader.transform([path]).reshape(loader.image_shape).astype(int)
        red_quadrant, blue = img[:5, :10].mean(axis=(0, 1)), img[5:, 10:].mean(axis=(0, 1))
        if color_mode == "rgb":
            assert red_quadrant[0] > 200 and red_quadrant[2] < 60, red_quadrant
            assert blue[2] > 200 and blue[0] < 60, blue
        else:
            assert abs(red_quadrant[0] - 76) < 15 and abs(blue[0] - 29) < 15


def test_exif_orientation_on_the_pillow_path(folder):
    """A PNG with an EXIF block goes through Pillow; it is made upright too."""
    im = upright_marked().transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    path = os.path.join(folder, "rotated.png")
    im.save(path, exif=exif.tobytes())
    img = ImageLoader(image_size=(2, 2)).transform([path]).reshape(2, 2, 3)
    assert tuple(img[0, 0]) == RED and tuple(img[1, 1]) == BLUE


def test_accepts_list_array_series_dataframe_and_pathlike(tmp_path):
    paths = [solid(str(tmp_path), f"{i}.png", color=(i, 0, 0)) for i in range(3)]
    expected = ImageLoader(image_size=(2, 2)).transform(paths)
    loader = ImageLoader(image_size=(2, 2))
    for X in [
        np.asarray(paths),
        np.asarray(paths, dtype=object),
        np.asarray(paths)[:, None],
        pd.Series(paths),
        pd.DataFrame({"path": paths}),
        [tmp_path / f"{i}.png" for i in range(3)],
        [os.fsencode(p) for p in paths],
        tuple(paths),
    ]:
        np.testing.assert_array_equal(loader.fit_transform(X), expected)


def test_empty_input_gives_an_empty_array():
    assert ImageLoader(image_size=(2, 3)).transform([]).shape == (0, 18)


@pytest.mark.parametrize(
    ("X", "error", "message"),
    [
        ("a.jpg", TypeError, r"got a single path 'a\.jpg'; wrap it in a list"),
        (np.array([["a", "b"]]), ValueError, r"1-D array of paths, got shape \(1, 2\)"),
        (pd.DataFrame({"a": ["x"], "b": ["y"]}), ValueError,
         "single column of paths, got a DataFrame with 2 columns"),
        ([1, 2], TypeError, "element 0 is 1 of type int"),
        (["a.jpg", None], TypeError, "element 1 is None of type NoneType"),
    ],
)
def test_bad_input_containers_are_refused(X, error, message):
    with pytest.raises(error, match=message):
        ImageLoader().transform(X)


_PAIR = r"must be \(height, width\) with two positive ints\. Got "
_TYPE = "must be an instance of "


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"image_size": (0, 5)}, ValueError, _PAIR + r"\(0, 5\) instead"),
        ({"image_size": (5,)}, ValueError, _PAIR + r"\(5,\) instead"),
        ({"image_size": (5.0, 5.0)}, ValueError, _PAIR + r"\(5\.0, 5\.0\) instead"),
        ({"image_size": 50}, InvalidParameterError, _TYPE + "'tuple' or .*Got 50 instead"),
        ({"color_mode": "RGB"}, InvalidParameterError, "must be a str among .*Got 'RGB' instead"),
        ({"n_jobs": 0}, ValueError, "must not be 0"),
        ({"n_jobs": 1.5}, InvalidParameterError, _TYPE + "'int' or None. Got 1.5 instead"),
        ({"cache": "yes"}, InvalidParameterError, _TYPE + "'bool' .*Got 'yes' instead"),
    ],
)
def test_bad_parameters_raise_in_fit_and_transform_not_init(folder, params, error, message):
    loader = ImageLoader(**params)  # storing never fails
    (name,) = params
    for method in (loader.fit, loader.transform):
        with pytest.raises(error, match=f"The '{name}' parameter of ImageLoader {message}"):
            method([solid(folder)])


# ---------------------------------------------------------------- threads


def test_n_jobs_gives_the_same_result(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i in range(13):
        pixels = rng.integers(0, 256, size=(24, 20, 3), dtype=np.uint8)
        name = f"{i}.jpg" if i % 2 else f"{i}.png"
        paths.append(os.path.join(tmp_path, name))
        Image.fromarray(pixels).save(paths[-1])
    one = ImageLoader(image_size=(8, 8), n_jobs=1, cache=False).transform(paths)
    for n_jobs in (2, -1, 5):
        many = ImageLoader(image_size=(8, 8), n_jobs=n_jobs, cache=False).transform(paths)
        np.testing.assert_array_equal(many, one)


def test_n_jobs_reports_every_bad_file(tmp_path):
    good = solid(str(tmp_path))
    paths = [good, str(tmp_path / "missing1.jpg"), good, str(tmp_path / "missing2.jpg")]
    with pytest.raises(ImageLoadError) as info:
        ImageLoader(n_jobs=2).transform(paths)
    assert [p for p, _ in info.value.failures] == [paths[1], paths[3]]


# ---------------------------------------------------------------- cache


def test_cache_hits_do_not_decode_again(folder):
    paths = [solid(folder, f"{i}.png", color=(i, i, i)) for i in range(4)]
    before = loading.decode_count()
    first = ImageLoader(image_size=(4, 4)).transform(paths)
    assert loading.decode_count() - before == 4
    second = ImageLoader(image_size=(4, 4)).transform(paths + paths)
    assert loading.decode_count() - before == 4
    np.testing.assert_array_equal(second[:4], first)
    second[:] = 0  # the caller's array is a copy: the cache is unharmed
    np.testing.assert_array_equal(ImageLoader(image_size=(4, 4)).transform(paths), first)
    # another size or colour mode is another entry
    ImageLoader(image_size=(4, 5)).transform(paths[:1])
    ImageLoader(image_size=(4, 4), color_mode="grayscale").transform(paths[:1])
    assert loading.decode_count() - before == 6


def test_cache_false_always_decodes(folder):
    path = solid(folder)
    before = loading.decode_count()
    for _ in range(3):
        ImageLoader(cache=False).transform([path])
    assert loading.decode_count() - before == 3


def test_cache_notices_a_changed_file(folder):
    path = solid(folder, "x.png", color=RED)
    loader = ImageLoader(image_size=(2, 2))
    assert (loader.transform([path]).reshape(2, 2, 3) == RED).all()
    st = os.stat(path)
    solid(folder, "x.png", color=BLUE)
    # Same size on disk; make sure the mtime differs even on coarse clocks.
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert (loader.transform([path]).reshape(2, 2, 3) == BLUE).all()


def test_cache_is_bounded_by_bytes(folder, monkeypatch):
    monkeypatch.setattr(loading, "CACHE_MAX_BYTES", 2 * 4 * 4 * 3)  # two 4x4 RGB images
    paths = [solid(folder, f"{i}.png", color=(i, 0, 0)) for i in range(3)]
    loader = ImageLoader(image_size=(4, 4))
    loader.transform(paths)
    assert loading._CACHE.info() == (2, 96)
    before = loading.decode_count()
    loader.transform(paths[1:])  # the two most recent are still there
    assert loading.decode_count() == before
    loader.transform(paths[:1])  # the oldest was evicted
    assert loading.decode_count() == before + 1


def test_grid_search_decodes_each_file_once(tmp_path):
    rng = np.random.default_rng(0)
    paths, y = [], []
    for i in range(12):
        label = ["cat", "dog"][i % 2]
        base = 200 if label == "cat" else 40
        pixels = np.clip(base + rng.normal(0, 20, (16, 16, 3)), 0, 255).astype(np.uint8)
        paths.append(str(tmp_path / f"{label}.{i}.png"))
        Image.fromarray(pixels).save(paths[-1])
        y.append(label)
    pipe = Pipeline(
        [("load", ImageLoader(image_size=(8, 8))), ("clf", LogisticRegression(max_iter=200))]
    )
    search = GridSearchCV(pipe, {"clf__C": [0.1, 1.0]}, cv=3)
    before = loading.decode_count()
    search.fit(np.asarray(paths), np.asarray(y))
    # 2 candidates x 3 folds x (fit + score) + the refit read every file many times
    assert loading.decode_count() - before == len(paths)
    assert search.best_score_ == 1.0


# ---------------------------------------------------------------- errors and verify_images


def test_one_error_names_every_bad_file(folder):
    good = solid(folder)
    empty = os.path.join(folder, "empty.jpg")
    open(empty, "wb").close()
    missing = os.path.join(folder, "missing.png")
    with pytest.raises(ImageLoadError) as info:
        ImageLoader().transform([good, empty, missing, folder])
    err = info.value
    assert isinstance(err, ValueError)
    assert err.failures == [
        (empty, "empty file (0 bytes)"),
        (missing, "file not found"),
        (folder, "is a directory, not a file"),
    ]
    message = str(err)
    assert message.startswith("3 of 4 image files could not be loaded:")
    for path, reason in err.failures:
        assert f"{path}: {reason}" in message
    assert pickle.loads(pickle.dumps(err)).failures == err.failures


def test_error_message_is_capped(folder):
    missing = [os.path.join(folder, f"missing{i}.jpg") for i in range(25)]
    with pytest.raises(ImageLoadError) as info:
        ImageLoader().transform(missing)
    assert len(info.value.failures) == 25
    message = str(info.value)
    assert "missing19.jpg: file not found" in message
    assert "missing20.jpg" not in message
    assert "... and 5 more" in message


def test_verify_images_returns_only_the_bad_files(folder):
    good = [solid(folder, "a.png"), solid(folder, "b.jpg")]
    missing = os.path.join(folder, "gone.jpg")
    bad = verify_images(good + [missing] + good, n_jobs=2)
    assert list(bad.columns) == ["path", "reason"]
    assert bad.to_dict("records") == [{"path": missing, "reason": "file not found"}]
    assert verify_images(good).empty
    assert list(verify_images([]).columns) == ["path", "reason"]


def test_verify_images_does_not_touch_the_cache(folder):
    path = solid(folder)
    verify_images([path])
    assert loading._CACHE.info() == (0, 0)


# ---------------------------------------------------------------- sklearn


def test_pipeline_with_logistic_regression(tmp_path):
    paths = [solid(str(tmp_path), f"{i}.png", color=RED if i % 2 else BLUE) for i in range(8)]
    y = ["cat" if i % 2 else "dog" for i in range(8)]
    pipe = Pipeline([("load", ImageLoader(image_size=(4, 4))), ("clf", LogisticRegression())])
    pipe.fit(paths, y)
    assert list(pipe.predict(paths)) == y
    assert pipe.score(paths, y) == 1.0
    restored = pickle.loads(pickle.dumps(pipe))
    assert list(restored.predict(paths)) == y


def test_tags_say_paths_and_no_fit():
    tags = ImageLoader().__sklearn_tags__()
    assert tags.requires_fit is False
    assert tags.input_tags.string and tags.input_tags.one_d_array
    assert not tags.input_tags.two_d_array
    assert tags.transformer_tags.preserves_dtype == []


def test_transform_works_without_fit_and_fit_sets_nothing(folder):
    loader = ImageLoader(image_size=(2, 2))
    before = dict(vars(loader))
    loader.transform([solid(folder)])
    assert loader.fit([solid(folder)]) is loader
    assert vars(loader) == before


def test_feature_names(folder):
    names = ImageLoader(image_size=(2, 3)).get_feature_names_out()
    assert names.dtype == object
    assert len(names) == 18
    assert list(names[:4]) == ["y0_x0_r", "y0_x0_g", "y0_x0_b", "y0_x1_r"]
    assert names[-1] == "y1_x2_b"
    gray = ImageLoader(image_size=(1, 2), color_mode="grayscale").get_feature_names_out()
    assert list(gray) == ["y0_x0_gray", "y0_x1_gray"]
    loader = ImageLoader(image_size=(1, 2)).set_output(transform="pandas")
    frame = loader.transform([solid(folder)])
    assert list(frame.columns) == [f"y0_x{x}_{c}" for x in (0, 1) for c in "rgb"]


def test_clone_keeps_parameters():
    loader = ImageLoader(image_size=(3, 4), color_mode="grayscale", n_jobs=2, cache=False)
    assert clone(loader).get_params() == loader.get_params()


# scikit-learn runs none of its checks on an estimator whose input is not a
# 2-D array (it only warns), so the checks that need no numeric data are
# called one by one here. The others feed numbers, which are not paths.
API_CHECKS = [
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_no_attributes_set_in_init",
    "check_parameters_default_constructible",
    "check_get_params_invariance",
    "check_set_params",
    "check_mixin_order",
    "check_valid_tag_types",
    "check_estimator_tags_renamed",
    "check_do_not_raise_errors_in_init_or_set_params",
    "check_param_validation",
]


@pytest.mark.parametrize("check_name", API_CHECKS)
def test_sklearn_api_check(check_name):
    check = getattr(estimator_checks, check_name)
    try:
        check("ImageLoader", ImageLoader())
    except SkipTest as exc:  # pytest would report a skip; these must really run
        pytest.fail(f"{check_name} skipped itself: {exc}")


def test_import_skcatdog_loading_does_not_import_tensorflow():
    code = (
        "import sys, skcatdog; skcatdog.ImageLoader; import skcatdog.loading; "
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, "
        "[m for m in sys.modules if m.startswith(('tensorflow', 'keras'))][:5]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_docstring_examples_run():
    """pyproject runs --doctest-modules over skcatdog/; this runs them from tests/ too."""
    import doctest

    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    results = doctest.testmod(loading, optionflags=flags, verbose=False)
    assert results.failed == 0
    assert results.attempted >= 20  # the examples of ImageLoader, verify_images, ...
