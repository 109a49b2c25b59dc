"""Plausible wrong solutions for chapter 01; each must make its tests cell fail.

Every mutant is an edit of the chapter's own solution cell (see autograder.mutants.editor). The
first mutant is also "the student with one mistake" of the grading tests, so it must break its
own tests cell only.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import editor

edit = editor(Path(__file__).resolve().parents[1] / "01_ml_basics.py")

FIT_LEAST_SQUARES = [
    edit("fit_least_squares", "returns a column vector of shape (d, 1) because y was reshaped to (n, 1)",
         ("y = np.asarray(y, dtype=float)", "y = np.asarray(y, dtype=float).reshape(-1, 1)")),
    edit("fit_least_squares", "adds its own column of ones although X already carries any bias",
         ("X = np.asarray(X, dtype=float)",
          "X = np.column_stack([np.ones(len(X)), np.asarray(X, dtype=float)])")),
    edit("fit_least_squares", "missing transpose: solves with X X^T instead of X^T X",
         ("np.linalg.solve(X.T @ X, X.T @ y)", "np.linalg.solve(X @ X.T, X.T @ y)")),
    edit("fit_least_squares", "divides X^T y by the squared column norms instead of solving the system "
         "(ignores how the columns correlate)",
         ("np.linalg.solve(X.T @ X, X.T @ y)", "(X.T @ y) / np.sum(X**2, axis=0)")),
    edit("fit_least_squares", "forgets X^T on the right-hand side (uses the first d targets)",
         ("np.linalg.solve(X.T @ X, X.T @ y)", "np.linalg.solve(X.T @ X, y[: X.shape[1]])")),
    edit("fit_least_squares", "rescales the columns of X in place (X /= norms), which changes the caller's X",
         ("    return np.linalg.solve(X.T @ X, X.T @ y)",
          "    scale = np.linalg.norm(X, axis=0)\n"
          "    X /= scale\n"
          "    return np.linalg.solve(X.T @ X, X.T @ y) / scale"), kind="inplace"),
    edit("fit_least_squares", "computes in float32 (np.float32 arrays) instead of float64",
         ("X = np.asarray(X, dtype=float)", "X = np.asarray(X, dtype=np.float32)"),
         ("y = np.asarray(y, dtype=float)", "y = np.asarray(y, dtype=np.float32)"), kind="dtype"),
]

POLYNOMIAL_FEATURES = [
    edit("polynomial_features", "no bias column: the powers start at x^1",
         ("np.arange(degree + 1)", "np.arange(1, degree + 1)")),
    edit("polynomial_features", "off by one: the powers stop at x^(degree-1)",
         ("np.arange(degree + 1)", "np.arange(degree)")),
    edit("polynomial_features", "decreasing powers (np.vander's default order) instead of x^0, x^1, ...",
         ("return x[:, None] ** np.arange(degree + 1)", "return np.vander(x, degree + 1)")),
    edit("polynomial_features", "multiplies by j instead of raising to the power j",
         ("x[:, None] ** np.arange(degree + 1)", "x[:, None] * np.arange(degree + 1)")),
    edit("polynomial_features", "transposed: one row per power instead of one row per sample",
         ("x[:, None] ** np.arange(degree + 1)", "x[None, :] ** np.arange(degree + 1)[:, None]")),
    edit("polynomial_features", "builds the powers by multiplying x into itself in place (col = x; col *= x), "
         "which changes x",
         ("    return x[:, None] ** np.arange(degree + 1)",
          "    Phi = np.ones((len(x), degree + 1))\n"
          "    col = x\n"
          "    for j in range(1, degree + 1):\n"
          "        Phi[:, j] = col\n"
          "        col *= x\n"
          "    return Phi"), kind="inplace"),
    edit("polynomial_features", "computes x^j as exp(j log x): NaN for negative x and for x = 0",
         ("return x[:, None] ** np.arange(degree + 1)",
          "return np.exp(np.arange(degree + 1) * np.log(x[:, None]))"), kind="edge"),
    edit("polynomial_features", "computes in float32 (float32 inputs and powers) instead of float64",
         ("x = np.asarray(x, dtype=float)", "x = np.asarray(x, dtype=np.float32)"),
         ("np.arange(degree + 1)", "np.arange(degree + 1, dtype=np.float32)"), kind="dtype"),
]

MSE = [
    edit("mse", "sum of squares instead of the mean",
         ("float(np.mean(diff**2))", "float(np.sum(diff**2))")),
    edit("mse", "root mean squared error (an extra square root)",
         ("float(np.mean(diff**2))", "float(np.sqrt(np.mean(diff**2)))")),
    edit("mse", "mean absolute error instead of the mean squared error",
         ("float(np.mean(diff**2))", "float(np.mean(np.abs(diff)))")),
    edit("mse", "squares the mean error instead of averaging the squared errors",
         ("float(np.mean(diff**2))", "float(np.mean(diff) ** 2)")),
    edit("mse", "averages over the first axis only (an array for inputs with several axes)",
         ("return float(np.mean(diff**2))", "return np.mean(diff**2, axis=0)")),
    edit("mse", "subtracts in place (diff = y_true; diff -= y_pred), which changes y_true",
         ("    diff = np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)",
          "    diff = np.asarray(y_true, dtype=float)\n"
          "    diff -= np.asarray(y_pred, dtype=float)"), kind="inplace"),
    edit("mse", "computes in float32, which keeps only about 7 significant digits",
         ("np.asarray(y_true, dtype=float) - np.asarray(y_pred, dtype=float)",
          "np.asarray(y_true, dtype=np.float32) - np.asarray(y_pred, dtype=np.float32)"), kind="dtype"),
]

FIT_RIDGE = [
    edit("fit_ridge", "adds lam to every entry of X^T X instead of only to its diagonal",
         ("X.T @ X + lam * np.eye(d)", "X.T @ X + lam")),
    edit("fit_ridge", "leaves the first weight (the bias) unpenalised, against the course's convention",
         ("return np.linalg.solve(X.T @ X + lam * np.eye(d), X.T @ y)",
          "penalty = lam * np.eye(d)\n"
          "    penalty[0, 0] = 0.0\n"
          "    return np.linalg.solve(X.T @ X + penalty, X.T @ y)")),
    edit("fit_ridge", "scales the penalty by the number of samples (lam * n)",
         ("lam * np.eye(d)", "lam * len(y) * np.eye(d)")),
    edit("fit_ridge", "shrinks the least-squares weights by 1 / (1 + lam) instead of solving the ridge system",
         ("np.linalg.solve(X.T @ X + lam * np.eye(d), X.T @ y)",
          "np.linalg.solve(X.T @ X, X.T @ y) / (1.0 + lam)")),
    edit("fit_ridge", "puts lam / 2 on the diagonal (mixes the 1/2 ||Xw - y||^2 and ||Xw - y||^2 conventions)",
         ("lam * np.eye(d)", "lam / 2 * np.eye(d)")),
    edit("fit_ridge", "ignores lam: adds the identity matrix itself (as if lam were always 1)",
         ("lam * np.eye(d)", "np.eye(d)"), kind="ignored"),
    edit("fit_ridge", "rescales the columns of X in place (X /= norms), which changes the caller's X",
         ("    d = X.shape[1]\n",
          "    d = X.shape[1]\n"
          "    X /= np.linalg.norm(X, axis=0)\n"), kind="inplace"),
    edit("fit_ridge", "computes in float32 instead of float64",
         ("X = np.asarray(X, dtype=float)", "X = np.asarray(X, dtype=np.float32)"),
         ("y = np.asarray(y, dtype=float)", "y = np.asarray(y, dtype=np.float32)"),
         ("lam * np.eye(d)", "np.float32(lam) * np.eye(d, dtype=np.float32)"), kind="dtype"),
]

KFOLD_INDICES = [
    edit("kfold_indices", "drops the remainder: the last n % k samples are never validated",
         ("    sizes[: n % k] += 1\n", ""), kind="edge"),
    edit("kfold_indices", "puts the whole remainder n % k into the last fold",
         ("sizes[: n % k] += 1", "sizes[-1] += n % k"), kind="edge"),
    edit("kfold_indices", "the larger folds come last instead of first",
         ("sizes[: n % k] += 1", "sizes[k - n % k:] += 1"), kind="edge"),
    edit("kfold_indices", "interleaved folds (every k-th index) instead of contiguous blocks",
         ("        val_idx = np.arange(start, start + size)\n"
          "        train_idx = np.concatenate([np.arange(0, start), np.arange(start + size, n)])",
          "        val_idx = np.arange(len(folds), n, k)\n"
          "        train_idx = np.setdiff1d(np.arange(n), val_idx)")),
    edit("kfold_indices", "the training indices include the validation fold (uses all indices)",
         ("np.concatenate([np.arange(0, start), np.arange(start + size, n)])", "np.arange(n)")),
    edit("kfold_indices", "returns float index arrays (fold sizes kept as floats)",
         ("np.full(k, n // k, dtype=int)", "np.full(k, n // k, dtype=float)"), kind="dtype"),
]

CROSS_VAL_MSE = [
    edit("cross_val_mse", "evaluates on the training folds instead of the held-out fold",
         ("errors.append(mse(y[val_idx], X[val_idx] @ w))",
          "errors.append(mse(y[train_idx], X[train_idx] @ w))")),
    edit("cross_val_mse", "fits on all data, so the validation fold leaks into training",
         ("w = fit(X[train_idx], y[train_idx])", "w = fit(X, y)")),
    edit("cross_val_mse", "pools all squared errors (weights the folds by their size) instead of "
         "averaging the k fold errors",
         ("errors.append(mse(y[val_idx], X[val_idx] @ w))",
          "errors.extend((y[val_idx] - X[val_idx] @ w) ** 2)")),
    edit("cross_val_mse", "sums the fold errors instead of averaging them",
         ("return float(np.mean(errors))", "return float(np.sum(errors))")),
    edit("cross_val_mse", "off by one: skips the last fold",
         ("kfold_indices(len(y), k):", "kfold_indices(len(y), k)[:-1]:"), kind="edge"),
    edit("cross_val_mse", "ignores the fit argument and always fits least squares",
         ("w = fit(X[train_idx], y[train_idx])", "w = fit_least_squares(X[train_idx], y[train_idx])"),
         kind="ignored"),
    edit("cross_val_mse", "ignores k and always uses 5 folds",
         ("kfold_indices(len(y), k)", "kfold_indices(len(y), 5)"), kind="ignored"),
    edit("cross_val_mse", "centres X and y in place before splitting, which changes the caller's arrays",
         ("    errors = []\n",
          "    X -= X.mean(axis=0)\n"
          "    y -= y.mean()\n"
          "    errors = []\n"), kind="inplace"),
]

RANDOM_SEARCH = [
    edit("random_search", "seeds and draws from numpy's global generator (np.random.seed, np.random.uniform) "
         "instead of using rng",
         ("    thetas = rng.uniform(low, high,", "    np.random.seed(0)\n    thetas = np.random.uniform(low, high,"),
         kind="rng"),
    edit("random_search", "makes a generator of its own with a fixed seed instead of using rng",
         ("thetas = rng.uniform(", "thetas = np.random.default_rng(0).uniform("), kind="rng"),
    edit("random_search", "ignores low and high: draws every coordinate from [0, 1)",
         ("rng.uniform(low, high, size=(n_trials, low.shape[0]))",
          "rng.uniform(size=(n_trials, low.shape[0]))"), kind="ignored"),
    edit("random_search", "computes the box width in place (high -= low), which changes the caller's high",
         ("    thetas = rng.uniform(low, high, size=(n_trials, low.shape[0]))",
          "    high -= low\n"
          "    thetas = low + high * rng.random((n_trials, low.shape[0]))"), kind="inplace"),
    edit("random_search", "one random number per trial for all coordinates: the trials lie on the box's diagonal",
         ("rng.uniform(low, high, size=(n_trials, low.shape[0]))",
          "low + (high - low) * rng.random((n_trials, 1))")),
    edit("random_search", "returns the index of the largest value instead of the smallest",
         ("best = int(np.argmin(values))", "best = int(np.argmax(values))")),
    edit("random_search", "keeps the last of several tied best trials (<= instead of <)",
         ("    best = int(np.argmin(values))",
          "    best = 0\n"
          "    for t in range(n_trials):\n"
          "        if values[t] <= values[best]:\n"
          "            best = t"), kind="edge"),
]

BIAS_VARIANCE = [
    edit("bias_variance", "bias with the sign flipped (true value minus mean estimate)",
         ("bias = mean - true_value", "bias = true_value - mean")),
    edit("bias_variance", "variance divided by S - 1 instead of S",
         ("variance = np.mean((estimates - mean) ** 2)",
          "variance = np.sum((estimates - mean) ** 2) / (len(estimates) - 1)")),
    edit("bias_variance", "returns the standard deviation instead of the variance",
         ("variance = np.mean((estimates - mean) ** 2)", "variance = np.std(estimates)")),
    edit("bias_variance", "spread around the true value (that is the MSE) instead of around the mean estimate",
         ("np.mean((estimates - mean) ** 2)", "np.mean((estimates - true_value) ** 2)")),
    edit("bias_variance", "applies the estimator once to all data sets stacked together",
         ("estimates = np.array([float(estimator(data)) for data in datasets])",
          "estimates = np.atleast_1d(np.asarray(estimator(np.asarray(datasets)), dtype=float))")),
    edit("bias_variance", "ignores the estimator and averages each data set instead",
         ("float(estimator(data))", "float(np.mean(data))"), kind="ignored"),
]

GAUSSIAN_MLE = [
    edit("gaussian_mle", "unbiased 1/(N-1) variance instead of the maximum-likelihood 1/N",
         ("var = np.mean((x - mu) ** 2)", "var = np.sum((x - mu) ** 2) / (len(x) - 1)")),
    edit("gaussian_mle", "returns the standard deviation instead of the variance",
         ("var = np.mean((x - mu) ** 2)", "var = np.sqrt(np.mean((x - mu) ** 2))")),
    edit("gaussian_mle", "forgets to subtract the mean: returns the mean of x^2",
         ("var = np.mean((x - mu) ** 2)", "var = np.mean(x**2)")),
    edit("gaussian_mle", "the median instead of the mean",
         ("mu = x.mean()", "mu = np.median(x)")),
    edit("gaussian_mle", "one-pass formula mean(x^2) - mu^2, which cancels catastrophically for large |mu|",
         ("var = np.mean((x - mu) ** 2)", "var = np.mean(x**2) - mu**2"), kind="edge"),
    edit("gaussian_mle", "centres x in place (x -= mu), which changes the caller's array",
         ("    var = np.mean((x - mu) ** 2)", "    x -= mu\n    var = np.mean(x**2)"), kind="inplace"),
    edit("gaussian_mle", "computes in float32 instead of float64",
         ("x = np.asarray(x, dtype=float)", "x = np.asarray(x, dtype=np.float32)"), kind="dtype"),
]

CROSS_ENTROPY = [
    edit("cross_entropy", "swaps the arguments: computes H(q, p) instead of H(p, q)",
         ("np.log(np.where(p > 0, q, 1.0))", "np.log(np.where(q > 0, p, 1.0))"),
         ("-np.sum(p * log_q, axis=-1)", "-np.sum(q * log_q, axis=-1)")),
    edit("cross_entropy", "forgets the minus sign (a negative cross-entropy)",
         ("return -np.sum(p * log_q, axis=-1)", "return np.sum(p * log_q, axis=-1)")),
    edit("cross_entropy", "log base 2 (bits) instead of the natural log (nats)",
         ("log_q = np.log(", "log_q = np.log2(")),
    edit("cross_entropy", "averages over the K outcomes instead of summing",
         ("-np.sum(p * log_q, axis=-1)", "-np.mean(p * log_q, axis=-1)")),
    edit("cross_entropy", "sums over every entry of a batch (one number) instead of over the last axis",
         ("-np.sum(p * log_q, axis=-1)", "-np.sum(p * log_q)")),
    edit("cross_entropy", "sums over axis 0 (scipy's default) instead of the last axis",
         ("-np.sum(p * log_q, axis=-1)", "-np.sum(p * log_q, axis=0)")),
    edit("cross_entropy", "no 0 log 0 = 0 convention: an outcome with p = 0 and q = 0 gives NaN",
         ("np.log(np.where(p > 0, q, 1.0))", "np.log(q)"), kind="edge"),
    edit("cross_entropy", "adds a small epsilon inside the log, so q = 0 where p > 0 gives about 27.6 "
         "instead of infinity",
         ("np.log(np.where(p > 0, q, 1.0))", "np.log(np.where(p > 0, q, 1.0) + 1e-12)"), kind="edge"),
    edit("cross_entropy", "replaces zeros of q in place (q[q == 0] = 1e-12), which changes the caller's q",
         ("    q = np.asarray(q, dtype=float)\n",
          "    q = np.asarray(q, dtype=float)\n"
          "    q[q == 0] = 1e-12\n"), kind="inplace"),
    edit("cross_entropy", "computes in float32 instead of float64",
         ("p = np.asarray(p, dtype=float)", "p = np.asarray(p, dtype=np.float32)"),
         ("q = np.asarray(q, dtype=float)", "q = np.asarray(q, dtype=np.float32)"), kind="dtype"),
]

KL_DIVERGENCE = [
    edit("kl_divergence", "swaps the arguments: computes KL(q || p) instead of KL(p || q)",
         ("support = p > 0", "support = q > 0"),
         ("np.log(np.where(support, p, 1.0)) - np.log(np.where(support, q, 1.0))",
          "np.log(np.where(support, q, 1.0)) - np.log(np.where(support, p, 1.0))"),
         ("np.sum(p * log_ratio, axis=-1)", "np.sum(q * log_ratio, axis=-1)")),
    edit("kl_divergence", "log(q / p) instead of log(p / q) (the sign is flipped)",
         ("return np.sum(p * log_ratio, axis=-1)", "return -np.sum(p * log_ratio, axis=-1)")),
    edit("kl_divergence", "log base 2 (bits) instead of the natural log (nats)",
         ("np.log(np.where(support, p, 1.0)) - np.log(np.where(support, q, 1.0))",
          "np.log2(np.where(support, p, 1.0)) - np.log2(np.where(support, q, 1.0))")),
    edit("kl_divergence", "forgets to weight the log-ratios by p",
         ("np.sum(p * log_ratio, axis=-1)", "np.sum(log_ratio, axis=-1)")),
    edit("kl_divergence", "sums over axis 0 (scipy's default) instead of the last axis",
         ("np.sum(p * log_ratio, axis=-1)", "np.sum(p * log_ratio, axis=0)")),
    edit("kl_divergence", "no 0 log 0 = 0 convention: an outcome with p = 0 gives NaN",
         ("np.log(np.where(support, p, 1.0)) - np.log(np.where(support, q, 1.0))",
          "np.log(p) - np.log(q)"), kind="edge"),
    edit("kl_divergence", "adds a small epsilon inside the logs, so q = 0 where p > 0 gives a finite value "
         "instead of infinity",
         ("np.log(np.where(support, p, 1.0)) - np.log(np.where(support, q, 1.0))",
          "np.log(np.where(support, p, 1.0) + 1e-12) - np.log(np.where(support, q, 1.0) + 1e-12)"),
         kind="edge"),
    edit("kl_divergence", "replaces zeros of q in place (q[q == 0] = 1e-12), which changes the caller's q",
         ("    q = np.asarray(q, dtype=float)\n",
          "    q = np.asarray(q, dtype=float)\n"
          "    q[q == 0] = 1e-12\n"), kind="inplace"),
    edit("kl_divergence", "computes in float32 instead of float64",
         ("p = np.asarray(p, dtype=float)", "p = np.asarray(p, dtype=np.float32)"),
         ("q = np.asarray(q, dtype=float)", "q = np.asarray(q, dtype=np.float32)"), kind="dtype"),
]

MUTANTS = [
    *FIT_LEAST_SQUARES,
    *POLYNOMIAL_FEATURES,
    *MSE,
    *FIT_RIDGE,
    *KFOLD_INDICES,
    *CROSS_VAL_MSE,
    *RANDOM_SEARCH,
    *BIAS_VARIANCE,
    *GAUSSIAN_MLE,
    *CROSS_ENTROPY,
    *KL_DIVERGENCE,
]
