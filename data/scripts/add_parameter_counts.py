"""Add the ``n_parameters`` metric to tables recorded by record_mlp.py before it recorded one.

The curves are not re-recorded: an MLPClassifier's number of weights and biases follows from its
configuration and the dataset alone. With layer sizes ``[n_features] + [width] * num_layers +
[n_outputs]`` (``n_outputs`` = 1 for two classes, scikit-learn's logistic output, else the
number of classes) it is ``sum(a * b + b)`` over consecutive pairs ``(a, b)``. Before writing,
the formula is checked against ``sum(w.size for w in coefs_) + sum(b.size for b in
intercepts_)`` of a model fitted for one epoch, for every (num_layers, width) pair the table
holds. Rows of a diverged step keep all metrics NaN, as data/FORMAT.md requires.

The column goes after the existing metrics; the metadata gets the metric, a sentence in its
description and the new file's sha256.

    python data/scripts/add_parameter_counts.py data/mlp-digits.parquet data/mlp-breast-cancer.parquet
"""

import hashlib
import math
import re
import sys
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.neural_network import MLPClassifier

DATASETS = {"mlp-digits": load_digits, "mlp-breast-cancer": load_breast_cancer}


def count(n_features: int, n_outputs: int, num_layers: int, width: int) -> int:
    sizes = [n_features] + [width] * num_layers + [n_outputs]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def fitted_count(X, y, num_layers: int, width: int) -> int:
    model = MLPClassifier(hidden_layer_sizes=(width,) * num_layers, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.partial_fit(X[:64], y[:64], classes=np.unique(y))
    return sum(w.size for w in model.coefs_) + sum(b.size for b in model.intercepts_)


def add(parquet_path: str) -> None:
    name = parquet_path.rsplit("/", 1)[-1].removesuffix(".parquet")
    X, y = DATASETS[name](return_X_y=True)
    classes = len(np.unique(y))
    n_outputs = 1 if classes == 2 else classes
    table = pq.read_table(parquet_path)
    if "n_parameters" in table.column_names:
        sys.exit(f"{parquet_path}: already has n_parameters")
    layers = table.column("num_layers").to_pylist()
    widths = table.column("width").to_pylist()
    for num_layers, width in sorted(set(zip(layers, widths))):
        expected, fitted = count(X.shape[1], n_outputs, num_layers, width), fitted_count(X, y, num_layers, width)
        if expected != fitted:
            sys.exit(f"{name}: {num_layers} x {width}: formula {expected}, scikit-learn {fitted}")
    accuracy = table.column("valid_accuracy").to_pylist()
    values = [
        math.nan if a is None or math.isnan(a) else float(count(X.shape[1], n_outputs, n, w))
        for a, n, w in zip(accuracy, layers, widths)
    ]
    table = table.append_column("n_parameters", pa.array(values, type=pa.float64()))
    pq.write_table(table, parquet_path, compression="zstd", compression_level=19)
    digest = hashlib.sha256(open(parquet_path, "rb").read()).hexdigest()

    toml_path = parquet_path.removesuffix(".parquet") + ".toml"
    text = open(toml_path, encoding="utf-8").read()
    text = re.sub(r'sha256 = "[0-9a-f]+"', f'sha256 = "{digest}"', text)
    text = text.replace(
        "(L2 penalty included). Cost",
        "(L2 penalty included), n_parameters = the model's weights and biases (added from the "
        "configuration by data/scripts/add_parameter_counts.py). Cost",
    )
    text = text.replace(
        '[[metrics]]\nname = "train_loss"\ndirection = "minimize"\n',
        '[[metrics]]\nname = "train_loss"\ndirection = "minimize"\n\n'
        '[[metrics]]\nname = "n_parameters"\ndirection = "minimize"\n',
    )
    open(toml_path, "w", encoding="utf-8").write(text)
    print(f"{parquet_path}: n_parameters from {min(v for v in values if v == v):.0f} to "
          f"{max(v for v in values if v == v):.0f}; sha256 {digest}")


if __name__ == "__main__":
    for path in sys.argv[1:]:
        add(path)
