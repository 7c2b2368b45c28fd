"""Decode image files into a 2-D ``uint8`` array, one flattened image per row.

:class:`ImageLoader` is the first step of every skcatdog pipeline: it turns a
1-D array of file names into ``(n_samples, height * width * channels)`` pixels.
:func:`verify_images` finds the files that would make it fail.

Real folders of photos are dirty, so every file goes through the same
function, :func:`_load_one`, which either returns the pixels or a short
reason why the file cannot be used. The loader collects all the reasons and
raises one :class:`ImageLoadError` naming every bad file.

Decoding
--------
JPEG files are decoded by libjpeg-turbo through ``simplejpeg`` with DCT-domain
downscaling: the decoder produces the smallest of its scaled sizes (1/8, 2/8,
..., 8/8) that is still at least ``image_size``, which skips most of the work
for photos much larger than the target. Pillow decodes the other formats (PNG,
BMP, GIF, WebP, TIFF) and the JPEGs that ``simplejpeg`` refuses (CMYK,
files with recoverable corruption), with ``Image.draft`` scaling for JPEG,
and only the formats in :data:`FORMATS`.
Both paths then squash the picture to ``image_size`` with Pillow: area
averaging (the ``BOX`` filter: each output pixel is the mean of the source
pixels it covers, no aliasing) when shrinking both sides, bilinear otherwise.

Limits
------
Every file is someone else's bytes, so each file's cost is bounded before it
is decoded, by module-level settings read at every load (assign a new value
to change them; worker processes start with the defaults):
:data:`FORMATS` (only these decoders run), :data:`MAX_FILE_BYTES` (checked
from the file's size before reading), :data:`MAX_JPEG_SCANS`,
:data:`MAX_DECODE_BYTES` (memory, estimated from the header) and Pillow's
own ``PIL.Image.MAX_IMAGE_PIXELS``. Large pictures are shrunk by an integer
factor (``Image.reduce``, or the DCT scaling of JPEGs) before their colours
are converted. A file over a limit is a bad file like any other: its reason
names the limit.

Cache
-----
Decoded images are kept in a per-process, thread-safe LRU cache keyed by the
absolute path, modification time, size, ``image_size`` and ``color_mode`` and
bounded by :data:`CACHE_MAX_BYTES`. A ``GridSearchCV`` over a pipeline that
starts with an :class:`ImageLoader` therefore decodes each file once instead
of once per candidate and fold (with the default ``n_jobs=None`` of the search;
worker processes each have their own cache). :func:`decode_count` counts real
decodes; :func:`clear_cache` empties the cache.
"""

import contextlib
import io
import itertools
import os
import re
import stat
import threading
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral

import numpy as np
import simplejpeg
from PIL import Image, UnidentifiedImageError
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import StrOptions, validate_params

__all__ = [
    "CACHE_MAX_BYTES",
    "FORMATS",
    "MAX_DECODE_BYTES",
    "MAX_FILE_BYTES",
    "MAX_JPEG_SCANS",
    "ImageLoadError",
    "ImageLoader",
    "clear_cache",
    "decode_count",
    "verify_images",
]

#: Upper bound, in bytes, of the decoded pixels kept by the per-process cache
#: (1 GiB). Read on every insertion, so assigning a new value takes effect at
#: once; 0 disables caching for everyone.
CACHE_MAX_BYTES = 1 << 30

#: The image formats decoded, by Pillow's names. A file in any other format
#: (PostScript, FITS, PSD, ...) is refused as "unsupported format" whatever
#: its name says, before any of its decoding code runs: Pillow would pick the
#: decoder from the content, and some of them start outside programs
#: (Ghostscript for PostScript) or are rarely fuzzed.
FORMATS = ("JPEG", "PNG", "BMP", "GIF", "WEBP", "TIFF")

#: Largest file read, in bytes (64 MiB): bigger files are refused from their
#: size alone, before a byte is read. A JPEG is read into memory whole.
MAX_FILE_BYTES = 64 << 20

#: Most scans a JPEG may have (100). Every scan of a progressive JPEG
#: revisits the whole picture, so a file of many empty scans takes minutes
#: to decode; photos have 1 (baseline) to about 12 (progressive).
MAX_JPEG_SCANS = 100

#: Most memory decoding one image may take, in bytes (300 MiB), estimated
#: from its header before any pixel is decoded (see docs/hostile_inputs.md);
#: an image that would need more is refused. JPEGs are estimated at the DCT
#: scale they are decoded at, so even the largest photos need little.
MAX_DECODE_BYTES = 300 << 20

