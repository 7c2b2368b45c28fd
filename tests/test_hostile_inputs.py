"""One test per row of docs/hostile_inputs.md: what a dirty folder of photos holds.

Bad files must give one ImageLoadError naming each of them with a reason the
user can act on; odd but valid files must load with the right pixels.
"""

import json
import os
import resource
import subprocess
import sys

import numpy as np
import pytest
from _images import (
    BLUE,
    RED,
    animated_gif,
    corrupt_but_decodable_jpeg,
    exif_rotated_jpeg,
    foreign_format_bytes,
    html_page,
    jpeg_bytes,
    jpeg_declaring,
    many_scans_jpeg,
    palette_with_transparency,
    png_bytes,
    png_header_only,
    rgba,
    save,
    sixteen_bit,
    solid,
    truncated_jpeg,
    write_bytes,
)
from PIL import Image

from skcatdog import loading
from skcatdog.loading import ImageLoader, ImageLoadError, verify_images

# Every test starts and ends with an empty decode cache (fixture in conftest.py).
pytestmark = pytest.mark.usefixtures("fresh_decode_cache")


def reason_for(path, **loader_params):
    """Load one bad file; return the reason, checking both entry points agree."""
    with pytest.raises(ImageLoadError) as info:
        ImageLoader(**loader_params).transform([path])
    [(failed, reason)] = info.value.failures
    assert failed == os.fsdecode(path)
    shown = f"{failed}: {reason}".encode("utf-8", "backslashreplace").decode("utf-8")
    assert shown in str(info.value)
    assert verify_images([path]).to_dict("records") == [{"path": failed, "reason": reason}]
    return reason


def load(path, image_size=(4, 4), **params):
    loader = ImageLoader(image_size=image_size, **params)
    return loader.transform([path]).reshape(loader.image_shape).astype(int)


# ---------------------------------------------------------------- files that are not images


def test_zero_byte_file(folder):
    path = write_bytes(folder, "empty.jpg", b"")
    assert reason_for(path) == "empty file (0 bytes)"


def test_truncated_jpeg(folder):
    reason = reason_for(truncated_jpeg(folder))
    assert reason.startswith("truncated file: image file is truncated")


def test_random_bytes_named_jpg(folder):
    rng = np.random.default_rng(0)
    path = write_bytes(folder, "noise.jpg", b"\x13\x37" + rng.bytes(4000))
    assert reason_for(path) == "not an image: unknown format (starts with 13 37 " + (
        " ".join(f"{b:02x}" for b in open(path, "rb").read()[2:8])
    ) + ")"


def test_random_bytes_with_a_jpeg_signature(folder):
    rng = np.random.default_rng(1)
    path = write_bytes(folder, "noise.jpg", b"\xff\xd8\xff" + rng.bytes(4000))
    assert reason_for(path).startswith("cannot decode: ")


def test_html_page_named_jpg(folder):
    reason = reason_for(html_page(folder))
    assert reason == "not an image: the file is an HTML page (a failed download?)"


def test_text_file_named_jpg(folder):
    path = write_bytes(folder, "notes.jpg", b"just some notes\n")
    assert reason_for(path) == "not an image: the file holds text"


def test_png_named_jpg_loads(folder):
    path = solid(folder, "actually_png.jpg", color=RED, format="PNG")
    assert (load(path) == RED).all()


def test_corrupt_jpeg_data_that_decodes_fully_loads(folder):
    """libjpeg's "Corrupt JPEG data: N extraneous bytes" is a warning, not a failure."""
    path = corrupt_but_decodable_jpeg(folder)
    clean = write_bytes(folder, "clean.jpg", jpeg_bytes((32, 32)))
    # libjpeg-turbo refuses it in strict mode; Pillow (the fallback) decodes it alike
    assert np.abs(load(path, (8, 8)) - load(clean, (8, 8))).max() <= 3


# ---------------------------------------------------------------- odd but valid images


def test_grayscale_image(folder):
    path = solid(folder, "gray.png", mode="L", color=90)
    assert (load(path) == 90).all()
    assert (load(path, color_mode="grayscale") == 90).all()


