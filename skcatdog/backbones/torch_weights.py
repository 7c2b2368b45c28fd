"""Read a PyTorch weights file without PyTorch, and without running anything in it.

A ``.pth`` file of PyTorch's legacy format (before 1.6) is four pickles and
the raw bytes of each storage::

    magic number | protocol version | system info | the object | storage keys
    | for each key: an int64 element count, then the elements

The object's pickle names globals (``torch._utils._rebuild_tensor_v2``,
``torch.FloatStorage``, ``collections.OrderedDict``) and refers to storages
by "persistent id". ``pickle.load`` would import and call whatever a file
names; :func:`load_state_dict` answers only the few names a state dict of
tensors needs, each with a function of ours that builds a numpy array, and
refuses every other global. Sizes are checked against the file's length
before anything is allocated, so a file cannot ask for more memory than
it holds.

>>> import io, pickle
>>> evil = io.BytesIO(pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)
...                   + pickle.dumps(1001, protocol=2) + pickle.dumps({}, protocol=2)
...                   + b"cos\\nsystem\\n(S'echo hi'\\ntR.")
>>> try:
...     load_state_dict(evil)
... except WeightsFileError as error:
...     print(error)
<file>: names the global os.system, which a PyTorch weights file has no need
of; refused.
"""

import collections
import io
import os
import pickle
import struct

import numpy as np

__all__ = ["WeightsFileError", "load_state_dict"]

_MAGIC = 0x1950A86A20F9469CFC6C
_PROTOCOL = 1001

_DTYPES = {
    "DoubleStorage": np.float64, "FloatStorage": np.float32, "HalfStorage": np.float16,
    "LongStorage": np.int64, "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8, "BoolStorage": np.bool_,
}


class WeightsFileError(ValueError):
    """A weights file that is not what it says: names the file and what is wrong."""


class _Storage:
    """A storage named in the pickle, filled from the bytes after it."""

    def __init__(self, dtype, numel):
        self.dtype, self.numel, self.data = np.dtype(dtype), numel, None


class _Tensor:
    """A view of a storage, turned into an array once the storages are read."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset = storage, int(offset)
        self.size, self.stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)

    def array(self, name):
        data = self.storage.data
        if any(s < 0 for s in self.size + self.stride) or self.offset < 0:
            raise WeightsFileError(f"{name}: a tensor with a negative size or stride.")
        last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride))
        if 0 in self.size:
            return np.zeros(self.size, data.dtype)
        if last >= len(data):
            raise WeightsFileError(f"{name}: a tensor reaches past the end of its storage.")
        item = data.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset:], self.size, [s * item for s in self.stride], writeable=False)
        return np.array(view)


def _rebuild_tensor(storage, offset, size, stride, *_):
    if not isinstance(storage, _Storage):
        raise pickle.UnpicklingError("a tensor without a storage")
    return _Tensor(storage, offset, size, stride)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, name, limit):
        super().__init__(file)
        self.name, self.limit, self.storages = name, limit, {}

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _DTYPES:
            return name
        raise WeightsFileError(f"{self.name}: names the global {module}.{name}, which a "
                               "PyTorch weights file has no need of; refused.")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise WeightsFileError(f"{self.name}: an unknown reference {pid!r:.80}.")
        _, kind, key, _location, numel, view = pid
        if kind not in _DTYPES or view is not None or not isinstance(numel, int):
            raise WeightsFileError(f"{self.name}: a storage this reader does not know "
                                   f"({kind!r}, view {view!r}).")
        if numel < 0 or numel * np.dtype(_DTYPES[kind]).itemsize > self.limit:
            raise WeightsFileError(f"{self.name}: a storage of {numel} elements, larger than "
                                   "the file.")
        if key not in self.storages:
            self.storages[key] = _Storage(_DTYPES[kind], numel)
        return self.storages[key]


def _plain_pickle(f, name):
    """One of the header pickles: plain values only."""
    return _Unpickler(f, name, 0).load()


def load_state_dict(file):
    """The tensors of a PyTorch legacy-format weights file, as numpy arrays.

    Parameters
    ----------
    file : str, path-like or binary file object
        A ``.pth`` file written by ``torch.save(model.state_dict())`` in the
        legacy (non-zip) format.

    Returns
    -------
    state : dict of str to ndarray
        The tensors by name, in the file's order.

    Raises
    ------
    WeightsFileError
        The file is not such a file, names anything but tensors, or is
        truncated; the message names the file.
    """
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as f:
            return load_state_dict(f)
    name = getattr(file, "name", "<file>")
    name = name if isinstance(name, str) else "<file>"
    start = file.tell()
    file.seek(0, io.SEEK_END)
    limit = file.tell() - start
    file.seek(start)
    try:
        if _plain_pickle(file, name) != _MAGIC:
            raise WeightsFileError(f"{name}: not a PyTorch legacy weights file (no magic "
                                   "number); files of PyTorch 1.6 and later are zip archives.")
        if _plain_pickle(file, name) != _PROTOCOL:
            raise WeightsFileError(f"{name}: an unknown PyTorch file protocol.")
        _plain_pickle(file, name)  # system info: byte order, sizes of C types
        unpickler = _Unpickler(file, name, limit)
        state = unpickler.load()
        keys = _plain_pickle(file, name)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, struct.error) as error:
        if isinstance(error, WeightsFileError):
            raise
        raise WeightsFileError(f"{name}: not a readable PyTorch weights file ({error}).") \
            from error
    if not isinstance(state, dict) or not isinstance(keys, list):
        raise WeightsFileError(f"{name}: holds no state dict of tensors.")
    for key in keys:
        storage = unpickler.storages.get(key)
        header = file.read(8)
        if storage is None or len(header) < 8:
            raise WeightsFileError(f"{name}: truncated, or a storage key it never used.")
        (numel,) = struct.unpack("<q", header)
        if numel != storage.numel:
            raise WeightsFileError(f"{name}: storage {key} holds {numel} elements, "
                                   f"its tensors say {storage.numel}.")
        raw = file.read(numel * storage.dtype.itemsize)
        if len(raw) < numel * storage.dtype.itemsize:
            raise WeightsFileError(f"{name}: truncated inside storage {key}.")
        storage.data = np.frombuffer(raw, storage.dtype.newbyteorder("<"))
    arrays = {}
    for key, tensor in state.items():
        if not isinstance(key, str) or not isinstance(tensor, _Tensor):
            raise WeightsFileError(f"{name}: entry {key!r:.80} is not a tensor.")
        if tensor.storage.data is None:
            raise WeightsFileError(f"{name}: the storage of {key} is missing.")
        arrays[key] = tensor.array(f"{name}: {key}")
    return arrays
