"""Why the simple network once stayed at chance: its dense units die in the first steps.

The notebook's simple network feeds an 18,432-wide ``Flatten`` (non-negative,
after ReLU and pooling) into ``Dense(32, relu)``. Adam moves every weight by
about the learning rate in its first steps, all of a unit's weights in the
same direction, so each unit's input shifts far more than it varies between
images; a unit pushed below zero for every image never recovers. This
script trains the seed-0 network of the protocol step by step, with the
notebook's constant rate and with the warm-up the classifiers now use
(:data:`skcatdog.models.NOTEBOOK_SCHEDULE`), and prints, on 256 training
images, how many of the 32 units are still active for some image, the mean
of their inputs and its spread across images.

Reproduce::

    .venv/bin/python benchmarks/dead_units.py
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

STEPS = (0, 1, 2, 5, 10, 20, 40)


def main():
    import keras

    from skcatdog import SimpleCNNClassifier
    from skcatdog.models import NOTEBOOK_SCHEDULE

    paths, _, labels, _ = P.load_split()
    X, _ = P.load_pixels(paths)
    X = X.reshape(-1, *P.IMAGE_SIZE, 3)
    y = (np.asarray(labels) == "dog").astype("float32")
    order = np.random.RandomState(0).permutation(len(X))
    probe = X[order[:256]]
    rows = []
    for name, schedule in (("constant 0.001 (notebook)", {"lr_schedule": "constant",
                                                           "warmup_fraction": 0.0}),
                           ("warm-up over 10% (today's default)", NOTEBOOK_SCHEDULE)):
        clf = SimpleCNNClassifier(random_state=0, validation_fraction=P.VALIDATION_FRACTION)
        clf.set_params(**schedule)
        clf.image_shape_ = (*P.IMAGE_SIZE, 3)
        clf._random_state = 0  # the seed a fit with random_state=0 builds with
        model = clf._build_network(n_classes=2, n_samples=len(X))
        dense = model.get_layer("dense")
        inputs = keras.Model(model.input, model.get_layer("flatten").output)
        for step in range(max(STEPS) + 1):
            if step in STEPS:
                pre = inputs.predict(probe, verbose=0) @ dense.kernel.numpy() + dense.bias.numpy()
                rows.append({"schedule": name, "step": step,
                             "units_alive": int((pre > 0).any(axis=0).sum()),
                             "mean_input": float(np.abs(pre.mean(axis=0)).mean()),
                             "spread_across_images": float(pre.std(axis=0).mean())})
            batch = order[(step * 32) % len(X):][:32]
            model.train_on_batch(X[batch], y[batch])
    P.print_table(rows, ["schedule", "step", "units_alive", "mean_input",
                         "spread_across_images"])
    P.write_json("dead_units", {"environment": P.environment(), "rows": rows})


if __name__ == "__main__":
    main()
