"""The plain Keras recipe that the tuned network must beat, and single ideas on top of it.

The anchor is a plain Keras script, written as a skilled Keras user would and
using nothing of skcatdog but the protocol's split and decoded pixels: four
blocks of two "same"-padded 3x3 convolutions (32-64-128-256, batch
normalisation with Keras' default momentum, ReLU, 2x2 max-pooling), global
average pooling, dropout 0.3, one sigmoid unit, inputs scaled to [-1, 1];
flip, rotation 0.05, zoom 0.15 and translation 0.1 augmentation; AdamW
(weight decay 1e-4), batch 64, 10% linear warm-up from 1e-4 to 3e-3 then
cosine decay to zero, 30 epochs, the best validation epoch's weights. It
trains on the 4,800 training images of the ``random_state=0`` split at 64x64
and is scored on its 600 validation images (``--test`` also decodes and scores
the 575 test images, once, at the end).

Flags change one idea at a time, so that each is measured by validation
accuracy against training seconds (``benchmarks/RESULTS.md``)::

    .venv/bin/python benchmarks/bench_recipe.py                      # the anchor, 30 epochs
    .venv/bin/python benchmarks/bench_recipe.py --epochs 2           # the budget probe
    .venv/bin/python benchmarks/bench_recipe.py --label-smoothing 0.1 --tta flip
    .venv/bin/python benchmarks/bench_recipe.py --residual --filters 32 64 128 256
    .venv/bin/python benchmarks/bench_recipe.py --sizes 48:10 64:20  # progressive resizing

JSON goes to ``benchmarks/out/bench_recipe_<tag>.json``.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402


def build(filters, residual, bn_momentum, dropout, seed, stem_stride=1, convs=2):
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(None, None, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    for block, n in enumerate(filters):
        shortcut = x
        for i in range(convs):
            stride = stem_stride if block == 0 and i == 0 else 1
            x = layers.Conv2D(n, 3, strides=stride, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=bn_momentum)(x)
            if not (residual and i == convs - 1):
                x = layers.ReLU()(x)
        if residual:
            shortcut = layers.Conv2D(n, 1, strides=stem_stride if block == 0 else 1,
                                     use_bias=False)(shortcut)
            shortcut = layers.BatchNormalization(momentum=bn_momentum)(shortcut)
            x = layers.ReLU()(layers.Add()([x, shortcut]))
        x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def augmenter(seed):
    import keras
    from keras import layers

    return keras.Sequential([
        layers.RandomFlip("horizontal", seed=seed),
        layers.RandomRotation(0.05, seed=seed + 1),
        layers.RandomZoom(0.15, seed=seed + 2),
        layers.RandomTranslation(0.1, 0.1, seed=seed + 3),
    ])


def dataset(X, y, batch_size, augment, seed, training):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((X, y.astype("float32")))
    if training:
        ds = ds.shuffle(len(X), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        ds = ds.map(lambda a, b: (augment(tf.cast(a, "float32"), training=True), b),
                    num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def predict(model, X, tta):
    proba = model.predict(X, batch_size=256, verbose=0).ravel()
    if tta == "flip":
        proba = (proba + model.predict(X[:, :, ::-1], batch_size=256, verbose=0).ravel()) / 2
    return proba


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--sizes", nargs="+", default=None,
                        help="SIZE:EPOCHS phases (progressive resizing); default 64:EPOCHS")
    parser.add_argument("--eval-size", type=int, default=64)
    parser.add_argument("--filters", nargs="+", type=int, default=[32, 64, 128, 256])
    parser.add_argument("--residual", action="store_true")
    parser.add_argument("--stem-stride", type=int, default=1,
                        help="stride of the first convolution (2: a larger image, same cost)")
    parser.add_argument("--convs", type=int, default=2, help="convolutions per block")
    parser.add_argument("--jit", action="store_true", help="XLA-compile the training step")
    parser.add_argument("--ema", type=float, default=0.0,
                        help="keep an exponential moving average of the weights (momentum)")
    parser.add_argument("--bf16", action="store_true", help="mixed_bfloat16 policy")
    parser.add_argument("--bn-momentum", type=float, default=0.99)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--tta", choices=["none", "flip"], default="none")
    parser.add_argument("--keep", choices=["best", "last"], default="best")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--test", action="store_true", help="score the test images at the end")
    parser.add_argument("--tag", default=None)
    parser.add_argument("--save", action="store_true",
                        help="save the kept weights' model to benchmarks/out/<tag>.keras")
    args = parser.parse_args(argv)

    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    import keras

    phases = ([tuple(int(v) for v in s.split(":")) for s in args.sizes] if args.sizes
              else [(64, args.epochs)])
    epochs = sum(n for _, n in phases)
    paths, paths_test, labels, labels_test = P.load_split()
    y = (np.asarray(labels) == "dog").astype("int64")
    train, val = P.validation_indices(labels, 0)
    pixels = {}
    for size in {s for s, _ in phases} | {args.eval_size}:
        X, _ = P.load_pixels(paths, (size, size))
        pixels[size] = X.reshape(len(X), size, size, 3)

    if args.bf16:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    model = build(args.filters, args.residual, args.bn_momentum, args.dropout, args.seed,
                  stem_stride=args.stem_stride, convs=args.convs)
    steps = sum(int(np.ceil(len(train) / args.batch_size)) * n for _, n in phases)
    warmup = steps // 10
    schedule = keras.optimizers.schedules.CosineDecay(
        1e-4, decay_steps=steps - warmup, alpha=0.0, warmup_target=args.lr,
        warmup_steps=warmup)
    optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4,
                                       use_ema=bool(args.ema), ema_momentum=args.ema or 0.99)
    model.compile(optimizer=optimizer,
                  loss=keras.losses.BinaryCrossentropy(label_smoothing=args.label_smoothing),
                  metrics=["accuracy"], jit_compile=args.jit)
    augment = augmenter(args.seed)
    X_val = pixels[args.eval_size][val]
    history, best, best_weights = [], -1.0, None
    start = time.perf_counter()
    cpu_start = time.process_time()
    epoch = 0
    for size, n in phases:
        X = pixels[size]
        ds = dataset(X[train], y[train], args.batch_size, augment, args.seed + epoch, True)
        for _ in range(n):
            t0 = time.perf_counter()
            fit = model.fit(ds, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
            val_acc = float(((predict(model, X_val, args.tta) > 0.5) == y[val]).mean())
            seconds = time.perf_counter() - t0
            # The other view, for the table only (not timed, never chooses an epoch).
            other = float(((predict(model, X_val, "none" if args.tta == "flip" else "flip")
                            > 0.5) == y[val]).mean())
            history.append({"epoch": epoch + 1, "size": size, "seconds": round(seconds, 1),
                            "accuracy": fit.history["accuracy"][-1], "val_accuracy": val_acc,
                            "val_accuracy_other_tta": other})
            print(f"epoch {epoch + 1:2d} size {size} {seconds:6.1f}s "
                  f"acc {fit.history['accuracy'][-1]:.4f} val {val_acc:.4f} "
                  f"(other tta {other:.4f})", flush=True)
            if val_acc > best or args.keep == "last":
                best, best_weights = val_acc, model.get_weights()
            epoch += 1
    fit_seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    model.set_weights(best_weights)
    record = {
        "args": vars(args), "epochs": epochs, "fit_seconds": fit_seconds,
        "cpu_seconds": cpu_seconds, "val_accuracy": best, "history": history,
        "params": model.count_params(), "environment": P.environment(),
    }
    if args.test:
        X_test, _ = P.load_pixels(paths_test, (args.eval_size, args.eval_size))
        X_test = X_test.reshape(len(X_test), args.eval_size, args.eval_size, 3)
        y_test = (np.asarray(labels_test) == "dog").astype("int64")
        record["test_accuracy"] = float(((predict(model, X_test, args.tta) > 0.5)
                                         == y_test).mean())
    tag = args.tag or f"s{args.seed}_e{epochs}"
    if args.save:
        model.save(P.OUT_DIR / f"bench_recipe_{tag}.keras")
    P.write_json(f"bench_recipe_{tag}", record)
    print(f"val {best:.4f}  test {record.get('test_accuracy', float('nan')):.4f}  "
          f"fit {fit_seconds:.0f}s  cpu {cpu_seconds:.0f}s  load {P.load_average()}")
    return record


if __name__ == "__main__":
    main()
