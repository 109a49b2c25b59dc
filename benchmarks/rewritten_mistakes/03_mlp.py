"""Known mistakes of 03_mlp, rewritten the way a student might: see benchmarks/diagnosis.py."""

VARIANTS = [
    {"cell": "hinge", "fails": "test_hinge",
     "mutant": "no gradient for the correct class (it should get minus the number of violating classes)",
     "source": '''def multiclass_hinge_loss(scores, y, margin=1.0):
    N, C = scores.shape
    loss = 0.0
    dscores = np.zeros((N, C))
    for i in range(N):
        correct = scores[i, y[i]]
        for c in range(C):
            if c == y[i]:
                continue
            m = scores[i, c] - correct + margin
            if m > 0:
                loss += m
                dscores[i, c] += 1.0
    loss /= N
    dscores /= N
    return float(loss), dscores
'''},
    {"cell": "softmax_ce", "fails": "test_softmax_ce",
     "mutant": "gradient not divided by the batch size",
     "source": '''def softmax_cross_entropy_loss(scores, y):
    N, C = scores.shape
    z = scores - np.max(scores, axis=1)[:, None]
    logsumexp = np.log(np.sum(np.exp(z), axis=1))
    correct = z[np.arange(N), y]
    loss = np.mean(logsumexp - correct)
    probs = np.exp(z - logsumexp[:, None])
    onehot = np.eye(C)[y]
    dscores = probs - onehot
    return float(loss), dscores
'''},
    {"cell": "regression_losses", "fails": "test_regression_losses",
     "mutant": "MSE gradient without the factor 2",
     "source": '''def mse_loss(pred, y):
    residual = np.subtract(pred, y)
    count = residual.size
    loss = np.sum(residual * residual) / count
    grad = residual / count
    return float(loss), grad


def l1_loss(pred, y):
    residual = np.subtract(pred, y)
    count = residual.size
    loss = np.sum(np.abs(residual)) / count
    grad = np.where(residual > 0, 1.0, np.where(residual < 0, -1.0, 0.0)) / count
    return float(loss), grad
'''},
]

FIXES = {0: ("                dscores[i, c] += 1.0\n", "                dscores[i, c] += 1.0\n                dscores[i, y[i]] -= 1.0\n"),
         1: ("dscores = probs - onehot", "dscores = (probs - onehot) / N"),
         2: ("grad = residual / count\n", "grad = 2 * residual / count\n")}
