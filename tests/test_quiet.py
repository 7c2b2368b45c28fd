"""TensorFlow's log lines stay out of the user's terminal and notebook."""

import os
import subprocess
import sys

from skcatdog._quiet import quiet_native_stderr

TIMEOUT = 600


def test_native_log_lines_are_dropped_and_everything_else_passes(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    with quiet_native_stderr():
        os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are "
                    b"written to STDERR\n"
                    b"I0000 00:00:1796323180.860020    8637 port.cc:153] oneDNN custom "
                    b"operations are on.\n"
                    b"E0000 00:00:1796323472.193901   15071 cuda_platform.cc:52] failed call "
                    b"to cuInit\n"
                    b"a warning of the user's own\n")
    assert capfd.readouterr().err == "a warning of the user's own\n"


def test_asking_for_tensorflow_logs_keeps_them(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    with quiet_native_stderr():
        os.write(2, b"I0000 00:00:1.5 1 port.cc:153] oneDNN custom operations are on.\n")
    assert "oneDNN" in capfd.readouterr().err


def test_import_fit_predict_and_cross_validation_print_nothing(tmp_path):
    # A fresh process, as a user's script or notebook kernel: the import, fits of
    # several clones (TensorFlow's retracing detector), predictions of three sizes.
    script = """
import numpy as np
from sklearn.model_selection import cross_val_score
from skcatdog import DeepCNNClassifier

rng = np.random.default_rng(0)
X = rng.integers(0, 255, (48, 8 * 8 * 3), dtype=np.uint8)
y = np.array(["cat", "dog"] * 24)
clf = DeepCNNClassifier(epochs=1, image_shape=(8, 8, 3), n_conv_layers=1, dense_units=4,
                        verbose=0, random_state=0)
clf.fit(X, y).predict(X[:5])
clf.predict_proba(X[:7])
cross_val_score(clf, X, y, cv=4)
print("done")
"""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=TIMEOUT, env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"
    assert result.stderr == ""
