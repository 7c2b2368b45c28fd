"""Pretrained backbones on the protocol: accuracy, time against the recipe, throughput.

``conversion``
    EfficientNet-Lite0's ImageNet weights, converted from the PyTorch file of
    the ``skcatdog[pretrained]`` extra, classify the 500 full-resolution
    photos into ImageNet's 1,000 classes: the share of cat photos whose top
    prediction (and whose top five) fall among the domestic cats (classes
    281-285) or the cat family (281-293), and of dog photos among the dog
    breeds (151-268).
``target``
    ``ImageLoader(224x224) -> PretrainedFeatures -> LogisticRegression`` on
    the protocol's 4,800 training images (``C`` chosen on its 600 validation
    images), scored on the 575 test images (decoded once, at the end); the
    training time (features of the 5,400 images and the classifier's fits)
    against the plain Keras recipe's 30 epochs (``bench_recipe.py``) probed in
    the same run, its warm epochs taking turns around the fit. Then the same
    with only 100 training photos per class.
``throughput``
    ``PretrainedFeatures.transform`` (cold cache) against plain
    ``model.predict`` of the same pooled backbone on the same arrays,
    alternating, after one warm-up call.
``sizes``
    Test accuracy against the number of training photos (drawn stratified
    from the 4,800): the pretrained features with logistic regression, the
    pretrained classifier fine-tuned end to end, and the networks trained from
    scratch (deep and tuned), for ``docs/user_guide/how_many_photos.rst``.
``head``
    How :class:`PretrainedCNNClassifier` trains its head on 100 or 300
    photos, by learning rate and epochs, scored on the 600 validation images
    (this chose its defaults).

Reproduce::

    .venv/bin/python benchmarks/bench_pretrained.py conversion
    .venv/bin/python benchmarks/bench_pretrained.py target
    .venv/bin/python benchmarks/bench_pretrained.py throughput
    .venv/bin/python benchmarks/bench_pretrained.py sizes
    .venv/bin/python benchmarks/bench_pretrained.py head    # the head's learning rate

JSON goes to ``benchmarks/out/bench_pretrained_<command>.json``.
"""

import argparse
import glob
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

SIZE = (224, 224)
C_GRID = [0.01, 0.03, 0.1, 0.3, 1.0, 3.0]


def cmd_conversion(args):
    from skcatdog.backbones import efficientnet_lite, imagenet_weights_path
    from skcatdog.loading import ImageLoader

    files = sorted(glob.glob(str(P.DATA_DIR.parent / "dogs-vs-cats-fullres-500" / "*.jpg")))
    X = ImageLoader(image_size=SIZE).fit_transform(files).reshape(-1, *SIZE, 3)
    is_dog = np.array([os.path.basename(f).startswith("dog.") for f in files])
    model = efficientnet_lite.build("efficientnet_lite0", (*SIZE, 3), include_top=True)
    model.load_weights(imagenet_weights_path("efficientnet_lite0"))
    top5 = np.argsort(-model.predict(X, batch_size=50, verbose=0), axis=1)[:, :5]
    domestic = (top5 >= 281) & (top5 <= 285)
    felid = (top5 >= 281) & (top5 <= 293)
    breed = (top5 >= 151) & (top5 <= 268)
    cats, dogs = ~is_dog, is_dog
    rows = [
        {"photos": "cats", "n": int(cats.sum()),
         "top1_in_class": float(domestic[cats, 0].mean()),
         "top5_has_class": float(domestic[cats].any(1).mean()),
         "top5_all_in_family": float(felid[cats].all(1).mean()),
         "top1_other_animal": float((~felid[cats, 0]).mean())},
        {"photos": "dogs", "n": int(dogs.sum()),
         "top1_in_class": float(breed[dogs, 0].mean()),
         "top5_has_class": float(breed[dogs].any(1).mean()),
         "top5_all_in_family": float(breed[dogs].all(1).mean()),
         "top1_other_animal": float((~breed[dogs, 0]).mean())},
    ]
    P.print_table(rows, list(rows[0]))
    P.write_json("bench_pretrained_conversion", {"rows": rows, "environment": P.environment()})


