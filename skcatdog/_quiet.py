"""TensorFlow imported without its log lines reaching the user.

TensorFlow 2.21 writes its C++ log lines ("oneDNN custom operations are on",
"Could not find cuda drivers", "failed call to cuInit") to file descriptor 2,
the first ones before it has read ``TF_CPP_MIN_LOG_LEVEL``, so no setting
silences them; they reach a terminal, or a notebook server's console, on every
import. And every scikit-learn fit builds a new network whose step functions
TensorFlow traces once: its detector of functions "created in a loop" takes
the clones of a cross-validation for needless retracing and logs a warning
that the user cannot act on.

:func:`import_tensorflow` (and ``from skcatdog._quiet import keras``, for a
module's top) imports TensorFlow once with descriptor 2 caught,
passes on whatever else was written there (a Python warning, a real error)
and drops the retracing warning from the ``tensorflow`` logger. Setting
``TF_CPP_MIN_LOG_LEVEL`` to ``0`` or ``1`` keeps every TensorFlow line.

>>> import re
>>> [line for line in ["I0000 00:00:17.1 1 port.cc:153] oneDNN on", "kept"]
...  if not _TF_NATIVE_LINE.match(line)]
['kept']
"""

import contextlib
import logging
import os
import re
import sys
import tempfile

# absl's "I0000 00:00:1796323180.860020 8637 port.cc:153] ..." (levels I, W, E, F),
# its preamble, and the CPU-feature note TensorFlow prints without a prefix.
_TF_NATIVE_LINE = re.compile(
    r"^([IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w.]+:\d+\]|WARNING: All log messages before "
    r"absl::InitializeLog|To enable the following instructions:|This TensorFlow binary is "
    r"optimized)"
)


def _user_wants_tf_logs():
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3") in ("0", "1")


@contextlib.contextmanager
def quiet_native_stderr():
    """Catch file descriptor 2; on exit, write back every line that is not TensorFlow's."""
    if _user_wants_tf_logs():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            kept = [line for line in sink.read().decode("utf-8", "replace").splitlines(True)
                    if not _TF_NATIVE_LINE.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


class _NoRetracingWarning(logging.Filter):
    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


def __getattr__(name):
    # ``from skcatdog._quiet import keras``: Keras, after TensorFlow's quiet import.
    if name == "keras":
        import_tensorflow()
        import keras

        return keras
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def import_tensorflow():
    """Import TensorFlow (once) with its log lines dropped; return the module."""
    if "tensorflow" not in sys.modules:
        with quiet_native_stderr():
            import tensorflow  # noqa: F401
    tensorflow = sys.modules["tensorflow"]
    logger = tensorflow.get_logger()
    if not _user_wants_tf_logs() and not any(
        isinstance(f, _NoRetracingWarning) for f in logger.filters
    ):
        logger.addFilter(_NoRetracingWarning())
    return tensorflow
