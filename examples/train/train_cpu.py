"""A small CPU training script for hposim's live studies (experiments/validate-cpu.toml).

An MLP on scikit-learn's digits (shipped with scikit-learn, no download), one epoch per step
with partial_fit, validation error reported after each epoch. Hyperparameters come from
HPOSIM_CONFIG; training is deterministic given HPOSIM_SEED, so a live run repeats its recording.
"""
import os, sys, time
# One thread per trial: hposim runs one trial per core (workers = cores), and a BLAS that
# spreads over every core would slow the other slot's trial down by what it happens to be
# doing (starting up or training), which no recording can predict.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hposim_trial import trial
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

c = trial.config
x, y = load_digits(return_X_y=True)
x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)
scaler = StandardScaler().fit(x_train)
x_train, x_val = scaler.transform(x_train), scaler.transform(x_val)
model = trial.load()
if model is None:
    model = MLPClassifier(hidden_layer_sizes=(int(c["width"]),), learning_rate_init=float(c["learning_rate"]),
                          alpha=float(c["alpha"]), batch_size=int(c["batch_size"]), random_state=trial.seed % 2**31)
classes = np.unique(y)
for step in trial.steps():
    start = time.perf_counter()
    rng = np.random.default_rng([trial.seed, step])
    order = rng.permutation(len(x_train))
    model.partial_fit(x_train[order], y_train[order], classes=classes)
    error = 1.0 - model.score(x_val, y_val)
    trial.report(step, model, val_error=error, train_seconds=time.perf_counter() - start)