def _fit_logistic(F_train, y_train, F_val, y_val):
    """The logistic regression whose ``C`` scores best on validation, refitted."""
    from sklearn.linear_model import LogisticRegression

    scores = []
    for C in C_GRID:
        clf = LogisticRegression(C=C, max_iter=2000).fit(F_train, y_train)
        scores.append(float(np.mean(clf.predict(F_val) == y_val)))
    best = C_GRID[int(np.argmax(scores))]
    return LogisticRegression(C=best, max_iter=2000).fit(F_train, y_train), best, max(scores)


def _anchor(paths, labels, seed=0):
    import bench_recipe

    return bench_recipe.Recipe(bench_recipe.parser().parse_args(["--seed", str(seed)]),
                               paths, labels, P.validation_indices(labels, seed))


def cmd_target(args):
    from skcatdog.features import PretrainedFeatures, clear_feature_cache

    paths, paths_test, labels, labels_test = P.load_split()
    labels, labels_test = np.asarray(labels), np.asarray(labels_test)
    train, val = P.validation_indices(labels, 0)
    X, decode_s = P.load_pixels(paths, SIZE)
    anchor = _anchor(paths, labels)
    anchor.run_epoch()  # builds its graph; not counted
    anchor.run_epoch()
    clear_feature_cache()
    start, cpu = time.perf_counter(), time.process_time()
    embed = PretrainedFeatures(backbone=args.backbone).fit(X[:1])  # loads the weights
    F_train, F_val = embed.transform(X[train]), embed.transform(X[val])
    clf, C, val_acc = _fit_logistic(F_train, labels[train], F_val, labels[val])
    fit_s, cpu_s = time.perf_counter() - start, time.process_time() - cpu
    anchor.run_epoch()
    epoch_s = float(np.mean([e["seconds"] for e in anchor.history[1:]]))
    budget_s = 30 * epoch_s / 3

    # 100 photos of each class, drawn from the 4,800 (their features are cached).
    rng = np.random.RandomState(0)
    few = np.concatenate([rng.choice(train[labels[train] == c], 100, replace=False)
                          for c in ("cat", "dog")])
    clf_few, C_few, val_few = _fit_logistic(embed.transform(X[few]), labels[few], F_val,
                                            labels[val])

    X_test, _ = P.load_pixels(paths_test, SIZE)  # chosen: now the test images
    F_test = embed.transform(X_test)
    test_acc = float(np.mean(clf.predict(F_test) == labels_test))
    few_acc = float(np.mean(clf_few.predict(F_test) == labels_test))
    print(f"test {test_acc:.4f} (100 per class: {few_acc:.4f}), fit {fit_s:.0f}s, "
          f"budget {budget_s:.0f}s", flush=True)
    record = {
        "backbone": args.backbone, "n_train": len(train), "C": C, "val_accuracy": val_acc,
        "test_accuracy": test_acc,
        "fit_s": fit_s, "cpu_s": cpu_s, "anchor_epoch_s": epoch_s,
        "anchor_30_epochs_s": 30 * epoch_s, "budget_s": budget_s,
        "budget_ratio": fit_s / budget_s,
        "few_n_train": len(few), "few_C": C_few, "few_val_accuracy": val_few,
        "few_test_accuracy": few_acc,
        "decode_s": decode_s, "load": P.load_average(), "environment": P.environment(),
    }
    rows = [{k: record[k] for k in ("n_train", "C", "val_accuracy", "test_accuracy", "fit_s",
                                    "budget_s", "budget_ratio")},
            {"n_train": record["few_n_train"], "C": C_few, "val_accuracy": val_few,
             "test_accuracy": record["few_test_accuracy"]}]
    P.print_table(rows, list(rows[0]))
    P.write_json("bench_pretrained_target", record)