# How many bad files an ImageLoadError message lists before "... and N more".
_MAX_LISTED = 20

_JPEG_SOI = b"\xff\xd8\xff"
_EXIF_ORIENTATION = 0x0112
# EXIF orientation -> the Pillow transpose that makes the picture upright
# (the same table as PIL.ImageOps.exif_transpose).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
_SIXTEEN_BIT_MODES = {"I;16", "I;16L", "I;16B", "I;16N", "I"}
_CHANNELS = {"rgb": ("r", "g", "b"), "grayscale": ("gray",)}


class ImageLoadError(ValueError):
    """One or more image files could not be loaded.

    Raised once per call, after every file was tried, so that one run names
    all the bad files. No partial result is returned.

    Parameters
    ----------
    failures : list of (str, str)
        The ``(path, reason)`` of every file that could not be loaded.
    n_total : int, default=None
        How many files were asked for, for the message.

    Attributes
    ----------
    failures : list of (str, str)
        The ``(path, reason)`` pairs, in input order.
    """

    def __init__(self, failures, n_total=None):
        self.failures = list(failures)
        self.n_total = n_total
        super().__init__(self._message())

    def _message(self):
        n = len(self.failures)
        of = f" of {self.n_total}" if self.n_total is not None else ""
        lines = [f"{n}{of} image file{'s' if n != 1 else ''} could not be loaded:"]
        # backslashreplace: a non-UTF-8 file name (surrogate escapes) stays printable
        lines += [
            f"  {path}: {reason}".encode("utf-8", "backslashreplace").decode("utf-8")
            for path, reason in self.failures[:_MAX_LISTED]
        ]
        if n > _MAX_LISTED:
            lines.append(f"  ... and {n - _MAX_LISTED} more (all are in .failures)")
        lines.append("skcatdog.verify_images(paths) lists the bad files of a folder.")
        return "\n".join(lines)

    def __reduce__(self):
        # Exceptions pickle their args by default; ours are not the message.
        return type(self), (self.failures, self.n_total)


class _BadFile(Exception):
    """Internal: carries the user-facing reason a file cannot be loaded."""


# --------------------------------------------------------------------------
# The cache and the decode counter
# --------------------------------------------------------------------------


class _LRUCache:
    """Arrays by key, thread-safe; past ``max_bytes()`` bytes the least recently used go."""

    def __init__(self, max_bytes):
        self._max_bytes = max_bytes  # read at each put: tests and users may change it
        self._items = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value):
        limit = self._max_bytes()
        if value.nbytes > limit:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self._nbytes += value.nbytes
            while self._nbytes > limit:
                _, old = self._items.popitem(last=False)
                self._nbytes -= old.nbytes

    def clear(self):
        with self._lock:
            self._items.clear()
            self._nbytes = 0

    def info(self):
        with self._lock:
            return len(self._items), self._nbytes


_CACHE = _LRUCache(lambda: CACHE_MAX_BYTES)
_decodes = 0
_decodes_lock = threading.Lock()


def clear_cache():
    """Forget every decoded image held by this process's cache.

    Examples
    --------
    >>> from skcatdog.loading import clear_cache
    >>> clear_cache()
    """
    _CACHE.clear()


def decode_count():
    """Return how many files this process has read and decoded so far.

    Cache hits do not count; every attempt to decode a file does, including
    the ones that fail. Tests use it to show that the cache works.

    Returns
    -------
    count : int
        The number of real decodes since the module was imported.

    Examples
    --------
    >>> from skcatdog.loading import decode_count
    >>> decode_count() >= 0
    True
    """
    return _decodes


def _count_decode():
    global _decodes
    with _decodes_lock:
        _decodes += 1


# --------------------------------------------------------------------------
# Decoding one file
# --------------------------------------------------------------------------


_PROGRESSIVE_FRAMES = frozenset({0xC2, 0xC6, 0xCA, 0xCE})  # SOF2, 6, 10, 14


