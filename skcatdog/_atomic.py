"""Write a file whole or not at all.

A temporary file in the target's folder (hidden, so folder scans skip a
leftover) is filled, flushed to disk and renamed over the target with
``os.replace``, which is atomic on POSIX and Windows: a reader, or a run
killed at any moment, sees the old file or the new one, never a part.
"""

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text"]

_UMASK = None


def _file_mode():
    """Permissions a plain ``open(path, "w")`` would give: 0o666 less the umask."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)  # read it (the only portable way) and put it back
        os.umask(_UMASK)
    return 0o666 & ~_UMASK


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one.

    The bytes go to a hidden temporary file in the same folder, are flushed
    to disk, and the file is renamed over ``path`` (``os.replace``, atomic on
    POSIX and Windows). On any error, ``KeyboardInterrupt`` included, the
    temporary file is removed and ``path`` is left as it was.

    Parameters
    ----------
    path : str or path-like
        The file to write; its folder must exist.
    data : bytes
        The content.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skcatdog._atomic import atomic_write_bytes
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = atomic_write_bytes(Path(folder) / "a.bin", b"abc")
    ...     path.read_bytes(), sorted(p.name for p in Path(folder).iterdir())
    (b'abc', ['a.bin'])
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path, text, encoding="utf-8"):
    """Write ``text`` to ``path`` atomically; see :func:`atomic_write_bytes`.

    Parameters
    ----------
    path : str or path-like
        The file to write; its folder must exist.
    text : str
        The content.
    encoding : str, default="utf-8"
        How to encode it.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skcatdog._atomic import atomic_write_text
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     atomic_write_text(Path(folder) / "a.txt", "chat ✓").read_text(encoding="utf-8")
    'chat ✓'
    """
    return atomic_write_bytes(path, text.encode(encoding))


# -- metrics -------------------------------------------------------------------