def cmd_throughput(args):
    """PretrainedFeatures against plain ``predict`` of the same backbone, alternating."""
    from skcatdog.features import _FEATURES, PretrainedFeatures, _pooled_network

    paths, _, _, _ = P.load_split()
    sample, _ = P.load_pixels(paths[:args.images], SIZE)
    images = sample.reshape(-1, *SIZE, 3)
    # One network for both (PretrainedFeatures' own, loaded once per process),
    # traced before timing.
    embed = PretrainedFeatures(backbone=args.backbone).fit(sample[:1])
    _, network = _pooled_network(args.backbone, "imagenet", (*SIZE, 3), None)
    network.predict(images[:64], batch_size=32, verbose=0)
    rows = []
    for repeat in range(args.repeats):
        t = time.perf_counter()
        network.predict(images, batch_size=32, verbose=0)
        keras_s = time.perf_counter() - t
        _FEATURES.clear()  # every image new: the backbone runs on all of them
        t = time.perf_counter()
        embed.transform(sample)
        ours_s = time.perf_counter() - t
        rows.append({"repeat": repeat, "keras_img_per_s": len(images) / keras_s,
                     "features_img_per_s": len(images) / ours_s, "ratio": keras_s / ours_s})
    P.print_table(rows, list(rows[0]))
    ratio = float(np.median([r["ratio"] for r in rows]))
    print(f"median ratio (PretrainedFeatures / plain predict throughput): {ratio:.3f}")
    P.write_json("bench_pretrained_throughput", {
        "backbone": args.backbone, "images": len(images), "rows": rows, "median_ratio": ratio,
        "load": P.load_average(), "environment": P.environment()})


