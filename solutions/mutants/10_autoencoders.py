"""Plausible wrong solutions for chapter 10; each must make its tests cell fail.

Every mutant is the chapter's own solution cell with one realistic mistake edited in (each
replaced text must occur exactly once, so a changed reference is noticed). ``why`` is shown to
a student whose results match the mutant's. The first mutant is used as "the student with one
mistake", so it breaks its own tests cell only: no later tests cell uses ``pca_eig``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import Mutant, editor

edit = editor(Path(__file__).resolve().parents[1] / "10_autoencoders.py")

PCA_EIG = [
    edit("pca_eig", "the data are not centred: X.T @ X is not the covariance unless the mean is 0",
         ("    Xc = X - mean\n", "    Xc = X\n")),
    edit("pca_eig", "divides by N instead of N - 1: the explained variances come out a factor (N - 1) / N too small",
         ("cov = Xc.T @ Xc / (len(X) - 1)", "cov = Xc.T @ Xc / len(X)")),
    edit("pca_eig", "keeps eigh's ascending order: the first components must have the largest eigenvalues",
         ("order = np.argsort(values)[::-1][:k]", "order = np.argsort(values)[:k]"), kind="order"),
    edit("pca_eig", "takes the rows of eigh's eigenvector matrix: the eigenvectors are its columns",
         ("return vectors[:, order].T, values[order], mean", "return vectors[order], values[order], mean"),
         kind="order"),
    edit("pca_eig", "centres by the mean of all entries instead of each feature's (column's) mean",
         ("mean = X.mean(axis=0)", "mean = np.full(X.shape[1], X.mean())")),
]

PCA_SVD = [
    edit("pca_svd", "takes the SVD of X without centring it", ("np.linalg.svd(X - mean, full_matrices=False)",
                                                               "np.linalg.svd(X, full_matrices=False)")),
    edit("pca_svd", "uses the columns of U: they live in the space of the examples; the components are the rows "
         "of Vt", ("    _, S, Vt = np.linalg", "    U, S, Vt = np.linalg"),
         ("return Vt[:k], S[:k]", "return U[:, :k].T, S[:k]"), kind="order"),
    edit("pca_svd", "takes the columns of Vt instead of its rows (Vt is V transposed already)",
         ("return Vt[:k], S[:k]", "return Vt[:, :k].T, S[:k]"), kind="order"),
    edit("pca_svd", "uses the singular values as variances: the variance along v_i is s_i ** 2 / (N - 1)",
         ("S[:k] ** 2 / (len(X) - 1)", "S[:k] / (len(X) - 1)")),
    edit("pca_svd", "divides s_i ** 2 by N instead of N - 1",
         ("S[:k] ** 2 / (len(X) - 1)", "S[:k] ** 2 / len(X)")),
]

PCA_PROJECT = [
    # pca_transform
    edit("pca_project", "pca_transform does not subtract the mean", ("return (X - mean) @ components.T\n",
                                                                     "return X @ components.T\n")),
    edit("pca_project", "pca_transform centres by the batch's own mean instead of the given one (the mean of the "
         "data PCA was fitted on)", ("return (X - mean) @ components.T\n", "return (X - X.mean(axis=0)) @ components.T\n"),
         kind="ignored"),
    edit("pca_project", "pca_transform returns the codes as columns (k, N): one code per row of X, (N, k)",
         ("return (X - mean) @ components.T\n", "return components @ (X - mean).T\n"), kind="order"),
    # pca_reconstruct
    edit("pca_project", "pca_reconstruct does not add the mean back", ("return mean + (X - mean) @ components.T @ components",
                                                                       "return (X - mean) @ components.T @ components")),
    edit("pca_project", "pca_reconstruct projects X without centring it: the subspace passes through the mean, "
         "not the origin", ("return mean + (X - mean) @ components.T @ components",
                            "return mean + X @ components.T @ components")),
    edit("pca_project", "pca_reconstruct centres by the batch's own mean instead of the given one",
         ("return mean + (X - mean) @ components.T @ components",
          "return X.mean(axis=0) + (X - X.mean(axis=0)) @ components.T @ components"), kind="ignored"),
]

AUTOENCODER = [
    edit("autoencoder", "ae_encode forgets the hidden ReLU",
         ("h, _ = relu_forward(affine_forward(x, params[\"W1\"], params[\"b1\"])[0])",
          "h = affine_forward(x, params[\"W1\"], params[\"b1\"])[0]")),
    edit("autoencoder", "ae_encode forgets the code layer's bias b2",
         ("    return affine_forward(h, params[\"W2\"], params[\"b2\"])[0]\n", "    return h @ params[\"W2\"]\n"),
         kind="ignored"),
    edit("autoencoder", "ae_decode puts a sigmoid on the output: the output layer is linear",
         ("    return affine_forward(h, params[\"W4\"], params[\"b4\"])[0]\n",
          "    return 1.0 / (1.0 + np.exp(-affine_forward(h, params[\"W4\"], params[\"b4\"])[0]))\n")),
    edit("autoencoder", "ae_decode puts a ReLU on the output: the output layer is linear",
         ("    return affine_forward(h, params[\"W4\"], params[\"b4\"])[0]\n",
          "    return np.maximum(affine_forward(h, params[\"W4\"], params[\"b4\"])[0], 0.0)\n")),
    edit("autoencoder", "the loss sums over the features and averages over the batch only: F.mse_loss averages "
         "over all N * D entries", ("loss = float(np.mean(diff**2))", "loss = float(np.sum(diff**2) / len(diff))"),
         ("affine_backward(2.0 * diff / diff.size, c4)", "affine_backward(2.0 * diff / len(diff), c4)")),
    edit("autoencoder", "forgets the factor 2 of d(diff ** 2)/d(diff) in the gradient",
         ("affine_backward(2.0 * diff / diff.size, c4)", "affine_backward(diff / diff.size, c4)")),
    edit("autoencoder", "skips the decoder's ReLU in the backward pass",
         ("affine_backward(relu_backward(dh3, r3), c3)", "affine_backward(dh3, c3)"), kind="graph"),
    edit("autoencoder", "ae_encode puts a ReLU on the code: the code layer is linear",
         ("    return affine_forward(h, params[\"W2\"], params[\"b2\"])[0]\n",
          "    return np.maximum(affine_forward(h, params[\"W2\"], params[\"b2\"])[0], 0.0)\n")),
    edit("autoencoder", "ae_decode forgets the hidden ReLU",
         ("h, _ = relu_forward(affine_forward(z, params[\"W3\"], params[\"b3\"])[0])",
          "h = affine_forward(z, params[\"W3\"], params[\"b3\"])[0]")),
    edit("autoencoder", "compares the output with the input x instead of the target argument",
         ("diff = x_hat - target", "diff = x_hat - x"), kind="ignored"),
]

AUTOENCODER_STEP = [
    edit("autoencoder_step", "the denoising target is the noisy input: it must be the clean x",
         ("loss, grads = autoencoder_loss(params, inputs, x)", "loss, grads = autoencoder_loss(params, inputs, inputs)")),
    edit("autoencoder_step", "draws the noise from numpy's global generator instead of rng",
         ("inputs = x + noise_std * rng.standard_normal(x.shape)",
          "inputs = x + noise_std * np.random.standard_normal(x.shape)"), kind="rng"),
    edit("autoencoder_step", "ignores noise_std: the input is never corrupted",
         ("    inputs = x + noise_std * rng.standard_normal(x.shape) if noise_std > 0 else x\n", "    inputs = x\n"),
         kind="ignored"),
    edit("autoencoder_step", "adds standard normal noise whatever noise_std is",
         ("inputs = x + noise_std * rng.standard_normal(x.shape)", "inputs = x + rng.standard_normal(x.shape)"), kind="ignored"),
    edit("autoencoder_step", "never calls optimizer.step(grads): the parameters do not change",
         ("    optimizer.step(grads)\n", ""), kind="graph"),
]

REPARAMETERIZE = [
    edit("reparameterize", "uses exp(log_var), the variance, as the standard deviation: sigma = exp(log_var / 2)",
         ("std = np.exp(0.5 * log_var)", "std = np.exp(log_var)")),
    edit("reparameterize", "draws eps from numpy's global generator instead of rng",
         ("eps = rng.standard_normal(mu.shape)", "eps = np.random.standard_normal(mu.shape)"), kind="rng"),
    edit("reparameterize", "draws one eps per code dimension and shares it across the batch: every example needs its own",
         ("eps = rng.standard_normal(mu.shape)", "eps = np.broadcast_to(rng.standard_normal(mu.shape[1:]), mu.shape)"),
         kind="edge"),
    edit("reparameterize", "forgets the 1/2 of d exp(log_var / 2) / d log_var in the backward pass",
         ("dz * eps * std * 0.5", "dz * eps * std"), kind="graph"),
    edit("reparameterize", "dmu scaled by sigma: z = mu + ..., so dz/dmu = 1",
         ("return dz.copy(), dz * eps * std * 0.5", "return dz * std, dz * eps * std * 0.5"), kind="graph"),
    edit("reparameterize", "dlog_var with the variance instead of sigma: d exp(log_var / 2) / d log_var = sigma / 2",
         ("dz * eps * std * 0.5", "dz * eps * std**2 * 0.5"), kind="graph"),
    edit("reparameterize", "dlog_var without eps: z depends on log_var through sigma * eps",
         ("dz * eps * std * 0.5", "dz * std * 0.5"), kind="graph"),
]

GAUSSIAN_KL = [
    edit("gaussian_kl", "forgets the -1 in the KL: it must be 0 when q is the prior",
         ("mu**2 + var - 1.0 - log_var", "mu**2 + var - log_var")),
    edit("gaussian_kl", "sums the KL over the batch instead of averaging it",
         ("kl = float(0.5 * np.sum(mu**2 + var - 1.0 - log_var) / N)",
          "kl = float(0.5 * np.sum(mu**2 + var - 1.0 - log_var))"),
         ("return kl, mu / N, 0.5 * (var - 1.0) / N", "return kl, mu, 0.5 * (var - 1.0)")),
    edit("gaussian_kl", "averages over all N * K entries: the KL of an example is a sum over its code dimensions",
         ("kl = float(0.5 * np.sum(mu**2 + var - 1.0 - log_var) / N)",
          "kl = float(0.5 * np.sum(mu**2 + var - 1.0 - log_var) / mu.size)"),
         ("return kl, mu / N, 0.5 * (var - 1.0) / N", "return kl, mu / mu.size, 0.5 * (var - 1.0) / mu.size")),
    edit("gaussian_kl", "dlog_var forgets the 1/2", ("0.5 * (var - 1.0) / N", "(var - 1.0) / N"), kind="graph"),
    edit("gaussian_kl", "treats log_var as the log of the standard deviation (var = exp(2 log_var))",
         ("var = np.exp(log_var)", "var = np.exp(2.0 * log_var)")),
]

NEGATIVE_ELBO = [
    edit("negative_elbo", "averages the binary cross-entropy over the pixels: log p(x | z) is a sum over them",
         ("loss = float(bce.sum() / N + beta * kl)", "loss = float(bce.mean() + beta * kl)"),
         ("(sigmoid(logits) - x) / N", "(sigmoid(logits) - x) / x.size")),
    edit("negative_elbo", "computes the BCE as -x log(sigmoid) - (1 - x) log(1 - sigmoid): log(0) = -inf for large "
         "logits; use max(l, 0) - l x + log(1 + exp(-|l|))",
         ("bce = np.maximum(logits, 0.0) - logits * x + np.log1p(np.exp(-np.abs(logits)))",
          "bce = -(x * np.log(sigmoid(logits)) + (1 - x) * np.log(1 - sigmoid(logits)))"), kind="edge"),
    edit("negative_elbo", "ignores beta", ("loss = float(bce.sum() / N + beta * kl)", "loss = float(bce.sum() / N + kl)"),
         ("beta * dmu, beta * dlog_var", "dmu, dlog_var"), kind="ignored"),
    edit("negative_elbo", "dlogits with the wrong sign: d BCE / d logit = sigmoid(logit) - x",
         ("(sigmoid(logits) - x) / N", "(x - sigmoid(logits)) / N")),
    edit("negative_elbo", "subtracts the KL: the ELBO subtracts it, so the negative ELBO adds it",
         ("loss = float(bce.sum() / N + beta * kl)", "loss = float(bce.sum() / N - beta * kl)"),
         ("beta * dmu, beta * dlog_var", "-beta * dmu, -beta * dlog_var")),
]

VAE_LOSS = [
    edit("vae_loss", "mu's gradient only from the KL term: the gradient through z must be added to it",
         ("affine_backward(dmu + dmu_z, c_mu)", "affine_backward(dmu, c_mu)"), kind="graph"),
    edit("vae_loss", "only the mu head's gradient reaches the hidden layer: the log_var head's must be added",
         ("relu_backward(dh_mu + dh_lv, r1)", "relu_backward(dh_mu, r1)"), kind="graph"),
    edit("vae_loss", "decodes mu instead of the sampled z", ("a3, c3 = affine_forward(z, params[\"W3\"], params[\"b3\"])",
                                                            "a3, c3 = affine_forward(mu, params[\"W3\"], params[\"b3\"])"),
         kind="ignored"),
    edit("vae_loss", "the log_var head uses W_mu and b_mu",
         ("affine_forward(h, params[\"W_lv\"], params[\"b_lv\"])", "affine_forward(h, params[\"W_mu\"], params[\"b_mu\"])"),
         kind="ignored"),
    edit("vae_loss", "does not pass beta to negative_elbo", ("negative_elbo(x, logits, mu, log_var, beta)",
                                                            "negative_elbo(x, logits, mu, log_var)"), kind="ignored"),
]

MUTANTS: list[Mutant] = [*PCA_EIG, *PCA_SVD, *PCA_PROJECT, *AUTOENCODER, *AUTOENCODER_STEP, *REPARAMETERIZE,
                         *GAUSSIAN_KL, *NEGATIVE_ELBO, *VAE_LOSS]
