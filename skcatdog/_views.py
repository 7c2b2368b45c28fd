"""Test-time views: the copies of each image whose predictions are averaged.

A network that learnt from flipped and shifted images predicts slightly
differently for each copy of an image; averaging the probabilities over its
mirror image and a few shifted copies (the test-time augmentation of the
fast-training records, e.g. airbench) costs prediction time and no training.
The views are made twice, in the same order, so that the two agree: in numpy
for the batches a classifier predicts from
(:class:`~skcatdog.streaming.ImageBatches`), and in Keras ops inside an
exported model (:mod:`skcatdog.export`). A shifted copy reflects the image at
its border rather than padding it with black, which the network never saw.

>>> import numpy as np
>>> images = np.arange(2 * 4 * 4).reshape(2, 4, 4, 1)
>>> n_views(flip=True, shift=1)
10
>>> views(images, flip=True, shift=1).shape
(20, 4, 4, 1)
>>> np.array_equal(views(images, flip=True)[2:], images[:, :, ::-1])
True
"""

import numpy as np

__all__ = ["n_views", "view_offsets", "views"]


def view_offsets(shift):
    """``(dy, dx)`` of each position: in place, then four diagonal shifts.

    A view at ``(dy, dx)`` shows the image from ``dy`` rows lower and ``dx``
    columns further right (the content moves up and left).

    >>> view_offsets(0)
    [(0, 0)]
    >>> view_offsets(2)
    [(0, 0), (2, 2), (-2, -2), (2, -2), (-2, 2)]
    """
    shift = int(shift)
    if not shift:
        return [(0, 0)]
    return [(0, 0), (shift, shift), (-shift, -shift), (shift, -shift), (-shift, shift)]


def n_views(flip, shift):
    """How many views :func:`views` makes of each image."""
    return len(view_offsets(shift)) * (2 if flip else 1)


def views(images, flip=False, shift=0, xp=np):
    """Stack the views of a batch ``(b, h, w, c)``: ``n_views(flip, shift) * b`` images.

    For each position of :func:`view_offsets` the batch moved by ``(dy, dx)``
    pixels (what leaves one side re-enters reflected), followed, with
    ``flip``, by its mirror images. A shift moves an image by at most its
    height (width) less one pixel, as far as a reflection reaches. ``xp`` is
    ``numpy`` or ``keras.ops`` (for a model that makes its own views): both
    spell ``pad``, ``flip`` and ``concatenate`` alike.

    >>> strip = np.arange(6).reshape(1, 1, 6, 1)
    >>> views(strip, shift=2)[:, 0, :, 0]
    array([[0, 1, 2, 3, 4, 5],
           [2, 3, 4, 5, 4, 3],
           [2, 1, 0, 1, 2, 3],
           [2, 1, 0, 1, 2, 3],
           [2, 3, 4, 5, 4, 3]])
    """
    h, w = images.shape[1:3]
    sy, sx = min(int(shift), h - 1), min(int(shift), w - 1)
    if shift:
        padded = xp.pad(images, [[0, 0], [sy, sy], [sx, sx], [0, 0]], mode="reflect")
        moved = [padded[:, sy + dy * sy:sy + dy * sy + h, sx + dx * sx:sx + dx * sx + w]
                 for dy, dx in view_offsets(1)]
    else:
        moved = [images]
    if flip:
        moved = [each for m in moved for each in (m, xp.flip(m, axis=2))]
    return xp.concatenate(moved) if len(moved) > 1 else moved[0]
