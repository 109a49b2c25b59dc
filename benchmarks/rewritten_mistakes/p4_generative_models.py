"""Known mistakes of p4_generative_models, rewritten the way a student might: see benchmarks/diagnosis.py."""

VARIANTS = [
    {"cell": "vae_loss", "fails": "test_vae_loss",
     "mutant": "the KL term misses its factor 1/2",
     "source": '''def vae_loss(x_logits, x, mu, logvar):
    batch = x.size(0)
    # BCE from logits: softplus(l) - x l, summed over the pixels
    per_pixel = torch.logaddexp(torch.zeros_like(x_logits), x_logits) - x * x_logits
    recon = per_pixel.reshape(batch, -1).sum(dim=1).mean()
    var = logvar.exp()
    kl_per_image = (mu.pow(2) + var - logvar - 1.0).sum(dim=1)
    kl = kl_per_image.mean()
    loss = recon + kl
    return loss, recon, kl
'''},
    {"cell": "ddpm_schedule", "fails": "test_ddpm_schedule",
     "mutant": "alpha_bars as 1 - the running sum of the betas: a first-order approximation of the product",
     "source": '''def ddpm_schedule(T, beta_1=1e-4, beta_T=0.02):
    betas = torch.linspace(beta_1, beta_T, steps=T, dtype=torch.float64)
    alphas = 1 - betas
    alpha_bars = torch.empty_like(betas)
    acc = 0.0
    for i in range(T):
        acc = acc + betas[i].item()
        alpha_bars[i] = 1.0 - acc
    return betas, alphas, alpha_bars
'''},
    {"cell": "p_sample", "fails": "test_p_sample",
     "mutant": "scales the noise by beta_t instead of sqrt(beta_t) (beta_t is the variance)",
     "source": '''def p_sample(model, x_t, t, betas, alpha_bars, generator=None):
    N = x_t.size(0)
    steps = torch.full((N,), t, dtype=torch.long, device=x_t.device)
    eps_hat = model(x_t, steps)
    b_t = betas[t]
    a_t = 1.0 - b_t
    coef = b_t * (1.0 - alpha_bars[t]).rsqrt()
    mu = a_t.rsqrt() * (x_t - coef * eps_hat)
    if t > 0:
        noise = torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype, device=x_t.device)
        mu = mu + b_t * noise
    return mu
'''},
    {"cell": "gan_losses", "fails": "test_gan_losses",
     "mutant": "averages the real and the fake term ((real + fake) / 2) instead of adding them",
     "source": '''def discriminator_loss(real_logits, fake_logits):
    loss_real = -F.logsigmoid(real_logits).mean()
    loss_fake = -F.logsigmoid(-fake_logits).mean()
    return 0.5 * (loss_real + loss_fake)


def generator_loss(fake_logits):
    return -F.logsigmoid(fake_logits).mean()
'''},
]

FIXES = {0: ("(mu.pow(2) + var - logvar - 1.0).sum(dim=1)", "0.5 * (mu.pow(2) + var - logvar - 1.0).sum(dim=1)"),
         1: [("alpha_bars = torch.empty_like(betas)\n    acc = 0.0\n", "alpha_bars = torch.empty_like(betas)\n    acc = 1.0\n"),
             ("acc = acc + betas[i].item()", "acc = acc * alphas[i].item()"), ("alpha_bars[i] = 1.0 - acc", "alpha_bars[i] = acc")],
         2: ("mu = mu + b_t * noise", "mu = mu + b_t.sqrt() * noise"),
         3: ("return 0.5 * (loss_real + loss_fake)", "return loss_real + loss_fake")}