def test_grayscale_jpeg(folder):
    path = solid(folder, "gray.jpg", mode="L", color=90, quality=95)
    assert np.abs(load(path) - 90).max() <= 2


def test_palette_image_with_transparency_on_white(folder):
    img = load(palette_with_transparency(folder), (2, 2))
    assert (img[:, 0] == 255).all()  # transparent half: white background
    assert (img[:, 1] == (0, 255, 0)).all()


def test_rgba_image_composited_on_white(folder):
    assert (load(rgba(folder, color=(255, 0, 0, 0))) == 255).all()
    assert (load(rgba(folder, "opaque.png", color=(0, 0, 255, 255))) == BLUE).all()
    half = load(rgba(folder, "half.png", color=(255, 0, 0, 128)))
    assert (np.abs(half - (255, 127, 127)) <= 1).all()


def test_la_image_composited_on_white(folder):
    path = solid(folder, "la.png", mode="LA", color=(0, 0))
    assert (load(path) == 255).all()


def test_cmyk_jpeg(folder):
    path = solid(folder, "cmyk.jpg", mode="CMYK", color=(0, 255, 255, 0), quality=95)
    with Image.open(path) as im:
        assert im.mode == "CMYK"
    assert (np.abs(load(path) - RED) <= 3).all()


def test_sixteen_bit_image_is_scaled_not_clipped(folder):
    assert (load(sixteen_bit(folder, value=30000)) == 117).all()  # 30000 * 255 / 65535
    assert (load(sixteen_bit(folder, "white.png", value=65535)) == 255).all()
    assert (load(sixteen_bit(folder, "dark.png", value=1000), color_mode="grayscale") == 4).all()


def test_one_by_one_image(folder):
    path = solid(folder, "dot.png", size=(1, 1), color=(10, 20, 30))
    assert (load(path, (5, 3)) == (10, 20, 30)).all()


def test_animated_gif_gives_first_frame(folder):
    assert (load(animated_gif(folder)) == RED).all()


def test_exif_rotated_photo_is_upright(folder):
    img = load(exif_rotated_jpeg(folder, orientation=6), (10, 20))
    red, blue = img[1:4, 2:8].mean(axis=(0, 1)), img[6:, 12:].mean(axis=(0, 1))
    assert red[0] > 200 and red[2] < 60, red  # top-left quadrant
    assert blue[2] > 200 and blue[0] < 60, blue


def test_broken_exif_block_still_loads(folder):
    data = bytearray(open(exif_rotated_jpeg(folder), "rb").read())
    start = data.index(b"Exif\0\0") + 6
    data[start + 4 : start + 8] = b"\xff\xff\xff\x7f"  # IFD offset far past the segment
    path = write_bytes(folder, "bad_exif.jpg", bytes(data))
    assert load(path).shape == (4, 4, 3)


# ---------------------------------------------------------------- decompression bombs


