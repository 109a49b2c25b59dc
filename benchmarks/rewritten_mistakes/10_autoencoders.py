"""Known mistakes of 10_autoencoders, rewritten the way a student might: see benchmarks/diagnosis.py."""

VARIANTS = [
    {"cell": "pca_eig", "fails": "test_pca_eig",
     "mutant": "divides by N instead of N - 1: the explained variances come out a factor (N - 1) / N too small",
     "source": '''def pca_eig(X, k):
    mean = np.mean(X, axis=0)
    cov = np.cov(X, rowvar=False, bias=True)
    cov = np.atleast_2d(cov)
    eigvals, eigvecs = np.linalg.eigh(cov)
    eigvals = eigvals[::-1]
    eigvecs = eigvecs[:, ::-1]
    components = np.ascontiguousarray(eigvecs[:, :k].T)
    return components, eigvals[:k].copy(), mean
'''},
    {"cell": "reparameterize", "fails": "test_reparameterize",
     "mutant": "uses exp(log_var), the variance, as the standard deviation: sigma = exp(log_var / 2)",
     "source": '''def reparameterize(mu, log_var, rng):
    noise = rng.standard_normal(mu.shape)
    variance = np.exp(log_var)
    z = mu + noise * variance
    return z, {"noise": noise, "log_var": log_var}


def reparameterize_backward(dz, cache):
    noise, log_var = cache["noise"], cache["log_var"]
    dmu = np.array(dz, copy=True)
    dlog_var = 0.5 * dz * noise * np.exp(log_var)
    return dmu, dlog_var
'''},
    {"cell": "gaussian_kl", "fails": "test_gaussian_kl",
     "mutant": "forgets the -1 in the KL: it must be 0 when q is the prior",
     "source": '''def gaussian_kl(mu, log_var):
    N, K = mu.shape
    total = 0.0
    for n in range(N):
        total += 0.5 * (np.dot(mu[n], mu[n]) + np.exp(log_var[n]).sum() - log_var[n].sum())
    kl = total / N
    dmu = mu / N
    dlog_var = (np.exp(log_var) - 1.0) / (2.0 * N)
    return float(kl), dmu, dlog_var
'''},
    {"cell": "negative_elbo", "fails": "test_negative_elbo",
     "mutant": "averages the binary cross-entropy over the pixels: log p(x | z) is a sum over them",
     "source": '''from dllib.ch07_rnn import sigmoid


def negative_elbo(x, logits, mu, log_var, beta=1.0):
    N, D = x.shape
    # BCE with logits: log(1 + e^l) - x l
    recon = np.mean(np.logaddexp(0.0, logits) - x * logits)
    kl, dmu, dlog_var = gaussian_kl(mu, log_var)
    loss = recon + beta * kl
    p = 0.5 * (1.0 + np.tanh(0.5 * logits))
    dlogits = (p - x) / (N * D)
    return float(loss), dlogits, dmu * beta, dlog_var * beta
'''},
]

FIXES = {0: ("bias=True", "bias=False"),
         1: [("z = mu + noise * variance", "z = mu + noise * np.sqrt(variance)"),
             ("dlog_var = 0.5 * dz * noise * np.exp(log_var)", "dlog_var = 0.5 * dz * noise * np.exp(0.5 * log_var)")],
         2: ("- log_var[n].sum())", "- log_var[n].sum() - K)"),
         3: [("recon = np.mean(np.logaddexp(0.0, logits) - x * logits)",
              "recon = np.sum(np.logaddexp(0.0, logits) - x * logits) / N"),
             ("dlogits = (p - x) / (N * D)", "dlogits = (p - x) / N")]}
