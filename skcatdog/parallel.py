"""Keep TensorFlow within the thread budget of a parallel search.

``GridSearchCV(..., n_jobs=2)`` runs its fits in worker processes (joblib's
loky backend, or Dask and Ray workers). To stop every worker from starting one
thread per core -- two workers on two cores would then run four busy threads
-- those engines tell each worker how many threads it may use, through the
environment variables that OpenMP, OpenBLAS and MKL read: joblib's loky
backend sets ``OMP_NUM_THREADS`` to ``cpu_count() // n_jobs`` (or to its
``inner_max_num_threads``), a Dask nanny to 1, Ray to the task's CPUs.

TensorFlow reads none of them. It sizes its own two thread pools (one for
the work inside an op, one for running independent ops side by side) from
the core count, and only until its runtime starts; after that the sizes are
fixed for the life of the process. :func:`limit_tf_threads` therefore copies
the limit into ``tf.config.threading`` and is called at the start of every
``fit`` and ``predict`` of skcatdog's classifiers, before they build or run a
network: in a worker, the first fit sets the limit, later calls change
nothing.

An explicit choice always wins: TensorFlow's own ``TF_NUM_INTRAOP_THREADS``
/ ``TF_NUM_INTEROP_THREADS`` variables, an earlier call of
``tf.config.threading.set_intra_op_parallelism_threads`` (or ``inter_op``),
or ``SKCATDOG_TF_THREADS`` (a number, or ``0`` to leave TensorFlow alone).
"""

import os

__all__ = ["limit_tf_threads", "thread_limit"]

#: The environment variables whose value is the per-process thread budget,
#: in the order they are read (joblib, Dask and Ray all set the first).
THREAD_LIMIT_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

_TF_OWN_VARS = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")

_applied = None  # what limit_tf_threads settled on in this process


def thread_limit():
    """The number of threads this process may use, or None when nobody said.

    ``SKCATDOG_TF_THREADS`` first, then ``OMP_NUM_THREADS``,
    ``MKL_NUM_THREADS`` and ``OPENBLAS_NUM_THREADS``; the first that holds a
    positive integer wins.

    Returns
    -------
    n_threads : int or None
        ``None`` when no variable is set (or ``SKCATDOG_TF_THREADS=0``).

    Examples
    --------
    >>> import os
    >>> from skcatdog.parallel import thread_limit
    >>> os.environ["SKCATDOG_TF_THREADS"] = "3"
    >>> thread_limit()
    3
    >>> del os.environ["SKCATDOG_TF_THREADS"]
    """
    own = os.environ.get("SKCATDOG_TF_THREADS", "").strip()
    if own:
        try:
            return int(own) or None
        except ValueError:
            return None
    for var in THREAD_LIMIT_VARS:
        try:
            value = int(os.environ.get(var, "").strip())
        except ValueError:
            continue
        if value > 0:
            return value
    return None


def limit_tf_threads(n_threads=None):
    """Size TensorFlow's thread pools to this process's thread budget, once.

    Sets ``tf.config.threading.set_intra_op_parallelism_threads(n_threads)``
    and ``set_inter_op_parallelism_threads(1)``: each op may use the whole
    budget, and ops run one after the other, so a process never keeps more
    than ``n_threads`` cores busy (a CNN's ops depend on one another anyway).

    Nothing changes when TensorFlow's pools were already chosen (by
    ``TF_NUM_INTRAOP_THREADS``/``TF_NUM_INTEROP_THREADS`` or an earlier
    ``tf.config.threading`` call), when there is no budget to follow, or when
    TensorFlow's runtime has already started in this process (the sizes are
    then fixed; unpickling a fitted network starts it, for instance).
    Calling it again costs nothing.

    Parameters
    ----------
    n_threads : int, default=None
        The budget; ``None`` reads it with :func:`thread_limit` from the
        environment that joblib, Dask or Ray set for their workers.

    Returns
    -------
    threads : tuple of (int, int)
        TensorFlow's ``(intra_op, inter_op)`` settings after the call; ``0``
        means "TensorFlow's default: one per core".
    """
    global _applied
    if _applied is not None and n_threads is None:
        return _applied
    import tensorflow as tf

    threading = tf.config.threading
    current = (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    )
    if n_threads is None:
        user_chose = any(current) or any(os.environ.get(v) for v in _TF_OWN_VARS)
        n_threads = None if user_chose else thread_limit()
        if n_threads is None:
            _applied = current
            return current
    try:
        threading.set_intra_op_parallelism_threads(int(n_threads))
        threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # the runtime already started: the pools are fixed
        pass
    _applied = (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    )
    return _applied