def _subset(labels, train, n, seed=0):
    """``n`` of the ``train`` indices, half of each class."""
    rng = np.random.RandomState(seed)
    return np.concatenate([rng.choice(train[labels[train] == c], n // 2, replace=False)
                           for c in ("cat", "dog")])


def cmd_sizes(args):
    from sklearn.linear_model import LogisticRegressionCV

    from skcatdog.features import PretrainedFeatures
    from skcatdog.models import DeepCNNClassifier
    from skcatdog.pretrained import PRETRAINED_IMAGE_SIZE, PretrainedCNNClassifier
    from skcatdog.tuned import TUNED_IMAGE_SIZE, TunedCNNClassifier

    paths, paths_test, labels, labels_test = P.load_split()
    labels, labels_test = np.asarray(labels), np.asarray(labels_test)
    train, _ = P.validation_indices(labels, 0)
    sizes = {size: P.load_pixels(paths, size)[0]
             for size in {PRETRAINED_IMAGE_SIZE, TUNED_IMAGE_SIZE, P.IMAGE_SIZE}}
    tests = {size: P.load_pixels(paths_test, size)[0] for size in sizes}
    embed = PretrainedFeatures().fit(sizes[PRETRAINED_IMAGE_SIZE][:1])
    F_test = embed.transform(tests[PRETRAINED_IMAGE_SIZE])

    def scratch(cls, size, **params):
        def run(idx):
            clf = cls(random_state=0, **params).fit(sizes[size][idx], labels[idx])
            return clf.predict(tests[size])
        return run

    def features(idx):
        # C by cross-validation on the training photos alone: a user with 50
        # photos has no 600 validation images.
        cv = int(min(5, len(idx) // 2))
        clf = LogisticRegressionCV(Cs=C_GRID, cv=cv, max_iter=2000)
        return clf.fit(embed.transform(sizes[PRETRAINED_IMAGE_SIZE][idx]), labels[idx]).predict(
            F_test)

    methods = {
        "pretrained features + logistic regression": (features, max(args.sizes)),
        "PretrainedCNNClassifier (frozen, 10 epochs)": (
            scratch(PretrainedCNNClassifier, PRETRAINED_IMAGE_SIZE), args.classifier_max),
        "DeepCNNClassifier (notebook, 50x50)": (
            scratch(DeepCNNClassifier, P.IMAGE_SIZE, augmentation=P.notebook_augmenter()),
            args.scratch_max),
        f"TunedCNNClassifier (128x128, {TunedCNNClassifier().epochs} epochs)": (
            scratch(TunedCNNClassifier, TUNED_IMAGE_SIZE), args.scratch_max),
    }
    rows = []
    for n in args.sizes:
        idx = _subset(labels, train, n)
        for name, (run, largest) in methods.items():
            if n > largest or not any(m in name for m in args.methods or [name]):
                continue
            start = time.perf_counter()
            predicted = run(idx)
            rows.append({"method": name, "n_train": n,
                         "test_accuracy": float(np.mean(predicted == labels_test)),
                         "seconds": time.perf_counter() - start})
            print(rows[-1], flush=True)
    P.print_table(rows, list(rows[0]))
    P.write_json("bench_pretrained_sizes", {"rows": rows, "load": P.load_average(),
                                            "environment": P.environment()})


def cmd_head(args):
    """PretrainedCNNClassifier's head training on a few photos, scored on validation only."""
    from skcatdog.pretrained import PRETRAINED_IMAGE_SIZE, PretrainedCNNClassifier

    paths, _, labels, _ = P.load_split()
    labels = np.asarray(labels)
    train, val = P.validation_indices(labels, 0)
    X, _ = P.load_pixels(paths, PRETRAINED_IMAGE_SIZE)
    rows = []
    for n in args.sizes:
        idx = _subset(labels, train, n)
        for lr in args.learning_rates:
            for epochs in args.epochs:
                start = time.perf_counter()
                clf = PretrainedCNNClassifier(learning_rate=lr, epochs=epochs, random_state=0)
                clf.fit(X[idx], labels[idx])
                rows.append({"n_train": n, "learning_rate": lr, "epochs": epochs,
                             "val_accuracy": float(np.mean(clf.predict(X[val]) == labels[val])),
                             "seconds": time.perf_counter() - start})
                print(rows[-1], flush=True)
    P.print_table(rows, list(rows[0]))
    P.write_json("bench_pretrained_head", {"rows": rows, "load": P.load_average(),
                                           "environment": P.environment()})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("conversion")
    target = sub.add_parser("target")
    target.add_argument("--backbone", default="efficientnet_lite0")
    throughput = sub.add_parser("throughput")
    throughput.add_argument("--backbone", default="efficientnet_lite0")
    throughput.add_argument("--images", type=int, default=640)
    throughput.add_argument("--repeats", type=int, default=5)
    sizes = sub.add_parser("sizes")
    sizes.add_argument("--sizes", nargs="+", type=int, default=[50, 100, 300, 1000, 4800])
    sizes.add_argument("--classifier-max", type=int, default=1000,
                       help="largest training set for PretrainedCNNClassifier")
    sizes.add_argument("--scratch-max", type=int, default=1000,
                       help="largest training set for the networks trained from scratch "
                            "(the tuned one takes over 20 minutes on 4,800)")
    sizes.add_argument("--methods", nargs="+", default=None, metavar="TEXT",
                       help="run only the methods whose names contain one of these, "
                            "e.g. TunedCNNClassifier (default: all)")
    head = sub.add_parser("head")
    head.add_argument("--sizes", nargs="+", type=int, default=[100, 300])
    head.add_argument("--learning-rates", nargs="+", type=float, default=[1e-3, 1e-2])
    head.add_argument("--epochs", nargs="+", type=int, default=[10])
    args = parser.parse_args(argv)
    commands = {"conversion": cmd_conversion, "target": cmd_target,
                "throughput": cmd_throughput, "sizes": cmd_sizes, "head": cmd_head}
    commands[args.command](args)


if __name__ == "__main__":
    main()