def _jpeg_header(data):
    """Read the markers of JPEG bytes up to the first scan.

    Returns ``(EXIF orientation, offset of the first scan or None, whether the
    frame is progressive)``; orientation 1 where there is none.
    """
    orientation, progressive = 1, False
    try:
        i, n = 2, len(data)
        while i + 4 <= n:
            if data[i] != 0xFF:
                break
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if marker == 0xDA:  # start of scan: the headers are over
                return orientation, i, progressive
            if marker == 0xD9:
                break
            progressive = progressive or marker in _PROGRESSIVE_FRAMES
            if 0xD0 <= marker <= 0xD8 or marker == 0x01:  # markers without a length
                i += 2
                continue
            length = int.from_bytes(data[i + 2 : i + 4], "big")
            if marker == 0xE1 and orientation == 1 and data[i + 4 : i + 10] == b"Exif\0\0":
                orientation = _tiff_orientation(data, i + 10, i + 2 + length)
            i += 2 + length
    except (IndexError, ValueError):
        pass
    return orientation, None, progressive


def _tiff_orientation(data, start, end):
    order = bytes(data[start : start + 2])
    if order == b"II":
        endian = "little"
    elif order == b"MM":
        endian = "big"
    else:
        return 1

    def uint(offset, size):
        if start + offset + size > end:
            raise ValueError("EXIF block ends early")
        return int.from_bytes(data[start + offset : start + offset + size], endian)

    ifd = uint(4, 4)
    for k in range(uint(ifd, 2)):
        entry = ifd + 2 + 12 * k
        if uint(entry, 2) == _EXIF_ORIENTATION:
            value = uint(entry + 8, 2)
            return value if 1 <= value <= 8 else 1
    return 1


def _check_scans(data, first_scan):
    # Each scan of a progressive JPEG revisits every block of the picture, so
    # a small file of empty scans can take minutes; real photos have at most
    # about a dozen. (A sequential JPEG's decoder refuses scans beyond one per
    # component.) 0xFF 0xDA cannot occur inside entropy-coded data (a 0xFF
    # there is always followed by 0x00), so counting the pair counts the scans.
    n_scans = data.count(b"\xff\xda", first_scan)
    if n_scans > MAX_JPEG_SCANS:
        raise _BadFile(
            f"too many JPEG scans: {n_scans}, over the limit of {MAX_JPEG_SCANS} "
            "(skcatdog.loading.MAX_JPEG_SCANS); not decoded"
        )


def _bomb(pixels):
    return _BadFile(
        f"decompression bomb: {pixels} pixels is over the limit of "
        f"{Image.MAX_IMAGE_PIXELS} (PIL.Image.MAX_IMAGE_PIXELS); not decoded"
    )


def _check_pixels(width, height):
    # Pillow only warns between 1x and 2x its limit; a warning is no answer for
    # a batch, so the limit itself is the line.
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and width * height > limit:
        raise _bomb(f"{width}x{height} = {width * height}")


def _check_memory(needed):
    if needed > MAX_DECODE_BYTES:
        raise _BadFile(
            f"decoding needs about {needed / 2**20:,.0f} MiB, over the limit of "
            f"{MAX_DECODE_BYTES / 2**20:,.0f} MiB (skcatdog.loading.MAX_DECODE_BYTES); "
            "not decoded"
        )


