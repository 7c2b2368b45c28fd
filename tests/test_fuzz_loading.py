"""Fuzzing: hostile bytes never crash the loader, hang it, or escape as another error.

Inputs are random bytes and valid JPEG/PNG files, and files in formats
skcatdog does not decode (PostScript, FITS, PSD, PPM, ...), that were
bit-flipped, truncated, spliced with other bytes or had bytes overwritten.
For each one, ``ImageLoader.transform`` either returns pixels of the right
shape or raises ``ImageLoadError``, ``verify_images`` agrees with it, both
finish within the hypothesis deadline, and no Pillow decoder outside
``skcatdog.loading.FORMATS`` is ever opened.

The default run is short. A long run:

    SKCATDOG_FUZZ_EXAMPLES=20000 .venv/bin/pytest tests/test_fuzz_loading.py
"""

import os
import tempfile

import numpy as np
import pytest
from _images import foreign_format_bytes, jpeg_bytes, png_bytes
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from skcatdog.loading import FORMATS, ImageLoader, ImageLoadError, verify_images

MAX_EXAMPLES = int(os.environ.get("SKCATDOG_FUZZ_EXAMPLES", "100"))

SEEDS = {
    "jpeg": jpeg_bytes((48, 40), seed=1),
    "jpeg_gray": None,  # filled below
    "jpeg_progressive": None,
    "png": png_bytes((24, 20), seed=2),
}


def _more_seeds():
    import io

    from PIL import Image

    rng = np.random.default_rng(3)
    gray = Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8))
    buf = io.BytesIO()
    gray.save(buf, "JPEG")
    SEEDS["jpeg_gray"] = buf.getvalue()
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(
        buf, "JPEG", progressive=True
    )
    SEEDS["jpeg_progressive"] = buf.getvalue()


_more_seeds()

FOREIGN_SEEDS = {fmt: foreign_format_bytes(fmt) for fmt in
                 ["EPS", "FITS", "PSD", "PPM", "PCX", "SGI", "ICO", "DDS", "JPEG2000", "QOI",
                  "XBM", "TGA"]}


@st.composite
def mutated(draw, seeds=SEEDS):
    data = bytearray(seeds[draw(st.sampled_from(sorted(seeds)))])
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "truncate", "splice", "overwrite", "delete"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            for _ in range(draw(st.integers(1, 8))):
                i = draw(st.integers(0, len(data) - 1))
                data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[pos:]
        elif kind == "splice":
            other = SEEDS[draw(st.sampled_from(sorted(SEEDS)))]
            data[pos:] = other[draw(st.integers(0, len(other) - 1)) :]
        elif kind == "overwrite":  # header fields: sizes, lengths, markers
            chunk = draw(st.binary(min_size=1, max_size=4))
            data[pos : pos + len(chunk)] = chunk
        else:
            del data[pos : pos + draw(st.integers(1, 64))]
    return bytes(data)


hostile_bytes = st.one_of(
    st.binary(max_size=4096),
    st.binary(max_size=512).map(lambda b: b"\xff\xd8\xff" + b),  # JPEG signature, then noise
    st.binary(max_size=512).map(lambda b: b"\x89PNG\r\n\x1a\n" + b),
    mutated(),
    st.sampled_from(sorted(FOREIGN_SEEDS.values())),
    mutated(FOREIGN_SEEDS),
)


@pytest.fixture(scope="module")
def foreign_decoders_opened():
    """Every Pillow decoder outside FORMATS, wrapped to record that it was opened."""
    from PIL import Image

    Image.init()
    opened, saved = [], dict(Image.OPEN)

    def recording(name, factory):
        def open_(*args, **kwargs):
            opened.append(name)
            return factory(*args, **kwargs)

        return open_

    for name, (factory, accept) in saved.items():
        if name not in FORMATS:
            Image.OPEN[name] = (recording(name, factory), accept)
    yield opened
    Image.OPEN.clear()
    Image.OPEN.update(saved)


@pytest.fixture(scope="module")
def scratch():
    with tempfile.TemporaryDirectory() as folder:
        yield folder


@settings(
    max_examples=MAX_EXAMPLES,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
@given(data=hostile_bytes, color_mode=st.sampled_from(["rgb", "grayscale"]))
def test_hostile_bytes_load_or_raise_image_load_error(scratch, foreign_decoders_opened, data,
                                                      color_mode):
    path = os.path.join(scratch, "fuzz.jpg")
    with open(path, "wb") as f:
        f.write(data)
    loader = ImageLoader(image_size=(16, 12), color_mode=color_mode, cache=False)
    try:
        X = loader.transform([path])
    except ImageLoadError as exc:
        [(failed, reason)] = exc.failures
        assert failed == path and reason
        # --hypothesis-show-statistics tallies the kinds of failure
        event(": ".join(reason.split(": ")[:2]) if reason.startswith("cannot") else reason[:40])
        loaded = False
    else:
        assert X.shape == (1, 16 * 12 * loader.image_shape[2]) and X.dtype == np.uint8
        event("loaded")
        loaded = True
    report = verify_images([path])
    assert list(report.columns) == ["path", "reason"]
    assert len(report) == (0 if loaded else 1), (loaded, report.to_dict("records"))
    assert foreign_decoders_opened == []
