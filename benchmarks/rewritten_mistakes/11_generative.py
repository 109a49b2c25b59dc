"""Known mistakes of 11_generative, rewritten the way a student might: see benchmarks/diagnosis.py."""

VARIANTS = [
    {"cell": "schedules", "fails": "test_schedules",
     "mutant": "alpha_bars as a cumulative sum instead of a cumulative product",
     "source": '''def linear_schedule(T, beta_start=1e-4, beta_end=0.02):
    step = (beta_end - beta_start) / (T - 1) if T > 1 else 0.0
    betas = np.array([beta_start + i * step for i in range(T)], dtype=np.float64)
    if T > 1:
        betas[-1] = beta_end
    alphas = 1.0 - betas
    alpha_bars = np.zeros(T)
    running = 0.0
    for i in range(T):
        running += alphas[i]
        alpha_bars[i] = running
    return betas, alphas, alpha_bars


def cosine_schedule(T, s=0.008, max_beta=0.999):
    u = np.linspace(0.0, 1.0, T + 1)
    f = np.cos(np.pi / 2 * (u + s) / (1.0 + s)) ** 2
    betas = np.clip(1.0 - f[1:] / f[:-1], None, max_beta)
    alphas = 1.0 - betas
    alpha_bars = np.exp(np.cumsum(np.log(alphas)))
    return betas, alphas, alpha_bars
'''},
    {"cell": "q_sample", "fails": "test_q_sample",
     "mutant": "the noise's coefficient 1 - sqrt(alpha_bar) instead of sqrt(1 - alpha_bar)",
     "source": '''def q_sample(x0, t, alpha_bars, rng):
    noise = rng.standard_normal(x0.shape)
    a = np.asarray(alpha_bars, dtype=np.float64)[t]
    a = np.asarray(a)
    while a.ndim < x0.ndim:
        a = a[..., None]
    signal = np.sqrt(a)
    x_t = signal * x0 + (1.0 - signal) * noise
    return x_t, noise
'''},
    {"cell": "reverse_steps", "fails": "test_reverse_steps",
     "mutant": "the posterior variance with alpha_bar_t in place of beta_t",
     "source": '''def ddpm_step(x_t, t, eps_pred, betas, rng):
    ab_t = 1.0
    for i in range(t + 1):
        ab_t *= 1.0 - betas[i]
    ab_prev = ab_t / (1.0 - betas[t])
    alpha_t = 1.0 - betas[t]
    coef = betas[t] / np.sqrt(1.0 - ab_t)
    mu = (x_t - coef * eps_pred) / np.sqrt(alpha_t)
    if t == 0:
        return mu
    sigma2 = ab_t * (1.0 - ab_prev) / (1.0 - ab_t)
    z = rng.standard_normal(x_t.shape)
    return mu + np.sqrt(sigma2) * z


def ddim_step(x_t, t, t_prev, eps_pred, alpha_bars):
    a_t = alpha_bars[t]
    a_prev = 1.0 if t_prev < 0 else alpha_bars[t_prev]
    s_t, n_t = np.sqrt(a_t), np.sqrt(1.0 - a_t)
    pred_x0 = (x_t - n_t * eps_pred) / s_t
    return np.sqrt(a_prev) * pred_x0 + np.sqrt(1.0 - a_prev) * eps_pred
'''},
    {"cell": "gan_losses", "fails": "test_gan_losses",
     "mutant": "the generator's gradient summed over the batch, not averaged like its loss",
     "source": '''def _softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def discriminator_loss(real_logits, fake_logits):
    loss = np.mean(_softplus(-real_logits)) + np.mean(_softplus(fake_logits))
    d_real = -_sigmoid(-real_logits) / len(real_logits)
    d_fake = _sigmoid(fake_logits) / len(fake_logits)
    return float(loss), d_real, d_fake


def generator_loss(fake_logits, kind="non_saturating"):
    if kind == "non_saturating":
        loss = np.mean(_softplus(-fake_logits))
        grad = -_sigmoid(-fake_logits)
    else:
        loss = -np.mean(_softplus(fake_logits))
        grad = -_sigmoid(fake_logits)
    return float(loss), grad
'''},
]

FIXES = {0: ("running += alphas[i]", "running = alphas[i] if i == 0 else running * alphas[i]"),
         1: ("(1.0 - signal) * noise", "np.sqrt(1.0 - a) * noise"),
         2: ("sigma2 = ab_t *", "sigma2 = betas[t] *"),
         3: ("    return float(loss), grad\n", "    return float(loss), grad / len(fake_logits)\n")}
