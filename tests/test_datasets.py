import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skcatdog.datasets import (
    UnlabeledImageWarning,
    get_data_home,
    load_demo,
    load_image_dataset,
    make_cats_and_dogs,
)

SHARED_6K = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "dogs-vs-cats-6k"


def _write(root, *rel_paths):
    """Write tiny real images (text for non-image names) under root."""
    for rel in rel_paths:
        target = Path(root, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix.lower() in {".txt", ".csv", ""}:  # also .DS_Store
            target.write_text("not an image")
        else:  # Pillow picks the format from the extension
            Image.new("RGB", (8, 8), (120, 60, 30)).save(target)


def _names(paths):
    return [Path(p).name for p in paths]


def test_flat_kaggle_layout(tmp_path):
    _write(tmp_path, "cat.1.jpg", "Dog.7.JPG", "dog.2.jpeg", "CAT.3.png", "cat.4.Webp")
    ds = load_image_dataset(tmp_path)
    assert ds.layout == "file names"
    assert list(ds.target) == ["cat", "cat", "cat", "dog", "dog"]
    assert _names(ds.data) == ["cat.1.jpg", "CAT.3.png", "cat.4.Webp", "dog.2.jpeg", "Dog.7.JPG"]
    assert list(ds.target_names) == ["cat", "dog"]
    assert ds.skipped == []


@pytest.mark.parametrize(
    "files",
    [
        ["train/cats/a.jpg", "train/cats/b.png", "train/dogs/c.jpg"],
        ["PetImages/Cat/1.jpg", "PetImages/Cat/2.jpg", "PetImages/Dog/1.jpg"],
    ],
)
def test_class_folder_layouts(tmp_path, files):
    _write(tmp_path, *files)
    root = tmp_path / Path(files[0]).parts[0]
    ds = load_image_dataset(root)
    assert ds.layout == "class folders"
    assert sorted(ds.target) == ["cat", "cat", "dog"]
    for path, label in zip(ds.data, ds.target):
        assert Path(path).parent.name.lower().rstrip("s") == label


def test_class_folder_names_are_lower_cased_and_merged(tmp_path):
    _write(tmp_path, "Cat/1.jpg", "cat/2.jpg", "DOG/3.jpg")
    if len({p.name for p in tmp_path.iterdir()}) < 3:
        pytest.skip("case-insensitive file system")
    ds = load_image_dataset(tmp_path)
    assert list(ds.target) == ["cat", "cat", "dog"]


def test_nested_images_belong_to_their_class_folder(tmp_path):
    _write(tmp_path, "cats/siamese/old/1.jpg", "cats/2.jpg", "dogs/pug/3.jpg")
    ds = load_image_dataset(tmp_path)
    assert dict(zip(_names(ds.data), ds.target)) == {
        "1.jpg": "cat",
        "2.jpg": "cat",
        "3.jpg": "dog",
    }


def test_plural_class_folders_give_singular_labels_all_or_none(tmp_path):
    _write(tmp_path, "Cats/1.jpg", "dogs/2.jpg")
    assert list(load_image_dataset(tmp_path).target) == ["cat", "dog"]
    assert list(load_image_dataset(tmp_path, singular_labels=False).target) == ["cats", "dogs"]
    # One singular name (or a double s) keeps every name as it is spelt.
    _write(tmp_path / "mixed", "cats/1.jpg", "dog/2.jpg")
    assert list(load_image_dataset(tmp_path / "mixed").target) == ["cats", "dog"]
    _write(tmp_path / "glass", "glass/1.jpg", "cups/2.jpg")
    assert list(load_image_dataset(tmp_path / "glass").target) == ["cups", "glass"]


def test_predict_folders_are_found_as_datasets_find_them(tmp_path):
    from skcatdog.cli import _expand_paths

    _write(tmp_path, "b/cat.10.jpg", "b/cat.2.jpg", "a/x.JPG", "__MACOSX/b/._cat.1.jpg",
           "__MACOSX/cat.3.jpg", ".hidden/cat.4.jpg", "a/notes.txt")
    found = [os.path.relpath(p, tmp_path) for p in _expand_paths([tmp_path])]
    assert found == [os.path.join("a", "x.JPG"), os.path.join("b", "cat.2.jpg"),
                     os.path.join("b", "cat.10.jpg")]


def test_kaggle_names_inside_subfolders_use_names(tmp_path):
    # Kaggle's zip unpacks to train/cat.N.jpg and test1/N.jpg: the folder
    # names must not become labels, and test1 images stay unlabeled.
    _write(tmp_path, "train/cat.1.jpg", "train/dog.1.jpg", "test1/1.jpg", "test1/2.jpg")
    with pytest.warns(UnlabeledImageWarning, match=r"test1/1\.jpg.*test1/2\.jpg"):
        ds = load_image_dataset(tmp_path)
    assert list(ds.target) == ["cat", "dog"]
    assert _names(ds.skipped) == ["1.jpg", "2.jpg"]


def test_name_contradicting_class_folder_is_not_labelled(tmp_path):
    _write(tmp_path, "dogs/cat.4085.jpg", "dogs/dog.1.jpg", "cats/cat.2.jpg")
    with pytest.warns(UnlabeledImageWarning, match=r"cat\.4085\.jpg.*folder says 'dogs'"):
        ds = load_image_dataset(tmp_path)
    assert _names(ds.data) == ["cat.2.jpg", "dog.1.jpg"]
    assert _names(ds.skipped) == ["cat.4085.jpg"]


def test_unlabeled_files_warned_by_name_and_left_out(tmp_path):
    _write(tmp_path, "cat.1.jpg", "dog.1.jpg", "IMG_1234.jpg", "1.jpg", "cat.jpg", "cat.x.jpg")
    with pytest.warns(UnlabeledImageWarning) as record:
        ds = load_image_dataset(tmp_path)
    assert len(record) == 1
    message = str(record[0].message)
    for name in ["IMG_1234.jpg", "1.jpg", "cat.jpg", "cat.x.jpg"]:
        assert name in message
    assert list(ds.target) == ["cat", "dog"]
    assert sorted(_names(ds.skipped)) == sorted(["IMG_1234.jpg", "1.jpg", "cat.jpg", "cat.x.jpg"])
    assert not set(_names(ds.data)) & set(_names(ds.skipped))


def test_unlabeled_raise_and_ignore(tmp_path):
    _write(tmp_path, "cat.1.jpg", "dog.1.jpg", "IMG_1234.jpg")
    with pytest.raises(ValueError, match="IMG_1234.jpg"):
        load_image_dataset(tmp_path, on_unlabeled="raise")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = load_image_dataset(tmp_path, on_unlabeled="ignore")
    assert _names(ds.skipped) == ["IMG_1234.jpg"]
    with pytest.raises(ValueError, match="on_unlabeled"):
        load_image_dataset(tmp_path, on_unlabeled="skip")


def test_images_beside_class_folders_are_unlabeled(tmp_path):
    _write(tmp_path, "cats/1.jpg", "dogs/2.jpg", "stray.jpg")
    with pytest.warns(UnlabeledImageWarning, match="stray.jpg"):
        ds = load_image_dataset(tmp_path)
    assert list(ds.target) == ["cat", "dog"]


def test_many_unlabeled_names_are_shortened(tmp_path):
    _write(tmp_path, "cat.1.jpg", "dog.1.jpg", *[f"{i}.jpg" for i in range(30)])
    with pytest.warns(UnlabeledImageWarning, match="and 10 more") as record:
        ds = load_image_dataset(tmp_path)
    assert len(record) == 1
    assert len(ds.skipped) == 30


def test_hidden_and_non_image_files_ignored_silently(tmp_path):
    _write(
        tmp_path,
        "cat.1.jpg",
        "dog.1.jpg",
        ".DS_Store",
        "._cat.1.jpg",
        ".hidden/cat.9.jpg",
        ".ipynb_checkpoints/dog.9.jpg",
        "__MACOSX/._dog.1.jpg",
        "notes.txt",
        "labels.csv",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = load_image_dataset(tmp_path)
    assert _names(ds.data) == ["cat.1.jpg", "dog.1.jpg"]
    assert ds.skipped == []


def test_empty_folder(tmp_path):
    _write(tmp_path, "notes.txt", "sub/.DS_Store")
    with pytest.raises(ValueError, match=r"No image files found in .*" + tmp_path.name):
        load_image_dataset(tmp_path)


def test_all_unlabeled_is_an_error(tmp_path):
    _write(tmp_path, "1.jpg", "2.jpg")
    with pytest.raises(ValueError, match=r"1\.jpg"):
        load_image_dataset(tmp_path, on_unlabeled="ignore")


def test_missing_folder_and_file_instead_of_folder(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_image_dataset(missing)
    _write(tmp_path, "cat.1.jpg")
    with pytest.raises(NotADirectoryError, match=r"cat\.1\.jpg"):
        load_image_dataset(tmp_path / "cat.1.jpg")


def test_single_class_warns(tmp_path):
    _write(tmp_path, "cat.1.jpg", "cat.2.jpg")
    with pytest.warns(UserWarning, match="Only one class.*cannot be trained"):
        ds = load_image_dataset(tmp_path)
    assert list(ds.target_names) == ["cat"]


def test_return_X_y_and_bunch_consistency(tmp_path):
    _write(tmp_path, "dog.3.jpg", "cat.1.jpg", "dog.1.jpg", "cat.2.png")
    ds = load_image_dataset(tmp_path)
    paths, labels = load_image_dataset(tmp_path, return_X_y=True)
    np.testing.assert_array_equal(paths, ds.data)
    np.testing.assert_array_equal(labels, ds.target)
    assert ds.data.ndim == 1 and ds.data.dtype == object
    assert ds.target.ndim == 1 and ds.target.dtype == object
    assert all(isinstance(p, str) for p in ds.data)
    assert list(ds.frame.columns) == ["path", "label"]
    assert ds.frame["path"].tolist() == list(ds.data)
    assert ds.frame["label"].tolist() == list(ds.target)
    np.testing.assert_array_equal(ds.target_names, np.unique(ds.target))
    assert all(Path(p).is_file() for p in ds.data)
    assert all(Path(p).parent == tmp_path for p in ds.data)
    assert "cat: 2" in ds.DESCR and "dog: 2" in ds.DESCR


def test_natural_order(tmp_path):
    names = ["cat.10.jpg", "cat.2.jpg", "cat.1.jpg", "dog.100.jpg", "dog.9.jpg", "dog.11.jpg"]
    _write(tmp_path, *names)
    ds = load_image_dataset(tmp_path)
    assert _names(ds.data) == [
        "cat.1.jpg",
        "cat.2.jpg",
        "cat.10.jpg",
        "dog.9.jpg",
        "dog.11.jpg",
        "dog.100.jpg",
    ]
    _write(tmp_path / "folders", "cats/img10.jpg", "cats/img9.jpg", "dogs/b/1.jpg", "dogs/a/2.jpg")
    ds = load_image_dataset(tmp_path / "folders")
    assert [Path(p).relative_to(tmp_path / "folders").as_posix() for p in ds.data] == [
        "cats/img9.jpg",
        "cats/img10.jpg",
        "dogs/a/2.jpg",
        "dogs/b/1.jpg",
    ]


def test_import_does_not_load_tensorflow():
    code = (
        "import sys, skcatdog.datasets; "
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------
# Demo data
# --------------------------------------------------------------------------


def test_make_cats_and_dogs_shapes_and_determinism():
    images, labels, boxes = make_cats_and_dogs(6, image_size=(24, 40), random_state=3)
    assert images.shape == (12, 24, 40, 3) and images.dtype == np.uint8
    assert list(labels) == ["cat"] * 6 + ["dog"] * 6
    again = make_cats_and_dogs(6, image_size=(24, 40), random_state=3)
    np.testing.assert_array_equal(images, again[0])
    np.testing.assert_array_equal(boxes, again[2])
    other = make_cats_and_dogs(6, image_size=(24, 40), random_state=4)
    assert not np.array_equal(images, other[0])


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(n_per_class=0), r"n_per_class must be a positive int, got 0\."),
        (dict(image_size=(8, 8)), r"image_size must be .* ints >= 16, got \(8, 8\)\."),
        (dict(image_size=3), r"image_size must be .* ints >= 16, got 3\."),
    ],
)
def test_make_cats_and_dogs_validates(bad, message):
    with pytest.raises(ValueError, match=message):
        make_cats_and_dogs(**{"n_per_class": 2, **bad})


def test_demo_boxes_inside_images_and_hold_the_animal():
    images, _, boxes = make_cats_and_dogs(20, image_size=(48, 64), random_state=0)
    top, left, bottom, right = boxes.T
    assert np.all((0 <= top) & (top < bottom) & (bottom <= 48))
    assert np.all((0 <= left) & (left < right) & (right <= 64))
    # the animal takes a good part of the picture, as the docstring promises
    side = np.maximum(bottom - top, right - left)
    assert np.all((side >= 0.3 * 48) & (side <= 0.8 * 48))


def test_load_demo_deterministic_cached_balanced(tmp_path):
    ds = load_demo(n_per_class=5, image_size=(32, 32), random_state=1, data_home=tmp_path / "a")
    assert ds.layout == "file names" and ds.skipped == []
    assert list(ds.target_names) == ["cat", "dog"]
    assert (ds.target == "cat").sum() == (ds.target == "dog").sum() == 5
    assert _names(ds.data)[:3] == ["cat.0.jpg", "cat.1.jpg", "cat.2.jpg"]
    assert ds.boxes.shape == (10, 4) and ds.boxes.dtype.kind == "i"
    top, left, bottom, right = ds.boxes.T
    assert np.all((0 <= top) & (top < bottom) & (bottom <= 32))
    assert np.all((0 <= left) & (left < right) & (right <= 32))
    with Image.open(ds.data[0]) as im:
        assert im.format == "JPEG" and im.size == (32, 32)

    # same random_state elsewhere: the same bytes
    other = load_demo(n_per_class=5, image_size=(32, 32), random_state=1, data_home=tmp_path / "b")
    for p, q in zip(ds.data, other.data):
        assert Path(p).read_bytes() == Path(q).read_bytes()
    np.testing.assert_array_equal(ds.boxes, other.boxes)

    # cached: a second call writes nothing
    mtimes = {p: os.stat(p).st_mtime_ns for p in ds.data}
    again = load_demo(n_per_class=5, image_size=(32, 32), random_state=1, data_home=tmp_path / "a")
    assert {p: os.stat(p).st_mtime_ns for p in again.data} == mtimes
    np.testing.assert_array_equal(again.boxes, ds.boxes)

    # a different seed goes to a different folder
    third = load_demo(n_per_class=5, image_size=(32, 32), random_state=2, data_home=tmp_path / "a")
    assert third.folder != ds.folder


def test_load_demo_repairs_incomplete_folder(tmp_path):
    ds = load_demo(n_per_class=3, image_size=(32, 32), data_home=tmp_path)
    original = Path(ds.data[4]).read_bytes()
    kept_mtime = os.stat(ds.data[0]).st_mtime_ns
    os.remove(ds.data[4])
    (ds.folder / ".tmp-leftover").write_bytes(b"half a jpeg")  # an interrupted write
    again = load_demo(n_per_class=3, image_size=(32, 32), data_home=tmp_path)
    assert Path(again.data[4]).read_bytes() == original
    assert os.stat(again.data[0]).st_mtime_ns == kept_mtime
    assert len(again.data) == 6


def test_load_demo_return_X_y_and_data_home_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SKCATDOG_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"
    paths, labels = load_demo(n_per_class=2, image_size=(16, 16), return_X_y=True)
    assert all(Path(p).is_relative_to(tmp_path / "env") for p in paths)
    assert list(labels) == ["cat", "cat", "dog", "dog"]
    with pytest.raises(ValueError, match="random_state"):
        load_demo(n_per_class=2, random_state=None)


@pytest.mark.slow
def test_real_kaggle_6k_listing():
    if not SHARED_6K.is_dir():
        pytest.skip(f"{SHARED_6K} is absent")
    ds = load_image_dataset(SHARED_6K, on_unlabeled="raise")
    assert ds.layout == "file names"
    assert (ds.target == "cat").sum() == 2988
    assert (ds.target == "dog").sum() == 2987
    assert list(ds.target_names) == ["cat", "dog"]
    numbers = [int(Path(p).name.split(".")[1]) for p in ds.data[ds.target == "cat"]]
    assert numbers == sorted(numbers)
