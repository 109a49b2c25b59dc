"""Plausible wrong solutions for chapter 11; each must make its tests cell fail.

Every mutant is the chapter's own solution cell with one realistic mistake edited in (each
replaced text must occur exactly once, so a changed reference is noticed). ``why`` is shown to
a student whose results match the mutant's. The first mutant is used as "the student with one
mistake", so it breaks its own tests cell only: no later tests cell uses ``optimal_discriminator``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import Mutant, editor

edit = editor(Path(__file__).resolve().parents[1] / "11_generative.py")

OPTIMAL = [
    edit("optimal_discriminator", "p_g / (p_data + p_g): that is the probability of fake, D* is the one of real",
         ("p_data / np.where(total > 0, total, 1.0)", "p_g / np.where(total > 0, total, 1.0)"), kind="order"),
    edit("optimal_discriminator", "divides 0 by 0 where both densities vanish (nan): D* is 1/2 there",
         ("return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)", "return p_data / total"),
         kind="edge"),
    edit("optimal_discriminator", "adds a small constant to the denominator: far in the tails both densities are "
         "smaller than it and D* comes out wrong",
         ("total = p_data + p_g", "total = p_data + p_g + 1e-8"), kind="edge"),
    edit("optimal_discriminator", "sigmoid(p_data - p_g): the logit of D* is the difference of the log densities",
         ("return np.where(total > 0, p_data / np.where(total > 0, total, 1.0), 0.5)",
          "return 0.5 * (1 + np.tanh(0.5 * (p_data - p_g)))")),
]

LOSSES = [
    # discriminator_loss
    edit("gan_losses", "-log(sigmoid(x)) computed as written: exp overflows or log(0) for large logits (use "
         "np.logaddexp(0, -x))",
         ("loss = float(np.logaddexp(0.0, -real_logits).mean() + np.logaddexp(0.0, fake_logits).mean())",
          "loss = float(-np.log(1 / (1 + np.exp(-real_logits))).mean() - np.log(1 - 1 / (1 + np.exp(-fake_logits)))"
          ".mean())"), kind="edge"),
    edit("gan_losses", "the labels swapped: real samples must get label 1 (softplus(-r)) and fakes label 0",
         ("loss = float(np.logaddexp(0.0, -real_logits).mean() + np.logaddexp(0.0, fake_logits).mean())",
          "loss = float(np.logaddexp(0.0, real_logits).mean() + np.logaddexp(0.0, -fake_logits).mean())"),
         ("d_real = (0.5 * (1.0 + np.tanh(0.5 * real_logits)) - 1.0) / real_logits.size",
          "d_real = 0.5 * (1.0 + np.tanh(0.5 * real_logits)) / real_logits.size"),
         ("d_fake = 0.5 * (1.0 + np.tanh(0.5 * fake_logits)) / fake_logits.size",
          "d_fake = (0.5 * (1.0 + np.tanh(0.5 * fake_logits)) - 1.0) / fake_logits.size"), kind="order"),
    edit("gan_losses", "the real logits' gradient with the wrong sign: d softplus(-r)/dr = sigma(r) - 1",
         ("d_real = (0.5 * (1.0 + np.tanh(0.5 * real_logits)) - 1.0) / real_logits.size",
          "d_real = (1.0 - 0.5 * (1.0 + np.tanh(0.5 * real_logits))) / real_logits.size")),
    edit("gan_losses", "one mean over the real and the fake batch together: each batch is averaged on its own",
         ("loss = float(np.logaddexp(0.0, -real_logits).mean() + np.logaddexp(0.0, fake_logits).mean())",
          "loss = float((np.logaddexp(0.0, -real_logits).sum() + np.logaddexp(0.0, fake_logits).sum())"
          " / (real_logits.size + fake_logits.size))"),
         ("d_real = (0.5 * (1.0 + np.tanh(0.5 * real_logits)) - 1.0) / real_logits.size",
          "d_real = (0.5 * (1.0 + np.tanh(0.5 * real_logits)) - 1.0) / (real_logits.size + fake_logits.size)"),
         ("d_fake = 0.5 * (1.0 + np.tanh(0.5 * fake_logits)) / fake_logits.size",
          "d_fake = 0.5 * (1.0 + np.tanh(0.5 * fake_logits)) / (real_logits.size + fake_logits.size)"), kind="edge"),
    # generator_loss
    edit("gan_losses", "the minimax and the non-saturating losses swapped",
         ("if kind == \"minimax\":", "if kind != \"minimax\":"), kind="order"),
    edit("gan_losses", "the minimax loss with the wrong sign: the generator minimizes ln(1 - D) = -softplus(f)",
         ("return float(-np.logaddexp(0.0, fake_logits).mean()), -sig / m",
          "return float(np.logaddexp(0.0, fake_logits).mean()), sig / m")),
    edit("gan_losses", "ignores kind: always the non-saturating loss",
         ("if kind == \"minimax\":", "if False:"), kind="ignored"),
    edit("gan_losses", "the non-saturating gradient with the wrong sign: d softplus(-f)/df = sigma(f) - 1",
         ("return float(np.logaddexp(0.0, -fake_logits).mean()), (sig - 1.0) / m",
          "return float(np.logaddexp(0.0, -fake_logits).mean()), (1.0 - sig) / m")),
    edit("gan_losses", "the generator's gradient summed over the batch, not averaged like its loss",
         ("return float(np.logaddexp(0.0, -fake_logits).mean()), (sig - 1.0) / m",
          "return float(np.logaddexp(0.0, -fake_logits).mean()), sig - 1.0"),
         ("return float(-np.logaddexp(0.0, fake_logits).mean()), -sig / m",
          "return float(-np.logaddexp(0.0, fake_logits).mean()), -sig")),
]

GAN_STEP = [
    edit("gan_train_step", "the generator's step uses D's logits from before D's update: it must go through the "
         "updated discriminator",
         ("    fake_logits, fake_caches = mlp_forward(d_params, fake)      # through the updated D\n", ""),
         kind="order"),
    edit("gan_train_step", "ignores kind: the generator's loss is always the non-saturating one",
         ("g_loss, g_fake = generator_loss(fake_logits[:, 0], kind)",
          "g_loss, g_fake = generator_loss(fake_logits[:, 0])"), kind="ignored"),
    edit("gan_train_step", "D learns from the real batch only: the fakes' gradients must be added",
         ("opt_d.step({k: grads_real[k] + grads_fake[k] for k in grads_real})", "opt_d.step(grads_real)"),
         kind="graph"),
    edit("gan_train_step", "the generator's gradients also change D (the fakes' gradients are not kept from D)",
         ("    dfake, _ = mlp_backward(g_fake[:, None], fake_caches)\n",
          "    dfake, d_from_g = mlp_backward(g_fake[:, None], fake_caches)\n    opt_d.step(d_from_g)\n"),
         kind="graph"),
    edit("gan_train_step", "ignores lr: the default SGD must use the given learning rate",
         ("(SGD(d_params, lr), SGD(g_params, lr))", "(SGD(d_params, 0.05), SGD(g_params, 0.05))"), kind="ignored"),
]

SCHEDULES = [
    # linear_schedule
    edit("schedules", "T + 1 evenly spaced betas with the first dropped: beta_start must be the first beta",
         ("betas = np.linspace(beta_start, beta_end, T, dtype=np.float64)",
          "betas = np.linspace(beta_start, beta_end, T + 1, dtype=np.float64)[1:]"), kind="edge"),
    edit("schedules", "alpha_bars as a cumulative sum instead of a cumulative product",
         ("    alphas = 1.0 - betas\n    return betas, alphas, np.cumprod(alphas)\n    ### END SOLUTION\n\n\ndef cosine",
          "    alphas = 1.0 - betas\n    return betas, alphas, np.cumsum(alphas)\n    ### END SOLUTION\n\n\ndef cosine")),
    edit("schedules", "alpha_bars = alphas: alpha_bar_t is the product of all alphas up to t",
         ("    alphas = 1.0 - betas\n    return betas, alphas, np.cumprod(alphas)\n    ### END SOLUTION\n\n\ndef cosine",
          "    alphas = 1.0 - betas\n    return betas, alphas, alphas.copy()\n    ### END SOLUTION\n\n\ndef cosine")),
    edit("schedules", "ignores beta_end: always 0.02",
         ("betas = np.linspace(beta_start, beta_end, T, dtype=np.float64)",
          "betas = np.linspace(beta_start, 0.02, T, dtype=np.float64)"), kind="ignored"),
    # cosine_schedule
    edit("schedules", "no clip at max_beta: the last beta is 1 and every alpha_bar after it 0",
         ("betas = np.minimum(1.0 - f[1:] / f[:-1], max_beta)", "betas = 1.0 - f[1:] / f[:-1]"), kind="ignored"),
    edit("schedules", "forgets the offset s in f",
         ("f = np.cos((np.arange(T + 1) / T + s) / (1.0 + s) * np.pi / 2) ** 2",
          "f = np.cos(np.arange(T + 1) / T * np.pi / 2) ** 2"), kind="ignored"),
    edit("schedules", "alpha_bars taken as f((t + 1) / T) itself: not divided by f(0) and without the clip",
         ("max_beta)\n    alphas = 1.0 - betas\n    return betas, alphas, np.cumprod(alphas)",
          "max_beta)\n    alphas = 1.0 - betas\n    return betas, alphas, f[1:]")),
    edit("schedules", "the betas one step late: beta_t = 1 - f((t + 2) / T) / f((t + 1) / T) (and 0 appended)",
         ("betas = np.minimum(1.0 - f[1:] / f[:-1], max_beta)",
          "betas = np.minimum(np.append(1.0 - f[2:] / f[1:-1], 0.0), max_beta)"), kind="edge"),
]

Q_SAMPLE = [
    edit("q_sample", "alpha_bar instead of sqrt(alpha_bar) (and 1 - alpha_bar for the noise): those are variances, "
         "the coefficients are their square roots",
         ("return np.sqrt(ab) * x0 + np.sqrt(1.0 - ab) * eps, eps", "return ab * x0 + (1.0 - ab) * eps, eps")),
    edit("q_sample", "the noise drawn from numpy's global generator instead of rng",
         ("eps = rng.standard_normal(x0.shape)\n", "eps = np.random.standard_normal(x0.shape)\n"), kind="rng"),
    edit("q_sample", "off by one: uses alpha_bars[t - 1]", ("ab = np.asarray(alpha_bars)[t]",
                                                            "ab = np.asarray(alpha_bars)[np.asarray(t) - 1]"),
         kind="edge"),
    edit("q_sample", "the noise's coefficient 1 - sqrt(alpha_bar) instead of sqrt(1 - alpha_bar)",
         ("return np.sqrt(ab) * x0 + np.sqrt(1.0 - ab) * eps, eps", "return np.sqrt(ab) * x0 + (1.0 - np.sqrt(ab)) * eps, eps")),
]

EPS_LOSS = [
    edit("eps_loss", "sums the squared errors instead of averaging them",
         ("return float(np.mean(diff**2)), 2.0 * diff / diff.size", "return float(np.sum(diff**2)), 2.0 * diff")),
    edit("eps_loss", "averages over the batch only (the squared norm per sample): F.mse_loss averages every entry",
         ("return float(np.mean(diff**2)), 2.0 * diff / diff.size",
          "return float(np.sum(diff**2) / len(diff)), 2.0 * diff / len(diff)"), kind="edge"),
    edit("eps_loss", "the gradient without the factor 2", ("2.0 * diff / diff.size", "diff / diff.size")),
    edit("eps_loss", "the gradient with the wrong sign (of eps instead of eps_pred)",
         ("2.0 * diff / diff.size", "-2.0 * diff / diff.size")),
]

REVERSE = [
    # ddpm_step
    edit("reverse_steps", "the mean divides the noise's coefficient by 1 - alpha_bar instead of sqrt(1 - alpha_bar)",
         ("mean = (x_t - betas[t] / np.sqrt(1.0 - alpha_bars[t]) * eps_pred) / np.sqrt(alphas[t])",
          "mean = (x_t - betas[t] / (1.0 - alpha_bars[t]) * eps_pred) / np.sqrt(alphas[t])")),
    edit("reverse_steps", "the posterior variance with alpha_bar_t in place of beta_t",
         ("var = betas[t] * (1.0 - alpha_bars[t - 1]) / (1.0 - alpha_bars[t])",
          "var = alpha_bars[t] * (1.0 - alpha_bars[t - 1]) / (1.0 - alpha_bars[t])")),
    edit("reverse_steps", "variance beta_t (Ho et al.'s other choice): this step uses the posterior variance",
         ("var = betas[t] * (1.0 - alpha_bars[t - 1]) / (1.0 - alpha_bars[t])", "var = betas[t]")),
    edit("reverse_steps", "off by one: the mean uses the schedule at t - 1",
         ("mean = (x_t - betas[t] / np.sqrt(1.0 - alpha_bars[t]) * eps_pred) / np.sqrt(alphas[t])",
          "mean = (x_t - betas[t - 1] / np.sqrt(1.0 - alpha_bars[t - 1]) * eps_pred) / np.sqrt(alphas[t - 1])"),
         kind="edge"),
    edit("reverse_steps", "noise added at t = 0 too (alpha_bars[-1] wraps around to the last step): the last step "
         "returns the mean", ("    if t == 0:\n        return mean\n", ""), kind="edge"),
    edit("reverse_steps", "the noise drawn from numpy's global generator instead of rng",
         ("return mean + np.sqrt(var) * rng.standard_normal(x_t.shape)",
          "return mean + np.sqrt(var) * np.random.standard_normal(x_t.shape)"), kind="rng"),
    # ddim_step
    edit("reverse_steps", "x0_hat divides by alpha_bar instead of sqrt(alpha_bar)",
         ("x0_hat = (x_t - np.sqrt(1.0 - ab) * eps_pred) / np.sqrt(ab)",
          "x0_hat = (x_t - np.sqrt(1.0 - ab) * eps_pred) / ab")),
    edit("reverse_steps", "t_prev = -1 read as alpha_bars[-1] (the noisiest level): -1 means clean, alpha_bar 1",
         ("ab_prev = alpha_bars[t_prev] if t_prev >= 0 else 1.0", "ab_prev = alpha_bars[t_prev]"), kind="edge"),
    edit("reverse_steps", "the noise put back at the current level t instead of t_prev",
         ("return np.sqrt(ab_prev) * x0_hat + np.sqrt(1.0 - ab_prev) * eps_pred",
          "return np.sqrt(ab_prev) * x0_hat + np.sqrt(1.0 - ab) * eps_pred")),
    edit("reverse_steps", "ignores t_prev: always one step back",
         ("ab_prev = alpha_bars[t_prev] if t_prev >= 0 else 1.0",
          "ab_prev = alpha_bars[t - 1] if t >= 1 else 1.0"), kind="ignored"),
]

MUTANTS: list[Mutant] = [*OPTIMAL, *LOSSES, *GAN_STEP, *SCHEDULES, *Q_SAMPLE, *EPS_LOSS, *REVERSE]
