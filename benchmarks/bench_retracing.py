"""What tracing Keras' predict step once per model (full, padded batches) saves.

Two identical fitted deep CNNs (50x50) predict 5, 7, 9, 40 and 3 images in
turn, one through batches whose short last batch is padded to the batch size
(what the classifiers do), one without padding (what they did before). Prints
the seconds of each call and the tracing count of the predict step.

    .venv/bin/python benchmarks/bench_retracing.py
"""

import time

import numpy as np


def main():
    from skcatdog import DeepCNNClassifier, streaming

    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, (64, 50 * 50 * 3)).astype(np.uint8)
    y = np.array(["cat", "dog"] * 32)
    sizes = [5, 7, 9, 40, 3]
    print("| batches | " + " | ".join(f"predict {n} (s)" for n in sizes) + " | traces |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for pad in (False, True):
        clf = DeepCNNClassifier(epochs=1, random_state=0).fit(X, y)
        seconds = []
        for n in sizes:
            batches = streaming.ImageBatches(X[:n], None, clf.image_shape_, clf.batch_size,
                                             flip=True, pad=pad)
            start = time.perf_counter()
            clf.model_.predict(batches, verbose=0)
            seconds.append(time.perf_counter() - start)
        traces = _tracing_count(clf.model_.predict_function)
        print(f"| {'padded' if pad else 'short last batch'} | "
              + " | ".join(f"{s:.3f}" for s in seconds) + f" | {traces} |")


def _tracing_count(function, depth=0):
    """Traces of the tf.function inside Keras' predict function (found in its closure)."""
    if depth > 4 or function is None:
        return 0
    if hasattr(function, "experimental_get_tracing_count") and \
            getattr(function, "__name__", "") == "one_step_on_data_distributed":
        return function.experimental_get_tracing_count()
    for cell in getattr(function, "__closure__", None) or []:
        try:
            found = _tracing_count(cell.cell_contents, depth + 1)
        except ValueError:
            continue
        if found:
            return found
    return _tracing_count(getattr(function, "python_function", None), depth + 1)


if __name__ == "__main__":
    main()
