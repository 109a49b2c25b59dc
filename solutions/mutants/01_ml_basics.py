"""Plausible wrong solutions for chapter 01; each must make its named tests cell fail.

The first mutant is also used as "the student with one mistake" in the grading test, so it
must break its own tests cell only.
"""

from __future__ import annotations

import textwrap

from autograder.mutants import Mutant


def _src(code: str) -> str:
    return textwrap.dedent(code).strip() + "\n"


def _mutants(cell: str, cases: list[tuple[str, str]]) -> list[Mutant]:
    return [Mutant(cell=cell, fails=f"test_{cell}", why=why, source=_src(code)) for why, code in cases]


FIT_LEAST_SQUARES = _mutants("fit_least_squares", [
    ("returns a column vector (d, 1) because y was reshaped to (n, 1)", """
        def fit_least_squares(X, y):
            y = np.asarray(y, dtype=float).reshape(-1, 1)
            return np.linalg.solve(X.T @ X, X.T @ y)
    """),
    ("adds its own column of ones although X already carries any bias", """
        def fit_least_squares(X, y):
            Xb = np.column_stack([np.ones(len(X)), X])
            return np.linalg.solve(Xb.T @ Xb, Xb.T @ y)
    """),
    ("missing transpose: X X^T instead of X^T X", """
        def fit_least_squares(X, y):
            return np.linalg.solve(X @ X.T, X.T @ y)
    """),
    ("divides by the column norms instead of solving the system (ignores correlations)", """
        def fit_least_squares(X, y):
            return (X.T @ y) / np.sum(X**2, axis=0)
    """),
    ("forgets X^T on the right-hand side", """
        def fit_least_squares(X, y):
            return np.linalg.solve(X.T @ X, y[: X.shape[1]])
    """),
])

POLYNOMIAL_FEATURES = _mutants("polynomial_features", [
    ("no bias column: powers start at x^1", """
        def polynomial_features(x, degree):
            x = np.asarray(x, dtype=float)
            return x[:, None] ** np.arange(1, degree + 1)
    """),
    ("off by one: powers stop at x^(degree-1)", """
        def polynomial_features(x, degree):
            x = np.asarray(x, dtype=float)
            return x[:, None] ** np.arange(degree)
    """),
    ("decreasing powers (np.vander's default order)", """
        def polynomial_features(x, degree):
            return np.vander(np.asarray(x, dtype=float), degree + 1)
    """),
    ("multiplies by j instead of raising to the power j", """
        def polynomial_features(x, degree):
            x = np.asarray(x, dtype=float)
            return x[:, None] * np.arange(degree + 1)
    """),
    ("transposed: one row per power instead of one row per sample", """
        def polynomial_features(x, degree):
            x = np.asarray(x, dtype=float)
            return x[None, :] ** np.arange(degree + 1)[:, None]
    """),
])

MSE = _mutants("mse", [
    ("sum of squares instead of the mean", """
        def mse(y_true, y_pred):
            return float(np.sum((np.asarray(y_true) - np.asarray(y_pred)) ** 2))
    """),
    ("root mean squared error (extra square root)", """
        def mse(y_true, y_pred):
            return float(np.sqrt(np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2)))
    """),
    ("mean absolute error instead of squared", """
        def mse(y_true, y_pred):
            return float(np.mean(np.abs(np.asarray(y_true) - np.asarray(y_pred))))
    """),
    ("squares the mean error instead of averaging the squared errors", """
        def mse(y_true, y_pred):
            return float(np.mean(np.asarray(y_true) - np.asarray(y_pred)) ** 2)
    """),
    ("averages over the first axis only (an array for multi-axis inputs)", """
        def mse(y_true, y_pred):
            return np.mean((np.asarray(y_true) - np.asarray(y_pred)) ** 2, axis=0)
    """),
])

FIT_RIDGE = _mutants("fit_ridge", [
    ("adds lam to every entry of X^T X instead of its diagonal", """
        def fit_ridge(X, y, lam):
            return np.linalg.solve(X.T @ X + lam, X.T @ y)
    """),
    ("leaves the first weight (the bias) unpenalised against the stated convention", """
        def fit_ridge(X, y, lam):
            penalty = lam * np.eye(X.shape[1])
            penalty[0, 0] = 0.0
            return np.linalg.solve(X.T @ X + penalty, X.T @ y)
    """),
    ("scales the penalty by the number of samples", """
        def fit_ridge(X, y, lam):
            return np.linalg.solve(X.T @ X + lam * len(y) * np.eye(X.shape[1]), X.T @ y)
    """),
    ("shrinks the least-squares weights by 1 / (1 + lam) instead of solving the ridge system", """
        def fit_ridge(X, y, lam):
            return np.linalg.solve(X.T @ X, X.T @ y) / (1.0 + lam)
    """),
    ("penalty lam^2 instead of lam", """
        def fit_ridge(X, y, lam):
            return np.linalg.solve(X.T @ X + lam**2 * np.eye(X.shape[1]), X.T @ y)
    """),
])