def test_decompression_bomb_over_pillow_limit(folder, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    png = solid(folder, "bomb.png", size=(20, 20))  # 400 > 2 x limit: Pillow raises
    assert reason_for(png) == (
        "decompression bomb: 400 pixels is over the limit of 100 "
        "(PIL.Image.MAX_IMAGE_PIXELS); not decoded"
    )
    jpg = solid(folder, "bomb.jpg", size=(20, 20))  # the libjpeg-turbo path checks first
    assert reason_for(jpg) == (
        "decompression bomb: 20x20 = 400 pixels is over the limit of 100 "
        "(PIL.Image.MAX_IMAGE_PIXELS); not decoded"
    )


def test_between_one_and_two_times_the_limit_is_an_error_too(folder, monkeypatch):
    """Pillow only warns (DecompressionBombWarning) there; we refuse, quietly."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    path = solid(folder, "bomb.png", size=(12, 12))  # 144 pixels
    with _no_warnings():
        reason = reason_for(path)
    assert reason.startswith("decompression bomb: 12x12 = 144 pixels")


def test_loads_on_many_threads_leave_the_warning_filters_as_they_were(folder, monkeypatch):
    """Streaming decodes batches on several threads at once; the bomb-warning
    silencing must neither leak out nor drop a filter the user set meanwhile."""
    import threading
    import warnings

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    bomb = solid(folder, "bomb.png", size=(12, 12))
    fine = solid(folder, "fine.png", size=(8, 8))
    with warnings.catch_warnings():
        before = list(warnings.filters)
        loader = ImageLoader(image_size=(4, 4), cache=False, n_jobs=2)

        def load_many():
            for _ in range(20):
                loader.transform([fine, fine])
                with pytest.raises(ImageLoadError):
                    loader.transform([bomb, fine])

        threads = [threading.Thread(target=load_many) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert warnings.filters == before


class _no_warnings:
    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings(record=True)
        self.records = self._catch.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._catch.__exit__(*exc)
        assert not [str(r.message) for r in self.records]
        return False


@pytest.mark.parametrize("writer", [png_header_only, jpeg_declaring], ids=["png", "jpeg"])
def test_huge_declared_size_fails_before_allocating(folder, writer):
    """30000 x 30000 x 3 would be 2.7 GB; the header alone must stop it."""
    path = writer(folder, size=(30000, 30000))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    reason = reason_for(path)
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert reason.startswith("decompression bomb: ")
    assert "900000000 pixels" in reason
    assert grown_mib < 100


# ---------------------------------------------------------------- only the formats we mean

FOREIGN = ["EPS", "FITS", "PSD", "PPM", "PCX", "SGI", "ICO", "DDS", "JPEG2000", "QOI", "XBM"]


@pytest.mark.parametrize("fmt", FOREIGN)
def test_formats_outside_the_list_are_refused_by_name(folder, fmt):
    path = write_bytes(folder, f"{fmt.lower()}_named.jpg", foreign_format_bytes(fmt))
    assert reason_for(path) == (
        f"unsupported format: {fmt}, by its signature (skcatdog decodes JPEG, PNG, BMP, GIF, "
        "WEBP and TIFF only; skcatdog.loading.FORMATS)"
    )


def test_formats_without_a_signature_are_refused_too(folder):
    tga = write_bytes(folder, "tga.jpg", foreign_format_bytes("TGA"))
    assert reason_for(tga).startswith("unsupported format: ")  # TGA has no signature
    im = write_bytes(folder, "im.jpg", foreign_format_bytes("IM"))
    assert reason_for(im).startswith("not an image: unknown format")


@pytest.fixture
def ghostscript_installed(monkeypatch):
    """Pretend Ghostscript is installed; record every program started instead of running it."""
    from PIL import EpsImagePlugin

    started = []

    def record(*args, **kwargs):
        started.append(args[0] if args else kwargs.get("args"))
        raise OSError("no programs are started in this test")

    monkeypatch.setattr(EpsImagePlugin, "gs_binary", "gs", raising=False)
    monkeypatch.setattr(EpsImagePlugin, "has_ghostscript", lambda: True)
    for name in ("Popen", "check_call", "run", "call"):
        monkeypatch.setattr(subprocess, name, record)
    return started


def test_postscript_named_jpg_starts_no_program(folder, ghostscript_installed):
    path = write_bytes(folder, "photo.jpg", foreign_format_bytes("EPS"))
    # What Pillow alone does with it: pick the EPS decoder from the content, run Ghostscript.
    with pytest.raises(OSError, match="no programs are started"), Image.open(path) as im:
        im.load()
    assert ghostscript_installed, "the control must see Pillow start Ghostscript"
    ghostscript_installed.clear()
    assert reason_for(path).startswith("unsupported format: EPS")
    assert ghostscript_installed == []


def test_the_command_line_skips_foreign_formats_with_the_reason(folder):
    from skcatdog.cli import _load_images

    good = solid(folder, "cat.1.png", size=(8, 8))
    eps = write_bytes(folder, "cat.2.jpg", foreign_format_bytes("EPS"))
    pixels, reasons = _load_images(ImageLoader(image_size=(4, 4)), [good, eps], progress=False)
    assert pixels.shape == (1, 48)
    assert reasons[0] is None and reasons[1].startswith("unsupported format: EPS")


# ---------------------------------------------------------------- bounded cost per file


def test_a_huge_file_is_refused_from_its_size_without_opening_it(folder, monkeypatch):
    path = os.path.join(folder, "huge.jpg")
    with open(path, "wb") as f:  # 3 GiB with a JPEG signature, sparse on disk
        f.write(jpeg_bytes((16, 16)))
        f.truncate(3 << 30)
    opened = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, *a, **k: opened.append(p) or real_open(p, *a, **k))
    reason = reason_for(path)
    assert reason == (
        "file too large: 3,221,225,472 bytes, over the limit of 67,108,864 "
        "(skcatdog.loading.MAX_FILE_BYTES); not read"
    )
    assert path not in opened


def test_the_file_size_limit_can_be_changed(folder, monkeypatch):
    path = write_bytes(folder, "small.png", png_bytes((16, 16)))
    monkeypatch.setattr(loading, "MAX_FILE_BYTES", 100)
    assert reason_for(path).startswith(f"file too large: {os.path.getsize(path):,} bytes")
    monkeypatch.setattr(loading, "MAX_FILE_BYTES", 1 << 20)
    assert load(path).shape == (4, 4, 3)


def test_a_jpeg_with_hundreds_of_scans_is_stopped(folder, monkeypatch):
    path = write_bytes(folder, "scans.jpg", many_scans_jpeg(side=256, n_scans=300))
    assert reason_for(path) == (
        "too many JPEG scans: 310, over the limit of 100 (skcatdog.loading.MAX_JPEG_SCANS); "
        "not decoded"
    )
    # The limit is what stopped it: above it, the decoder runs every scan.
    monkeypatch.setattr(loading, "MAX_JPEG_SCANS", 1000)
    assert load(path).shape == (4, 4, 3)


def test_an_ordinary_progressive_jpeg_is_within_the_scan_limit(folder):
    from io import BytesIO

    buf = BytesIO()
    Image.new("RGB", (64, 64), RED).save(buf, "JPEG", progressive=True, quality=95)
    assert 5 <= buf.getvalue().count(b"\xff\xda") <= 20
    path = write_bytes(folder, "progressive.jpg", buf.getvalue())
    assert np.abs(load(path) - RED).max() <= 3


def test_a_picture_needing_too_much_memory_is_refused_before_decoding(folder, monkeypatch):
    path = solid(folder, "big.png", size=(1000, 800), color=RED, mode="RGBA")
    monkeypatch.setattr(loading, "MAX_DECODE_BYTES", 4 << 20)
    # 800,000 RGBA pixels: the 4-byte frame and its premultiplied copy
    assert reason_for(path) == (
        "decoding needs about 6 MiB, over the limit of 4 MiB "
        "(skcatdog.loading.MAX_DECODE_BYTES); not decoded"
    )
    monkeypatch.setattr(loading, "MAX_DECODE_BYTES", 8 << 20)
    assert (load(path) == RED).all()


_PEAK_SCRIPT = r"""
import json, re, sys
import skcatdog.loading as loading

def kib(field):
    return int(re.search(field + r":\s+(\d+)", open("/proc/self/status").read()).group(1))

path, h, w, small = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
estimates = []
check = loading._check_memory
loading._check_memory = lambda needed: estimates.append(needed) or check(needed)
loading._load_one(small, (8, 8), "rgb", False)  # every code path warmed up on a small file
estimates.clear()
with open("/proc/self/clear_refs", "w") as f:  # the peak (VmHWM) starts again from now
    f.write("5")
before = kib("VmRSS")
pixels, reason = loading._load_one(path, (h, w), "rgb", False)
grown = kib("VmHWM") - before
print(json.dumps({"reason": reason, "estimate": estimates, "grown": grown * 1024}))
"""


def _blocks(mode, side):
    rng = np.random.default_rng(0)
    cells = rng.integers(0, 256, (side // 16, side // 16, 4), dtype=np.uint8)
    big = Image.fromarray(np.kron(cells, np.ones((16, 16, 1), np.uint8)), "RGBA")
    if mode == "I;16":
        return Image.fromarray(np.asarray(big)[..., 0].astype(np.uint16) * 257)
    return big.convert(mode)


@pytest.mark.parametrize(
    ("mode", "name", "target"),
    [
        ("RGB", "rgb.png", 50), ("RGBA", "rgba.png", 50), ("P", "palette.png", 50),
        ("I;16", "gray16.png", 50), ("LA", "la.png", 50), ("RGB", "rgb_large_target.png", 900),
        ("RGB", "photo.jpg", 900), ("CMYK", "cmyk.jpg", 900), ("RGBA", "rgba.webp", 50),
        ("RGB", "rgb.tiff", 50), ("RGBA", "deflate.tiff", 50), ("P", "palette.gif", 50),
        ("RGB", "rgb.bmp", 50),
    ],
)
@pytest.mark.skipif(not os.access("/proc/self/clear_refs", os.W_OK),
                    reason="measuring a peak needs Linux's /proc/self/clear_refs")
def test_peak_memory_stays_within_the_estimate(folder, mode, name, target):
    """In a fresh process, decoding a 2000x2000 picture grows the peak RSS by no
    more than the estimate that MAX_DECODE_BYTES is checked against."""
    kwargs = {"palette.png": {"transparency": 0}, "photo.jpg": {"quality": 90},
              "deflate.tiff": {"compression": "tiff_adobe_deflate"}}.get(name, {})
    path = save(_blocks(mode, 2000), folder, name, **kwargs)
    small = save(_blocks(mode, 64), folder, "small_" + name, **kwargs)
    out = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, path, str(target), str(target), small],
        capture_output=True, text=True, check=True,
    )
    result = json.loads(out.stdout)
    assert result["reason"] is None
    [estimate] = result["estimate"]
    # RSS moves in pages and allocator chunks: 2 MiB of slack.
    assert result["grown"] <= estimate + (2 << 20), (result, estimate / 2**20)
    assert result["grown"] >= 1 << 20  # a measurement, not a process that did nothing


# ---------------------------------------------------------------- paths


def test_missing_path(folder):
    assert reason_for(os.path.join(folder, "nope.jpg")) == "file not found"


def test_directory_instead_of_file(folder):
    os.mkdir(os.path.join(folder, "photo.jpg"))
    assert reason_for(os.path.join(folder, "photo.jpg")) == "is a directory, not a file"


def test_fifo_is_refused_without_blocking(folder):
    path = os.path.join(folder, "pipe.jpg")
    os.mkfifo(path)
    assert reason_for(path) == "not a regular file"


def test_file_without_read_permission(folder, monkeypatch):
    """Simulated: the tests may run as root, which reads a chmod 000 file anyway."""
    path = solid(folder, "secret.png")

    real_open = os.open

    def deny(file, *args, **kwargs):
        if os.fspath(file) == path:
            raise PermissionError(13, "Permission denied", file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    assert reason_for(path) == "permission denied"


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root reads files whatever their mode; the simulated test above covers it",
)
def test_file_without_read_permission_for_real(folder):
    path = solid(folder, "secret.png")
    os.chmod(path, 0)
    try:
        assert reason_for(path) == "permission denied"
    finally:
        os.chmod(path, 0o644)


def test_names_with_spaces_and_non_ascii(folder):
    path = solid(folder, "chat noir – été 猫 🐈.png", color=BLUE)
    assert (load(path) == BLUE).all()


def test_non_utf8_byte_names(folder):
    raw = os.path.join(os.fsencode(folder), b"caf\xe9 \xff.png")  # Latin-1, not UTF-8
    solid(folder, os.fsdecode(raw), color=RED)
    assert (load(raw) == RED).all()
    assert (load(os.fsdecode(raw)) == RED).all()
    missing = os.path.join(os.fsencode(folder), b"gone\xe9.png")
    assert reason_for(missing) == "file not found"
    with pytest.raises(ImageLoadError) as info:
        ImageLoader().transform([missing])
    str(info.value).encode("utf-8")  # the message stays printable
    assert "gone\\udce9.png" in str(info.value)


# ---------------------------------------------------------------- many at once


def test_several_bad_files_one_error_naming_all(folder):
    good = solid(folder, "good.png")
    bad = {
        write_bytes(folder, "empty.jpg", b""): "empty file (0 bytes)",
        os.path.join(folder, "missing.jpg"): "file not found",
        html_page(folder): "not an image: the file is an HTML page (a failed download?)",
        truncated_jpeg(folder): "truncated file: image file is truncated",
    }
    paths = [good, *bad, good]
    for n_jobs in (1, 2):
        with pytest.raises(ImageLoadError) as info:
            ImageLoader(n_jobs=n_jobs).transform(paths)
        failures = info.value.failures
        assert [p for p, _ in failures] == list(bad)
        for (_, reason), expected in zip(failures, bad.values(), strict=True):
            assert reason.startswith(expected)
        assert str(info.value).startswith("4 of 6 image files could not be loaded:")


def test_verify_images_returns_exactly_the_bad_ones(folder):
    good = [
        solid(folder, "a.png"),
        solid(folder, "b.jpg"),
        animated_gif(folder),
        write_bytes(folder, "c.jpg", jpeg_bytes()),
        write_bytes(folder, "d.png", png_bytes()),
        corrupt_but_decodable_jpeg(folder),
    ]
    bad = [
        write_bytes(folder, "empty.jpg", b""),
        truncated_jpeg(folder),
        html_page(folder),
        os.path.join(folder, "missing.jpg"),
    ]
    paths = [good[0], bad[0], *good[1:4], bad[1], bad[2], *good[4:], bad[3]]
    report = verify_images(paths, n_jobs=2)
    assert report.path.tolist() == bad
    assert report.reason.str.len().gt(0).all()
    # and what verify_images passes, ImageLoader loads
    assert ImageLoader(image_size=(8, 8)).transform(good).shape == (len(good), 192)


def test_a_path_that_became_a_fifo_after_the_check_is_refused_without_blocking(folder):
    """The file is opened without blocking and checked again once open."""
    path = os.path.join(folder, "swapped.jpg")
    os.mkfifo(path)
    with pytest.raises(loading._BadFile, match="^not a regular file$"):
        loading._read(path, 1 << 20)


def test_a_file_that_grows_while_read_stops_past_the_limit(folder, monkeypatch):
    path = write_bytes(folder, "growing.jpg", b"\xff\xd8\xff" + bytes(97))
    real_fstat = os.fstat

    def smaller(fd):  # the size seen at open is older than the bytes there now
        st = real_fstat(fd)
        return os.stat_result((*st[:6], 10, *st[7:]))

    monkeypatch.setattr(os, "fstat", smaller)
    with pytest.raises(loading._BadFile, match="^file too large: 51 bytes, over the limit of 50"):
        loading._read(path, 50)
    assert len(loading._read(path, 1000)) == 100


def test_every_real_photo_is_within_the_limits():
    """The defaults let every real photo through (skipped without ../shared/data)."""
    from conftest import REAL_DATA

    paths = sorted(str(p) for p in REAL_DATA.glob("dogs-vs-cats-*/*.jpg"))
    if not paths:
        pytest.skip(f"real photos not found under {REAL_DATA}")
    assert len(paths) == 6475
    assert verify_images(paths, n_jobs=2).to_dict("records") == []


def test_an_image_size_no_image_could_be_decoded_to_is_refused_before_allocating(folder):
    """As a model file could set it: nothing is allocated for a (100000, 100000) target."""
    path = solid(folder, "red.png")
    with pytest.raises(ValueError, match=r"^The 'image_size' parameter of ImageLoader is too "
                                         r"large: \(100000, 100000\) needs about 114,441 MiB"):
        ImageLoader(image_size=(100000, 100000)).transform([path])
    assert ImageLoader(image_size=(4000, 4000)).image_shape == (4000, 4000, 3)


def test_a_file_bigger_than_the_limit_once_opened_is_refused(folder, monkeypatch):
    """The size seen by fstat (after the stat check) is already over the limit."""
    path = write_bytes(folder, "swelled.jpg", b"\xff\xd8\xff" + bytes(197))
    with pytest.raises(loading._BadFile, match="^file too large: 51 bytes, over the limit of 50"):
        loading._read(path, 50)
