#!/usr/bin/env python3
"""Make the real-data inputs for the gumbel C and C++ demos.

Writes two NumPy files into the output directory (default: the directory
this script lives in):

  digits_logits.npy  float32, C-contiguous, shape (1797, 10)
                     out-of-fold logits of a multinomial logistic-regression
                     classifier for every image of scikit-learn's handwritten
                     digits set (8x8 images, 64 features, 10 classes).
  digits_labels.npy  int64, shape (1797,), the true digit of each image.

"Out-of-fold" means that the logits of each image come from a model fitted
on the other four folds of a stratified 5-fold split (cross_val_predict with
method="decision_function"), so they look like the logits a trained model
produces on unseen data: mostly confident, sometimes wrong or ambiguous.

The regularisation is deliberately moderate (C=0.05 on standardised
features) so the softmax probabilities are spread out rather than all
one-hot, which makes the temperature sweep in the demos more interesting.

Needs numpy and scikit-learn (the digits data ships inside scikit-learn, so
nothing is downloaded).

Usage: python3 make_digits_logits.py [OUTPUT_DIR]
"""

import os
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

REGULARISATION_C = 0.05
N_FOLDS = 5
RANDOM_STATE = 0


def softmax_rows(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def main(argv):
    if len(argv) > 2:
        print(f"usage: {argv[0]} [OUTPUT_DIR]", file=sys.stderr)
        return 2
    out_dir = argv[1] if len(argv) == 2 else os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)

    digits = load_digits()
    x = digits.data.astype(np.float64)
    y = digits.target.astype(np.int64)

    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=REGULARISATION_C, max_iter=5000),
    )
    folds = StratifiedKFold(n_splits=N_FOLDS, shuffle=True, random_state=RANDOM_STATE)
    logits = cross_val_predict(model, x, y, cv=folds, method="decision_function")

    logits = np.ascontiguousarray(logits, dtype=np.float32)
    labels = np.ascontiguousarray(y, dtype=np.int64)
    assert logits.shape == (x.shape[0], 10), logits.shape
    assert np.isfinite(logits).all()

    logits_path = os.path.join(out_dir, "digits_logits.npy")
    labels_path = os.path.join(out_dir, "digits_labels.npy")
    np.save(logits_path, logits)
    np.save(labels_path, labels)

    probs = softmax_rows(logits.astype(np.float64))
    maxp = probs.max(axis=1)
    accuracy = float((probs.argmax(axis=1) == labels).mean())
    entropy = float(-(probs * np.log(np.clip(probs, 1e-300, None))).sum(axis=1).mean())

    print(f"wrote {logits_path}  {logits.dtype} {logits.shape}")
    print(f"wrote {labels_path}  {labels.dtype} {labels.shape}")
    print(f"model: StandardScaler + multinomial LogisticRegression(C={REGULARISATION_C}), "
          f"{N_FOLDS}-fold out-of-fold logits (random_state={RANDOM_STATE})")
    print(f"out-of-fold accuracy        {accuracy:.4f}")
    print(f"mean max softmax probability {maxp.mean():.4f}  (median {np.median(maxp):.4f}, "
          f"min {maxp.min():.4f})")
    print(f"mean softmax entropy (nats)  {entropy:.4f}")
    print(f"logit range                  [{logits.min():.3f}, {logits.max():.3f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