KFOLD_INDICES = _mutants("kfold_indices", [
    ("drops the remainder: n % k samples are never validated", """
        def kfold_indices(n, k):
            size = n // k
            folds = []
            for i in range(k):
                val_idx = np.arange(i * size, (i + 1) * size)
                folds.append((np.setdiff1d(np.arange(n), val_idx), val_idx))
            return folds
    """),
    ("puts the whole remainder into the last fold", """
        def kfold_indices(n, k):
            size = n // k
            folds = []
            for i in range(k):
                stop = n if i == k - 1 else (i + 1) * size
                val_idx = np.arange(i * size, stop)
                folds.append((np.setdiff1d(np.arange(n), val_idx), val_idx))
            return folds
    """),
    ("interleaved folds (every k-th index) instead of contiguous blocks", """
        def kfold_indices(n, k):
            folds = []
            for i in range(k):
                val_idx = np.arange(i, n, k)
                folds.append((np.setdiff1d(np.arange(n), val_idx), val_idx))
            return folds
    """),
    ("training set overlaps the validation fold (uses all indices)", """
        def kfold_indices(n, k):
            folds = []
            for val_idx in np.array_split(np.arange(n), k):
                folds.append((np.arange(n), val_idx))
            return folds
    """),
    ("the larger folds come last instead of first", """
        def kfold_indices(n, k):
            sizes = [n // k + (1 if i >= k - n % k else 0) for i in range(k)]
            folds, start = [], 0
            for size in sizes:
                val_idx = np.arange(start, start + size)
                folds.append((np.setdiff1d(np.arange(n), val_idx), val_idx))
                start += size
            return folds
    """),
])

CROSS_VAL_MSE = _mutants("cross_val_mse", [
    ("evaluates on the training folds instead of the held-out fold", """
        def cross_val_mse(X, y, k, fit):
            errors = []
            for train_idx, val_idx in kfold_indices(len(y), k):
                w = fit(X[train_idx], y[train_idx])
                errors.append(mse(y[train_idx], X[train_idx] @ w))
            return float(np.mean(errors))
    """),
    ("fits on all data (the validation fold leaks into training)", """
        def cross_val_mse(X, y, k, fit):
            errors = []
            for train_idx, val_idx in kfold_indices(len(y), k):
                w = fit(X, y)
                errors.append(mse(y[val_idx], X[val_idx] @ w))
            return float(np.mean(errors))
    """),
    ("pools all squared errors (weights folds by size) instead of averaging fold MSEs", """
        def cross_val_mse(X, y, k, fit):
            total = 0.0
            for train_idx, val_idx in kfold_indices(len(y), k):
                w = fit(X[train_idx], y[train_idx])
                total += np.sum((y[val_idx] - X[val_idx] @ w) ** 2)
            return float(total / len(y))
    """),
    ("sums the fold errors instead of averaging them", """
        def cross_val_mse(X, y, k, fit):
            total = 0.0
            for train_idx, val_idx in kfold_indices(len(y), k):
                w = fit(X[train_idx], y[train_idx])
                total += mse(y[val_idx], X[val_idx] @ w)
            return float(total)
    """),
    ("off by one: skips the last fold", """
        def cross_val_mse(X, y, k, fit):
            errors = []
            for train_idx, val_idx in kfold_indices(len(y), k)[:-1]:
                w = fit(X[train_idx], y[train_idx])
                errors.append(mse(y[val_idx], X[val_idx] @ w))
            return float(np.mean(errors))
    """),
])

BIAS_VARIANCE = _mutants("bias_variance", [
    ("bias with the sign flipped (true value minus mean estimate)", """
        def bias_variance(estimator, datasets, true_value):
            estimates = np.array([estimator(d) for d in datasets], dtype=float)
            return float(true_value - estimates.mean()), float(estimates.var())
    """),
    ("variance divided by S - 1 instead of S", """
        def bias_variance(estimator, datasets, true_value):
            estimates = np.array([estimator(d) for d in datasets], dtype=float)
            return float(estimates.mean() - true_value), float(estimates.var(ddof=1))
    """),
    ("returns the standard deviation instead of the variance", """
        def bias_variance(estimator, datasets, true_value):
            estimates = np.array([estimator(d) for d in datasets], dtype=float)
            return float(estimates.mean() - true_value), float(estimates.std())
    """),
    ("spread around the true value (that is the MSE) instead of around the mean estimate", """
        def bias_variance(estimator, datasets, true_value):
            estimates = np.array([estimator(d) for d in datasets], dtype=float)
            return (float(estimates.mean() - true_value),
                    float(np.mean((estimates - true_value) ** 2)))
    """),
    ("applies the estimator once to all data sets stacked together", """
        def bias_variance(estimator, datasets, true_value):
            estimates = np.atleast_1d(np.asarray(estimator(np.asarray(datasets)), dtype=float))
            return float(estimates.mean() - true_value), float(estimates.var())
    """),
])

GAUSSIAN_MLE = _mutants("gaussian_mle", [
    ("unbiased 1/(N-1) variance instead of the maximum-likelihood 1/N", """
        def gaussian_mle(x):
            x = np.asarray(x, dtype=float)
            return float(x.mean()), float(np.sum((x - x.mean()) ** 2) / (len(x) - 1))
    """),
    ("returns the standard deviation instead of the variance", """
        def gaussian_mle(x):
            x = np.asarray(x, dtype=float)
            return float(x.mean()), float(x.std())
    """),
    ("forgets to subtract the mean: mean of x^2", """
        def gaussian_mle(x):
            x = np.asarray(x, dtype=float)
            return float(x.mean()), float(np.mean(x**2))
    """),
    ("median instead of the mean", """
        def gaussian_mle(x):
            x = np.asarray(x, dtype=float)
            mu = np.median(x)
            return float(mu), float(np.mean((x - mu) ** 2))
    """),
    ("one-pass formula mean(x^2) - mu^2, which cancels catastrophically for large |mu|", """
        def gaussian_mle(x):
            x = np.asarray(x, dtype=float)
            mu = x.mean()
            return float(mu), float(np.mean(x**2) - mu**2)
    """),
])

MUTANTS: list[Mutant] = [
    *FIT_LEAST_SQUARES,
    *POLYNOMIAL_FEATURES,
    *MSE,
    *FIT_RIDGE,
    *KFOLD_INDICES,
    *CROSS_VAL_MSE,
    *BIAS_VARIANCE,
    *GAUSSIAN_MLE,
]
