"""Test-time views of a saved recipe model, scored on the validation images.

airbench averages each image's prediction over its mirror image and copies
shifted by a pixel or two; the package averages over the mirror image only.
This scores the models that ``bench_recipe.py --save`` kept (the best
validation epoch) on the 600 validation images of the ``random_state=0``
split with: no view, the mirror view, and the mirror plus four diagonal
shifts of ``s`` pixels (reflected at the border), for s = 4 and 8 at 128x128.
The test images are not read. Usage::

    .venv/bin/python benchmarks/tta_views.py G_bf16_128s2_e42_ls_fc1 E_bf16_128s2_e35_ls
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402


def shifted(X, dy, dx):
    pad = max(abs(dy), abs(dx))
    padded = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="reflect")
    h, w = X.shape[1:3]
    return padded[:, pad + dy:pad + dy + h, pad + dx:pad + dx + w]


def main(tags):
    import keras

    paths, _, labels, _ = P.load_split()
    _, val = P.validation_indices(labels, 0)
    y = (np.asarray(labels) == "dog").astype(int)[val]
    X, _ = P.load_pixels(list(np.asarray(paths)[val]), (128, 128))
    X = X.reshape(len(X), 128, 128, 3).astype("float32")
    rows = []
    for tag in tags:
        model = keras.saving.load_model(P.OUT_DIR / f"bench_recipe_{tag}.keras")

        def proba(Z, model=model):
            return model.predict(Z, batch_size=200, verbose=0).ravel()

        plain, mirror = proba(X), proba(X[:, :, ::-1])
        views = {"none": [plain], "mirror": [plain, mirror]}
        for s in (4, 8):
            views[f"mirror + 4 shifts of {s} px"] = [plain, mirror] + [
                proba(shifted(X, dy, dx)) for dy, dx in ((s, s), (-s, -s), (s, -s), (-s, s))]
        for name, ps in views.items():
            accuracy = float(np.mean((np.mean(ps, axis=0) > 0.5) == y))
            rows.append({"model": tag, "views": name, "val_accuracy": accuracy})
    P.print_table(rows, ["model", "views", "val_accuracy"])
    P.write_json("tta_views", {"rows": rows, "environment": P.environment()})


if __name__ == "__main__":
    main(sys.argv[1:])
