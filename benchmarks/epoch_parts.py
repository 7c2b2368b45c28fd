"""What an epoch of the tuned network is made of: its training steps with and without
the augmentation, and the validation pass.

Two copies of :class:`skcatdog.tuned.TunedCNNClassifier`'s network (its family,
stem stride, blocks and dtype policy; random pixels, 128x128), one with the
tuned augmentation layers in front and one without, are trained in turns for
15 batches of 64, four rounds, in one process, so that both see the machine in
the same minutes (its speed changes up to 2x from one minute to the next, so
timings from separate processes cannot be compared). Each round also times
``evaluate`` on 600 images, the validation pass of every epoch. Prints ms per
step and per validation pass for each round. Usage::

    .venv/bin/python benchmarks/epoch_parts.py
"""

import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402


def main(rounds=4, steps=15, batch_size=64, n_val=600):
    from skcatdog.networks import residual
    from skcatdog.training import _dtype_policy, resolve_dtype_policy
    from skcatdog.tuned import TUNED_IMAGE_SIZE, TunedCNNClassifier, tuned_augmenter

    defaults = TunedCNNClassifier.defaults
    rng = np.random.RandomState(0)
    X = rng.randint(0, 256, (batch_size * steps, *TUNED_IMAGE_SIZE, 3)).astype("uint8")
    y = rng.randint(0, 2, (len(X), 1)).astype("float32")

    def network(augment):
        layers = tuned_augmenter().build_layers(seed=0) if augment else []
        with _dtype_policy(resolve_dtype_policy(defaults["dtype_policy"])):
            model = residual.build((*TUNED_IMAGE_SIZE, 3), 2, augmentation_layers=layers, seed=0,
                                   stem_stride=defaults["stem_stride"],
                                   convs_per_block=defaults["convs_per_block"])
        model.compile(optimizer="adamw", loss="binary_crossentropy", metrics=["accuracy"])
        model.fit(X[:2 * batch_size], y[:2 * batch_size], batch_size=batch_size, verbose=0)
        model.evaluate(X[:n_val], y[:n_val], batch_size=batch_size, verbose=0)
        return model

    models = {"step, augmented (ms)": network(True), "step, not augmented (ms)": network(False)}
    rows = []
    for r in range(rounds):
        row = {"round": r + 1}
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(X, y, batch_size=batch_size, epochs=1, verbose=0)
            row[name] = (time.perf_counter() - start) / steps * 1000
        start = time.perf_counter()
        models["step, augmented (ms)"].evaluate(X[:n_val], y[:n_val], batch_size=batch_size,
                                                verbose=0)
        row[f"validation of {n_val} (ms)"] = (time.perf_counter() - start) * 1000
        rows.append(row)
    P.print_table(rows, list(rows[0]))
    return rows


if __name__ == "__main__":
    main()