def _reduction(size, target):
    """The integer factor :func:`_reduce` shrinks a ``size`` picture by."""
    (width, height), (w, h) = size, target
    return max(1, min(width // w, height // h))


def _pillow_bytes(size, mode, target, transparency=False, image_format=None):
    """Peak bytes of decoding a ``size`` picture of ``mode`` down to ``target``.

    The decoded frame (three times for WebP: libwebp decodes into a buffer
    of its own, which Pillow copies twice), the full-size copies
    :func:`_reduce` makes first (a palette expanded to RGB or RGBA, 16-bit
    samples widened to 32 bits, alpha premultiplied), then at most three
    4-byte copies of the reduced (or enlarged) picture while its colours are
    converted, composited, resized and copied out. ``tests/test_hostile_inputs.py``
    measures that the real peak stays within it.
    """
    width, height = size
    n = width * height
    per_pixel = 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4
    factor = _reduction(size, target)
    needed = n * per_pixel + (8 * n if image_format == "WEBP" else 0)
    if factor > 1:
        alpha = mode in _ALPHA_MODES or transparency
        if mode in ("P", "PA"):
            needed += 4 * n * (2 if alpha or mode == "PA" else 1)
        elif mode == "1" or alpha or mode in _SIXTEEN_BIT_MODES:
            needed += 4 * n
    # The reduced picture, or the target itself where it is the larger (an
    # image enlarged).
    return needed + 12 * max(n // (factor * factor), target[0] * target[1])


def _decode_jpeg_fast(data, image_size, color_mode, orientation):
    """libjpeg-turbo with DCT scaling; None where Pillow must take over."""
    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None
    if colorspace not in ("YCbCr", "Gray", "RGB"):  # CMYK/YCCK: Pillow knows Adobe's inversion
        return None
    _check_pixels(width, height)
    h, w = image_size
    if orientation >= 5:  # stored sideways: the target is too
        h, w = w, h
    # libjpeg-turbo decodes at the smallest scale k/8 that covers the target:
    # the bytes, the decoded array and Pillow's 4-byte copy of it, then the
    # copies of the resized picture (see _pillow_bytes).
    k = next((k for k in range(1, 9) if -(-height * k // 8) >= h and -(-width * k // 8) >= w),
             8)
    channels = 3 if color_mode == "rgb" else 1
    scaled = -(-height * k // 8) * -(-width * k // 8)
    _check_memory(len(data) + scaled * (channels + 4) + 12 * h * w)
    try:
        # strict: recoverable errors (truncation, corrupt data) raise, and Pillow
        # decides, so both paths accept and refuse the same files.
        pixels = simplejpeg.decode_jpeg(
            data,
            colorspace="RGB" if color_mode == "rgb" else "GRAY",
            min_height=h,
            min_width=w,
            strict=True,
        )
    except ValueError:
        return None
    size = (pixels.shape[1], pixels.shape[0])
    # frombuffer shares the array's memory: one copy fewer than fromarray.
    im = Image.frombuffer("RGB" if channels == 3 else "L", size, pixels, "raw",
                          "RGB" if channels == 3 else "L", 0, 1)
    return _finish(im, (h, w), orientation)


def _decode_pillow(fp, image_size, color_mode, n_bytes_held):
    try:
        im = Image.open(fp, formats=FORMATS)
    except Image.DecompressionBombError as exc:
        # Pillow raised from the header, before allocating; its message cites 2x the limit.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise _bomb(found.group(1) if found else "the declared size") from None
    except UnidentifiedImageError:
        raise _BadFile(_not_an_image(fp)) from None
    _check_pixels(*im.size)
    try:
        orientation = im.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # a broken EXIF block does not spoil the pixels
        orientation = 1
    if orientation not in _TRANSPOSE:
        orientation = 1
    h, w = image_size
    if orientation >= 5:
        h, w = w, h
    if im.format in ("JPEG", "MPO"):
        im.draft("L" if color_mode == "grayscale" else "RGB", (w, h))
    _check_memory(n_bytes_held + _pillow_bytes(im.size, im.mode, (w, h),
                                              "transparency" in im.info, im.format))
    try:
        im.load()
    except OSError as exc:
        if "truncated" in str(exc):
            raise _BadFile(f"truncated file: {exc}") from None
        raise
    im = _reduce(im, (w, h))
    im = _to_mode(im, "L" if color_mode == "grayscale" else "RGB")
    return _finish(im, (h, w), orientation)


def _reduce(im, target):
    """Shrink ``im`` by the largest integer factor that keeps it at least
    ``target``, averaging the pixels of each block, before colours are
    converted: the conversions then work on the small picture."""
    factor = _reduction(im.size, target)
    if factor == 1:
        return im
    if im.mode in ("P", "PA"):  # averaging palette indices would mix unrelated colours
        im = im.convert("RGBA" if im.mode == "PA" or "transparency" in im.info else "RGB")
    elif im.mode == "1":
        im = im.convert("L")
    elif im.mode in _SIXTEEN_BIT_MODES and im.mode != "I":
        im = im.convert("I")  # Pillow reduces 32-bit samples, not 16-bit ones
    return im.reduce(factor)


def _to_mode(im, mode):
    if im.mode in _SIXTEEN_BIT_MODES:
        # 16-bit samples: scale 0..65535 onto 0..255 (Pillow's convert would clip).
        wide = np.asarray(im).astype(np.uint32)
        np.clip(wide, 0, 65535, out=wide)
        im = Image.fromarray(((wide * 255 + 32767) // 65535).astype(np.uint8))
    if im.mode in _ALPHA_MODES or "transparency" in im.info:
        rgba = im.convert("RGBA")
        im = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im.alpha_composite(rgba)
    return im if im.mode == mode else im.convert(mode)


def _finish(im, stored_size, orientation):
    h, w = stored_size
    if im.size != (w, h):
        # Shrinking: the mean of the covered source pixels (area averaging, like
        # the DCT scaling before it). Enlarging: bilinear, which does not block.
        shrink = im.width >= w and im.height >= h
        im = im.resize((w, h), Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR)
    if orientation in _TRANSPOSE:
        im = im.transpose(_TRANSPOSE[orientation])
    return np.asarray(im)


def _format_of(head):
    """The Pillow format whose signature ``head`` carries, or None.

    Only each plugin's signature test runs (a comparison of leading bytes),
    never its decoder.
    """
    Image.init()
    for name, (_, accept) in Image.OPEN.items():
        if accept is not None:
            try:
                if accept(head):
                    return name
            except Exception:  # a signature test that cannot read this head
                continue
    return None


def _not_an_image(fp):
    fp.seek(0)
    head = fp.read(512)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<!--")) or b"<html" in text:
        return "not an image: the file is an HTML page (a failed download?)"
    found = _format_of(head)
    if found in FORMATS or found == "MPO":  # its own decoder has just refused it
        return f"not an image: a damaged {found} file (its header cannot be read)"
    if found is not None:
        return (f"unsupported format: {found}, by its signature (skcatdog decodes "
                f"{', '.join(FORMATS[:-1])} and {FORMATS[-1]} only; "
                "skcatdog.loading.FORMATS)")
    if text.startswith((b"<?xml", b"{", b"[")) or (head and head.isascii() and b"\0" not in head):
        return "not an image: the file holds text"
    return f"not an image: unknown format (starts with {head[:8].hex(' ')})"


def _load_one(path, image_size, color_mode, use_cache):
    """Decode one file to a ``(h, w)`` or ``(h, w, 3)`` uint8 array.

    Returns ``(pixels, None)`` or ``(None, reason)``; never raises for a bad
    file, so that a batch can report all of them.
    """
    try:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise _BadFile("file not found") from None
        except PermissionError:
            raise _BadFile("permission denied") from None
        if stat.S_ISDIR(st.st_mode):
            raise _BadFile("is a directory, not a file")
        if not stat.S_ISREG(st.st_mode):  # a FIFO or device could block or never end
            raise _BadFile("not a regular file")
        if st.st_size == 0:
            raise _BadFile("empty file (0 bytes)")
        limit = MAX_FILE_BYTES
        if st.st_size > limit:
            raise _BadFile(_too_big(st.st_size, limit))
        key = None
        if use_cache:
            key = (os.path.abspath(path), st.st_mtime_ns, st.st_size, image_size, color_mode)
            cached = _CACHE.get(key)
            if cached is not None:
                return cached, None
        _count_decode()
        data = _read(path, limit)
        pixels = None
        if data.startswith(_JPEG_SOI):
            orientation, first_scan, progressive = _jpeg_header(data)
            if progressive and first_scan is not None:
                _check_scans(data, first_scan)
            pixels = _decode_jpeg_fast(data, image_size, color_mode, orientation)
        if pixels is None:
            pixels = _decode_pillow(io.BytesIO(data), image_size, color_mode, len(data))
        if key is not None:
            pixels.flags.writeable = False
            _CACHE.put(key, pixels)
        return pixels, None
    except _BadFile as exc:
        return None, str(exc)
    except Exception as exc:  # anything a hostile file provokes is that file's failure
        message = str(exc).strip() or "no details"
        return None, f"cannot decode: {type(exc).__name__}: {message}"


# Non-blocking: should the path have become a FIFO since it was checked, opening
# it returns at once (and fstat then refuses it) instead of waiting for a writer.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def _read(path, limit):
    """The bytes of the regular file ``path``, at most ``limit`` of them."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except FileNotFoundError:  # deleted since it was checked
        raise _BadFile("file not found") from None
    except PermissionError:
        raise _BadFile("permission denied") from None
    except IsADirectoryError:
        raise _BadFile("is a directory, not a file") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _BadFile("not a regular file")
        # One read of the known size; a second one only if the file is growing,
        # and then no further than one byte past the limit.
        data = os.read(fd, min(st.st_size, limit) + 1)
        if len(data) > limit:  # it grew past the limit since it was checked
            raise _BadFile(_too_big(len(data), limit))
        if len(data) <= st.st_size:
            return data
        chunks, size = [data], len(data)
        while size <= limit and (chunk := os.read(fd, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise _BadFile(_too_big(size, limit))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _too_big(size, limit):
    return (f"file too large: {size:,} bytes, over the limit of {limit:,} "
            "(skcatdog.loading.MAX_FILE_BYTES); not read")


# --------------------------------------------------------------------------
# Batches
# --------------------------------------------------------------------------


def _as_paths(X):
    """Validate a 1-D collection of paths; return a list of str."""
    if isinstance(X, (str, bytes, os.PathLike)):
        raise TypeError(
            "Expected a 1-D list or array of paths, got a single path "
            f"{X!r}; wrap it in a list."
        )
    if hasattr(X, "columns") and hasattr(X, "iloc"):  # a pandas DataFrame
        if X.shape[1] != 1:
            raise ValueError(
                f"Expected a single column of paths, got a DataFrame with {X.shape[1]} columns."
            )
        X = X.iloc[:, 0]
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        elif X.ndim != 1:
            raise ValueError(f"Expected a 1-D array of paths, got shape {X.shape}.")
    else:
        try:
            X = list(X)
        except TypeError:
            raise TypeError(
                f"Expected a 1-D list or array of paths, got {type(X).__name__}."
            ) from None
    paths = []
    for i, p in enumerate(X):
        if isinstance(p, np.ndarray) and p.shape == (1,):
            p = p[0]
        if isinstance(p, np.str_):
            p = str(p)
        if not isinstance(p, (str, bytes, os.PathLike)):
            raise TypeError(
                f"Expected paths (str, bytes or os.PathLike); element {i} is "
                f"{p!r} of type {type(p).__name__}."
            )
        paths.append(os.fsdecode(p))
    return paths


def _effective_n_jobs(n_jobs):
    if n_jobs is None:
        return 1
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning; use None, a positive int or -1.")
    if n_jobs > 0:
        return n_jobs
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores + 1 + n_jobs)


_QUIET_LOCK = threading.Lock()
_quiet_callers = 0
#: The entry warnings.filterwarnings("ignore", category=...) puts in warnings.filters.
_BOMB_WARNING_FILTER = ("ignore", None, Image.DecompressionBombWarning, None, 0)


@contextlib.contextmanager
def _bomb_warnings_ignored():
    """Silence Pillow's DecompressionBombWarning while any thread loads images.

    Pillow warns (it does not raise) between 1x and 2x its pixel limit; our own
    check turns those images into failures, so the warning would only be noise.
    ``warnings.catch_warnings`` cannot be used: it saves and restores the whole
    filter list, so loads on several threads at once (a streaming fit decodes
    batches side by side) could restore each other's lists. Here the first
    caller adds one filter entry and the last one removes that entry alone.
    """
    global _quiet_callers
    with _QUIET_LOCK:
        if _quiet_callers == 0:
            warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
        _quiet_callers += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet_callers -= 1
            if _quiet_callers == 0:
                with contextlib.suppress(ValueError):  # someone reset the filters
                    warnings.filters.remove(_BOMB_WARNING_FILTER)
                # Tell the warnings machinery its filters changed (what
                # filterwarnings does); a private hook, hence the guard.
                getattr(warnings, "_filters_mutated", lambda: None)()


def _run(paths, n_jobs, work):
    """Call ``work(i, path)`` for every path, on ``n_jobs`` threads."""
    n_jobs = min(_effective_n_jobs(n_jobs), len(paths))
    with _bomb_warnings_ignored():
        if n_jobs <= 1:
            for i, path in enumerate(paths):
                work(i, path)
            return
        # Each thread takes the next index until none is left: no idle thread at
        # the end of a batch, and one future per thread (next() on a count is atomic).
        indices = itertools.count()

        def drain():
            for i in indices:
                if i >= len(paths):
                    return
                work(i, paths[i])

        with ThreadPoolExecutor(max_workers=n_jobs) as pool:
            for future in [pool.submit(drain) for _ in range(n_jobs)]:
                future.result()


def _load_batch(paths, image_size, color_mode, n_jobs, use_cache):
    h, w = image_size
    c = 3 if color_mode == "rgb" else 1
    # One preallocated result: peak memory stays about one copy of the pixels.
    out = np.empty((len(paths), h * w * c), dtype=np.uint8)
    failures = [None] * len(paths)

    def work(i, path):
        pixels, reason = _load_one(path, image_size, color_mode, use_cache)
        if reason is None:
            out[i] = pixels.reshape(-1)
        else:
            failures[i] = reason

    _run(paths, n_jobs, work)
    bad = [(paths[i], r) for i, r in enumerate(failures) if r is not None]
    if bad:
        raise ImageLoadError(bad, n_total=len(paths))
    return out


class ImageLoader(TransformerMixin, BaseEstimator):
    """Decode image files into flattened ``uint8`` pixels, one row per image.

    A stateless transformer: ``transform`` reads the files named in ``X`` and
    returns a C-contiguous ``(n_samples, height * width * channels)`` array;
    row ``i`` is image ``i`` flattened in ``(height, width, channel)`` order,
    so ``X[i].reshape(loader.image_shape)`` is the picture.

    Every image is made upright (EXIF orientation), converted to RGB or
    grayscale (palette, grayscale, CMYK and 16-bit images included; 16-bit
    samples are scaled, not clipped; transparency is composited on a white
    background), and squashed to ``image_size`` without keeping the aspect
    ratio, like ``keras.utils.load_img(path, target_size=image_size)``.
    Shrinking averages the source pixels each output pixel covers (Pillow's
    ``BOX`` filter, after JPEGs were shrunk in the DCT domain by libjpeg-turbo
    to the smallest scale that is still at least ``image_size``); enlarging
    is bilinear.
    Animated images give their first frame.

    Only JPEG, PNG, BMP, GIF, WebP and TIFF are decoded (:data:`FORMATS`),
    whatever a file's name says. Files that cannot be loaded (missing,
    empty, truncated, not an image, in another format, or over a limit:
    :data:`MAX_FILE_BYTES`, :data:`MAX_JPEG_SCANS`, :data:`MAX_DECODE_BYTES`
    or Pillow's decompression-bomb limit ``PIL.Image.MAX_IMAGE_PIXELS``) are
    all collected, then one :class:`ImageLoadError` names each of them with
    its reason.

    Parameters
    ----------
    image_size : tuple of (int, int), default=(50, 50)
        ``(height, width)`` of the output images, as in Keras.

    color_mode : {"rgb", "grayscale"}, default="rgb"
        Three channels or one. Grayscale uses the ITU-R 601-2 luma transform.

    n_jobs : int, default=None
        Number of threads decoding in parallel (decoding releases the GIL).
        ``None`` means 1, ``-1`` means all the cores this process may use.

    cache : bool, default=True
        Keep decoded images in the per-process LRU cache (bounded by
        ``skcatdog.loading.CACHE_MAX_BYTES``, 1 GiB) and reuse them while the
        file's modification time and size are unchanged. The cache holds a
        second copy of the pixels: turn it off for one-shot loads of data sets
        larger than memory allows twice.

    Attributes
    ----------
    image_shape : tuple of (int, int, int)
        ``(height, width, channels)`` of one image (a read-only property).

    See Also
    --------
    verify_images : List the files that cannot be decoded, with reasons.
    clear_cache : Empty the cache of decoded images.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from skcatdog.loading import ImageLoader
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = os.path.join(tmp.name, "red.png")
    >>> Image.new("RGB", (20, 10), (255, 0, 0)).save(path)
    >>> loader = ImageLoader(image_size=(4, 6))
    >>> X = loader.fit_transform([path])
    >>> X.shape, X.dtype
    ((1, 72), dtype('uint8'))
    >>> X[0].reshape(loader.image_shape)[0, 0]
    array([255,   0,   0], dtype=uint8)
    >>> loader.get_feature_names_out()[:4]
    array(['y0_x0_r', 'y0_x0_g', 'y0_x0_b', 'y0_x1_r'], dtype=object)
    >>> tmp.cleanup()
    """

    _parameter_constraints = {
        "image_size": [tuple, list],
        "color_mode": [StrOptions({"rgb", "grayscale"})],
        "n_jobs": [Integral, None],
        "cache": ["boolean"],
    }

    def __init__(self, image_size=(50, 50), color_mode="rgb", n_jobs=None, cache=True):
        self.image_size = image_size
        self.color_mode = color_mode
        self.n_jobs = n_jobs
        self.cache = cache

    def _validated_size(self):
        self._validate_params()
        size = self.image_size
        if (
            len(size) != 2
            or not all(isinstance(s, Integral) and not isinstance(s, bool) for s in size)
            or min(size) < 1
        ):
            raise ValueError(
                "The 'image_size' parameter of ImageLoader must be (height, width) "
                f"with two positive ints. Got {size!r} instead."
            )
        if self.n_jobs == 0:
            raise ValueError("The 'n_jobs' parameter of ImageLoader must not be 0.")
        # Every image passes through a few 4-byte copies at the target size (see
        # _pillow_bytes): a target no image could be decoded to is refused here,
        # before a (n_samples, height * width * channels) result is allocated.
        needed = 12 * int(size[0]) * int(size[1])
        if needed > MAX_DECODE_BYTES:
            raise ValueError(
                f"The 'image_size' parameter of ImageLoader is too large: {tuple(size)!r} "
                f"needs about {needed / 2**20:,.0f} MiB an image, over the limit of "
                f"{MAX_DECODE_BYTES / 2**20:,.0f} MiB (skcatdog.loading.MAX_DECODE_BYTES)."
            )
        return int(size[0]), int(size[1])

    @property
    def image_shape(self):
        """``(height, width, channels)`` of one decoded image."""
        h, w = self._validated_size()
        return h, w, len(_CHANNELS[self.color_mode])

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the parameters and the paths; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples,)
            Paths of image files (str, bytes or os.PathLike); a list, a 1-D
            array, a pandas Series or a one-column DataFrame.
        y : None
            Ignored.

        Returns
        -------
        self : ImageLoader
            The loader itself.
        """
        self._validated_size()
        _as_paths(X)
        return self

    def transform(self, X):
        """Decode the images named in ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples,)
            Paths of image files (str, bytes or os.PathLike); a list, a 1-D
            array, a pandas Series or a one-column DataFrame.

        Returns
        -------
        X_pixels : ndarray of shape (n_samples, height * width * channels), dtype uint8
            One flattened image per row, in (height, width, channel) order.

        Raises
        ------
        ImageLoadError
            If any file cannot be loaded; it names every such file.
        """
        image_size = self._validated_size()
        return _load_batch(_as_paths(X), image_size, self.color_mode, self.n_jobs, self.cache)

    def get_feature_names_out(self, input_features=None):
        """Name the output columns ``y{row}_x{col}_{channel}``.

        The channel is ``r``, ``g``, ``b`` or ``gray``; e.g. ``y0_x1_g`` is the
        green value of the pixel in the first row, second column.

        Parameters
        ----------
        input_features : None
            Ignored; the input is paths, not features.

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``height * width * channels`` names in column order.
        """
        h, w, _ = self.image_shape
        channels = _CHANNELS[self.color_mode]
        return np.asarray(
            [f"y{r}_x{c}_{ch}" for r in range(h) for c in range(w) for ch in channels],
            dtype=object,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.transformer_tags.preserves_dtype = []
        return tags


@validate_params(
    {"paths": ["array-like"], "n_jobs": [Integral, None]},
    prefer_skip_nested_validation=True,
)
def verify_images(paths, *, n_jobs=None):
    """Find the image files that cannot be decoded, and say why.

    Each file is fully decoded by the same code as :class:`ImageLoader` (a
    header check is not enough: truncated files have good headers), so an
    empty result means ``ImageLoader().transform(paths)`` will not fail.
    The cache is neither read nor filled.

    Parameters
    ----------
    paths : array-like of shape (n_samples,)
        Paths of image files (str, bytes or os.PathLike).

    n_jobs : int, default=None
        Number of threads; ``None`` means 1, ``-1`` all cores.

    Returns
    -------
    bad : pandas.DataFrame
        Columns ``path`` and ``reason``, one row per bad file in input order;
        empty when every file decodes.

    Examples
    --------
    >>> import os, tempfile
    >>> from PIL import Image
    >>> from skcatdog.loading import verify_images
    >>> tmp = tempfile.TemporaryDirectory()
    >>> good = os.path.join(tmp.name, "good.png")
    >>> Image.new("RGB", (8, 8)).save(good)
    >>> empty = os.path.join(tmp.name, "empty.jpg")
    >>> open(empty, "wb").close()
    >>> verify_images([good, empty]).reason.tolist()
    ['empty file (0 bytes)']
    >>> tmp.cleanup()
    """
    import pandas as pd

    paths = _as_paths(paths)
    reasons = [None] * len(paths)

    def work(i, path):
        # A small target: JPEG entropy data is still decoded to the last byte.
        reasons[i] = _load_one(path, (8, 8), "rgb", use_cache=False)[1]

    _run(paths, n_jobs, work)
    bad = [(p, r) for p, r in zip(paths, reasons, strict=True) if r is not None]
    return pd.DataFrame(bad, columns=["path", "reason"]).astype({"path": object, "reason": object})
