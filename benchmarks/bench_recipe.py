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
    .venv/bin/python benchmarks/bench_recipe.py --mixup 0.2           # mixup

JSON goes to ``benchmarks/out/bench_recipe_<tag>.json``.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402


def build(filters, residual, bn_momentum, dropout, seed, stem_stride=1, convs=2,
          first_convs=None):
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(None, None, 3))
    x = layers.Rescaling(1 / 127.5, offset=-1)(inputs)
    for block, n in enumerate(filters):
        shortcut = x
        n_convs = first_convs if block == 0 and first_convs else convs
        for i in range(n_convs):
            stride = stem_stride if block == 0 and i == 0 else 1
            x = layers.Conv2D(n, 3, strides=stride, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization(momentum=bn_momentum)(x)
            if not (residual and i == n_convs - 1):
                x = layers.ReLU()(x)
        if residual:
            if block == 0 and stem_stride > 1:  # a strided 1x1 convolution crashes oneDNN
                shortcut = layers.AveragePooling2D(stem_stride, padding="same")(shortcut)
            shortcut = layers.Conv2D(n, 1, use_bias=False)(shortcut)
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


def dataset(X, y, batch_size, augment, seed, training, mixup=0.0):
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((X, y.astype("float32")))
    if training:
        ds = ds.shuffle(len(X), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    if augment is not None:
        ds = ds.map(lambda a, b: (augment(tf.cast(a, "float32"), training=True), b),
                    num_parallel_calls=tf.data.AUTOTUNE)
    if mixup:
        ds = ds.map(lambda a, b: mix(a, b, mixup, seed))
    return ds.prefetch(tf.data.AUTOTUNE)


def mix(images, targets, alpha, seed):
    """mixup (Zhang et al. 2018): each image blended with another of its batch.

    One weight ``lam ~ Beta(alpha, alpha)`` per image, folded to ``max(lam, 1 - lam)``
    so that each image stays mostly itself; the targets blend alike.
    """
    import tensorflow as tf

    n = tf.shape(images)[0]
    g1 = tf.random.gamma([n], alpha, seed=seed)
    g2 = tf.random.gamma([n], alpha, seed=seed + 1)
    lam = g1 / (g1 + g2)
    lam = tf.maximum(lam, 1 - lam)
    partner = tf.random.shuffle(tf.range(n), seed=seed + 2)
    lam_images = tf.reshape(lam, [-1, 1, 1, 1])
    images = tf.cast(images, "float32")
    images = lam_images * images + (1 - lam_images) * tf.gather(images, partner)
    return images, lam * targets + (1 - lam) * tf.gather(targets, partner)


def predict(model, X, tta):
    proba = model.predict(X, batch_size=256, verbose=0).ravel()
    if tta == "flip":
        proba = (proba + model.predict(X[:, :, ::-1], batch_size=256, verbose=0).ravel()) / 2
    return proba


def parser():
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
    parser.add_argument("--first-convs", type=int, default=None,
                        help="convolutions in the first block (default: --convs)")
    parser.add_argument("--jit", action="store_true", help="XLA-compile the training step")
    parser.add_argument("--ema", type=float, default=0.0,
                        help="keep an exponential moving average of the weights (momentum)")
    parser.add_argument("--ema-all", type=float, default=0.0,
                        help="validate (and keep) an exponential moving average of all the "
                             "weights and batch-norm statistics, updated every step "
                             "(momentum; ramped up as TensorFlow's num_updates does)")
    parser.add_argument("--bf16", action="store_true", help="mixed_bfloat16 policy")
    parser.add_argument("--bn-momentum", type=float, default=0.99)
    parser.add_argument("--dropout", type=float, default=0.3)
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--mixup", type=float, default=0.0,
                        help="mixup's alpha: blend each training image with another of its "
                             "batch, targets alike (0: none)")
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
    return parser


def _keras_callback():
    import keras

    return keras.callbacks.Callback


class WeightAverage(_keras_callback()):
    """An exponential moving average of every float weight, batch-norm statistics included.

    Updated after every training step (airbench and DAWNBench average the
    whole state, statistics too, so the averaged network is consistent);
    the momentum ramps up as ``min(momentum, (1 + t) / (10 + t))``.
    :meth:`swap_in` writes the average into the model.
    """

    def __init__(self, model, momentum):
        super().__init__()
        self.net, self.momentum, self.steps = model, momentum, 0
        self.variables = [v for v in model.weights
                          if "float" in str(v.dtype) and "seed_generator" not in v.path]
        self.average = [np.array(v.numpy(), dtype=np.float32) for v in self.variables]

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        m = min(self.momentum, (1 + self.steps) / (10 + self.steps))
        for average, v in zip(self.average, self.variables):
            average *= m
            average += (1 - m) * np.asarray(v.numpy(), dtype=np.float32)

    def swap_in(self):
        for average, v in zip(self.average, self.variables):
            v.assign(average.astype(v.dtype))


class Recipe:
    """One training of the recipe, run an epoch at a time (another fit may take turns).

    ``paths``/``labels`` are the 5,400 non-test images; ``split`` the
    ``(train, validation)`` indices. Each :meth:`run_epoch` trains one epoch,
    scores the validation images and returns its seconds (the training and
    that scoring: what a fit with validation spends on an epoch).
    """

    def __init__(self, args, paths, labels, split):
        import keras

        self.args = args
        self.phases = ([tuple(int(v) for v in s.split(":")) for s in args.sizes] if args.sizes
                       else [(64, args.epochs)])
        self.sizes = [size for size, n in self.phases for _ in range(n)]
        self.y = (np.asarray(labels) == "dog").astype("int64")
        self.train, self.val = split
        self.pixels = {}
        for size in {s for s, _ in self.phases} | {args.eval_size}:
            X, _ = P.load_pixels(paths, (size, size))
            self.pixels[size] = X.reshape(len(X), size, size, 3)
        policy = "mixed_bfloat16" if args.bf16 else "float32"
        before = keras.config.dtype_policy()
        keras.config.set_dtype_policy(policy)
        try:
            self.model = build(args.filters, args.residual, args.bn_momentum, args.dropout,
                               args.seed, stem_stride=args.stem_stride, convs=args.convs,
                               first_convs=args.first_convs)
        finally:
            keras.config.set_dtype_policy(before)
        steps = int(np.ceil(len(self.train) / args.batch_size)) * len(self.sizes)
        warmup = steps // 10
        schedule = keras.optimizers.schedules.CosineDecay(
            1e-4, decay_steps=steps - warmup, alpha=0.0, warmup_target=args.lr,
            warmup_steps=warmup)
        optimizer = keras.optimizers.AdamW(learning_rate=schedule, weight_decay=1e-4,
                                           use_ema=bool(args.ema),
                                           ema_momentum=args.ema or 0.99)
        self.model.compile(
            optimizer=optimizer,
            loss=keras.losses.BinaryCrossentropy(label_smoothing=args.label_smoothing),
            metrics=["accuracy"], jit_compile=args.jit)
        self.augment = augmenter(args.seed)
        self.history, self.best, self.best_weights = [], -1.0, None
        self.average = WeightAverage(self.model, args.ema_all) if args.ema_all else None
        self._dataset = None

    @property
    def done(self):
        return len(self.history)

    def run_epoch(self):
        args, epoch = self.args, self.done
        size = self.sizes[epoch]
        if epoch == 0 or self.sizes[epoch - 1] != size:  # a phase starts
            self._dataset = dataset(self.pixels[size][self.train], self.y[self.train],
                                    args.batch_size, self.augment, args.seed + epoch, True,
                                    mixup=args.mixup)
        X_val, y_val = self.pixels[args.eval_size][self.val], self.y[self.val]
        t0 = time.perf_counter()
        fit = self.model.fit(self._dataset, epochs=epoch + 1, initial_epoch=epoch, verbose=0,
                             callbacks=[self.average] if self.average else None)
        raw = None
        if self.average:  # validate the average; training goes on from the raw weights
            raw = float(((predict(self.model, X_val, args.tta) > 0.5) == y_val).mean())
            raw_weights = self.model.get_weights()
            self.average.swap_in()
        val_acc = float(((predict(self.model, X_val, args.tta) > 0.5) == y_val).mean())
        seconds = time.perf_counter() - t0
        # The other view, for the table only (not timed, never chooses an epoch).
        other = float(((predict(self.model, X_val, "none" if args.tta == "flip" else "flip")
                        > 0.5) == y_val).mean())
        self.history.append({"epoch": epoch + 1, "size": size, "seconds": round(seconds, 1),
                             "accuracy": fit.history["accuracy"][-1],
                             "val_accuracy": val_acc, "val_accuracy_other_tta": other})
        print(f"epoch {epoch + 1:2d} size {size} {seconds:6.1f}s "
              f"acc {fit.history['accuracy'][-1]:.4f} val {val_acc:.4f} "
              f"(other tta {other:.4f})", flush=True)
        if raw is not None:
            self.history[-1]["val_accuracy_raw_weights"] = raw
            print(f"         raw weights: val {raw:.4f}", flush=True)
        if val_acc > self.best or args.keep == "last":
            self.best, self.best_weights = val_acc, self.model.get_weights()
        if raw is not None:
            self.model.set_weights(raw_weights)
        return seconds

    def finish(self):
        """Keep the chosen epoch's weights."""
        self.model.set_weights(self.best_weights)

    def test_accuracy(self, paths_test, labels_test):
        size = self.args.eval_size
        X_test, _ = P.load_pixels(paths_test, (size, size))
        X_test = X_test.reshape(len(X_test), size, size, 3)
        y_test = (np.asarray(labels_test) == "dog").astype("int64")
        return float(((predict(self.model, X_test, self.args.tta) > 0.5) == y_test).mean())


def main(argv=None):
    args = parser().parse_args(argv)

    import tensorflow as tf

    if args.threads:
        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)

    paths, paths_test, labels, labels_test = P.load_split()
    recipe = Recipe(args, paths, labels, P.validation_indices(labels, 0))
    start = time.perf_counter()
    cpu_start = time.process_time()
    while recipe.done < len(recipe.sizes):
        recipe.run_epoch()
    fit_seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    recipe.finish()
    record = {
        "args": vars(args), "epochs": len(recipe.sizes), "fit_seconds": fit_seconds,
        "cpu_seconds": cpu_seconds, "val_accuracy": recipe.best, "history": recipe.history,
        "params": recipe.model.count_params(), "environment": P.environment(),
    }
    if args.test:
        record["test_accuracy"] = recipe.test_accuracy(paths_test, labels_test)
    tag = args.tag or f"s{args.seed}_e{len(recipe.sizes)}"
    if args.save:
        recipe.model.save(P.OUT_DIR / f"bench_recipe_{tag}.keras")
    P.write_json(f"bench_recipe_{tag}", record)
    print(f"val {recipe.best:.4f}  test {record.get('test_accuracy', float('nan')):.4f}  "
          f"fit {fit_seconds:.0f}s  cpu {cpu_seconds:.0f}s  load {P.load_average()}")
    return record


if __name__ == "__main__":
    main()
