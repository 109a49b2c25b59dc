"""Plausible wrong solutions for the PyTorch notebook on generative models; each must make its
tests cell fail.

Every mutant is the notebook's own solution cell with one realistic mistake edited in (each
replaced text must occur exactly once, so a changed reference is noticed). ``why`` is shown to
a student whose results match the mutant's. The first mutant is used as "the student with one
mistake", so it breaks its own tests cell only: no later tests cell uses ``reparameterize``.
"""

from __future__ import annotations

from pathlib import Path

from autograder.mutants import editor

edit = editor(Path(__file__).resolve().parents[1] / "p4_generative_models.py")

REPARAMETERIZE = [
    edit("reparameterize", "uses exp(logvar) as the standard deviation: that is the variance, sigma = exp(logvar / 2)",
         ("std = torch.exp(0.5 * logvar)", "std = torch.exp(logvar)")),
    edit("reparameterize", "uses logvar itself as the standard deviation (sigma = exp(logvar / 2))",
         ("std = torch.exp(0.5 * logvar)", "std = logvar")),
    edit("reparameterize", "draws eps from torch's global generator (torch.randn_like(mu)) instead of `generator`",
         ("eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)",
          "eps = torch.randn_like(mu)"), kind="rng"),
    edit("reparameterize", "draws uniform noise (torch.rand) instead of standard normal noise (torch.randn)",
         ("eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)",
          "eps = torch.rand(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)")),
    edit("reparameterize", "detaches z from the graph: no gradient reaches mu and logvar, so the encoder cannot learn",
         ("return mu + std * eps", "return (mu + std * eps).detach()")),
    edit("reparameterize", "draws eps in float32 (no dtype=mu.dtype): other numbers than the float64 ones expected",
         ("eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)",
          "eps = torch.randn(mu.shape, generator=generator, device=mu.device)"), kind="dtype"),
    edit("reparameterize", "adds the noise to mu in place (mu.add_(...)), changing the caller's tensor",
         ("return mu + std * eps", "return mu.add_(std * eps)"), kind="inplace"),
]

VAE_LOSS = [
    edit("vae_loss", "the KL term has the wrong sign (+0.5 sum(1 + logvar - mu^2 - exp(logvar)))",
         ("kl = -0.5 * torch.sum(", "kl = 0.5 * torch.sum(")),
    edit("vae_loss", "the KL term misses its factor 1/2",
         ("kl = -0.5 * torch.sum(", "kl = -torch.sum(")),
    edit("vae_loss", "the KL term treats logvar as log sigma (variance exp(2 logvar)) instead of log sigma^2",
         ("kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar)) / n",
          "kl = -0.5 * torch.sum(1 + 2 * logvar - mu ** 2 - torch.exp(2 * logvar)) / n")),
    edit("vae_loss", "averages the BCE over the pixels too (reduction='mean'): it must be summed over each image's pixels",
         ('recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="sum") / n',
          "recon = F.binary_cross_entropy_with_logits(x_logits, x)")),
    edit("vae_loss", "sums over the batch instead of averaging over the N images",
         ('recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="sum") / n',
          'recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="sum")'),
         ("kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar)) / n",
          "kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar))")),
    edit("vae_loss", "applies a sigmoid before binary_cross_entropy_with_logits (which applies its own)",
         ('F.binary_cross_entropy_with_logits(x_logits, x, reduction="sum")',
          'F.binary_cross_entropy_with_logits(torch.sigmoid(x_logits), x, reduction="sum")')),
    edit("vae_loss", "averages the KL over the latent dimensions instead of summing them",
         ("kl = -0.5 * torch.sum(1 + logvar - mu ** 2 - torch.exp(logvar)) / n",
          "kl = -0.5 * torch.mean(1 + logvar - mu ** 2 - torch.exp(logvar), dim=1).mean()")),
    edit("vae_loss", "computes the BCE as log(sigmoid(...)) by hand: infinite for large logits",
         ('recon = F.binary_cross_entropy_with_logits(x_logits, x, reduction="sum") / n',
          "p = torch.sigmoid(x_logits)\n"
          "    recon = -torch.sum(x * torch.log(p) + (1 - x) * torch.log(1 - p)) / n"), kind="edge"),
    edit("vae_loss", "subtracts the KL term (loss = recon - kl) instead of adding it",
         ("return recon + kl, recon, kl", "return recon - kl, recon, kl")),
]

GAN_LOSSES = [
    # discriminator_loss
    edit("gan_losses", "swaps the labels: real images must get label 1 and fakes label 0",
         ("F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))",
          "F.binary_cross_entropy_with_logits(real_logits, torch.zeros_like(real_logits))"),
         ("F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))",
          "F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))")),
    edit("gan_losses", "gives the fakes label 1 in the discriminator's loss",
         ("F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))",
          "F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))")),
    edit("gan_losses", "averages the real and the fake term ((real + fake) / 2) instead of adding them",
         ("return real + fake", "return (real + fake) / 2")),
    edit("gan_losses", "applies a sigmoid to the logits before binary_cross_entropy_with_logits (which applies its own)",
         ("F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))",
          "F.binary_cross_entropy_with_logits(torch.sigmoid(real_logits), torch.ones_like(real_logits))"),
         ("F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))",
          "F.binary_cross_entropy_with_logits(torch.sigmoid(fake_logits), torch.zeros_like(fake_logits))")),
    edit("gan_losses", "computes the real term as -log(sigmoid(logits)) by hand: infinite for large negative logits",
         ("real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))",
          "real = -torch.log(torch.sigmoid(real_logits)).mean()"), kind="edge"),
    # generator_loss
    edit("gan_losses", "uses the saturating generator loss log(1 - sigmoid(s)) instead of -log sigmoid(s)",
         ("return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))",
          "return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))")),
    edit("gan_losses", "gives the fakes label 0 in the generator's loss: it trains the generator to be caught",
         ("return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))",
          "return F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))")),
    edit("gan_losses", "computes the generator's loss as -log(sigmoid(logits)) by hand: infinite when D rejects a fake",
         ("return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))",
          "return -torch.log(torch.sigmoid(fake_logits)).mean()"), kind="edge"),
    edit("gan_losses", "sums the generator's loss over the batch instead of averaging it",
         ("return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))",
          'return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits), reduction="sum")')),
]

GAN_TRAIN_STEP = [
    edit("gan_train_step", "no detach in the discriminator's step (and retain_graph=True to make it run): "
         "the discriminator's loss sends gradients back into the generator",
         ("discriminator(fake.detach())", "discriminator(fake)"),
         ("d_loss.backward()", "d_loss.backward(retain_graph=True)"), kind="graph"),
    edit("gan_train_step", "no detach in the discriminator's step: the second backward through the generator fails",
         ("discriminator(fake.detach())", "discriminator(fake)"), kind="graph"),
    edit("gan_train_step", "does not zero the discriminator's gradients: the old ones (e.g. from the generator's "
         "backward) are added to this step's",
         ("    opt_d.zero_grad()\n", "")),
    edit("gan_train_step", "does not zero the generator's gradients before its backward",
         ("    opt_g.zero_grad()\n", "")),
    edit("gan_train_step", "updates the generator first, through the discriminator before its update",
         ("    opt_d.zero_grad()\n"
          "    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))\n"
          "    d_loss.backward()\n"
          "    opt_d.step()\n"
          "    opt_g.zero_grad()\n"
          "    g_loss = generator_loss(discriminator(fake))\n"
          "    g_loss.backward()\n"
          "    opt_g.step()\n",
          "    opt_g.zero_grad()\n"
          "    g_loss = generator_loss(discriminator(fake))\n"
          "    g_loss.backward()\n"
          "    opt_g.step()\n"
          "    opt_d.zero_grad()\n"
          "    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))\n"
          "    d_loss.backward()\n"
          "    opt_d.step()\n"), kind="order"),
    edit("gan_train_step", "returns the losses as tensors (that keep their graphs alive) instead of floats (.item())",
         ("return d_loss.item(), g_loss.item()", "return d_loss, g_loss"), kind="dtype"),
]

DDPM_SCHEDULE = [
    edit("ddpm_schedule", "alpha_bars as 1 - the running sum of the betas: a first-order approximation of the product",
         ("alpha_bars = torch.cumprod(alphas, dim=0)", "alpha_bars = 1.0 - torch.cumsum(betas, dim=0)")),
    edit("ddpm_schedule", "alpha_bars as the running product of the betas instead of the alphas",
         ("alpha_bars = torch.cumprod(alphas, dim=0)", "alpha_bars = torch.cumprod(betas, dim=0)")),
    edit("ddpm_schedule", "T + 1 points from beta_1 to beta_T with the first dropped: the betas are shifted by one step",
         ("betas = torch.linspace(beta_1, beta_T, T, dtype=torch.float64)",
          "betas = torch.linspace(beta_1, beta_T, T + 1, dtype=torch.float64)[1:]"), kind="edge"),
    edit("ddpm_schedule", "torch.linspace without dtype=torch.float64 makes float32 betas",
         ("betas = torch.linspace(beta_1, beta_T, T, dtype=torch.float64)",
          "betas = torch.linspace(beta_1, beta_T, T)"), kind="dtype"),
    edit("ddpm_schedule", "ignores beta_T (always ends at 0.02)",
         ("betas = torch.linspace(beta_1, beta_T, T, dtype=torch.float64)",
          "betas = torch.linspace(beta_1, 0.02, T, dtype=torch.float64)"), kind="ignored"),
    edit("ddpm_schedule", "divides by T - 1 to space the betas: NaN when T = 1",
         ("betas = torch.linspace(beta_1, beta_T, T, dtype=torch.float64)",
          "betas = beta_1 + (beta_T - beta_1) * torch.arange(T, dtype=torch.float64) / (T - 1)"), kind="edge"),
]

Q_SAMPLE = [
    edit("q_sample", "misses the square roots: abar x0 + (1 - abar) noise",
         ("return torch.sqrt(abar) * x0 + torch.sqrt(1.0 - abar) * noise", "return abar * x0 + (1.0 - abar) * noise")),
    edit("q_sample", "weights the noise by 1 - sqrt(abar) instead of sqrt(1 - abar)",
         ("return torch.sqrt(abar) * x0 + torch.sqrt(1.0 - abar) * noise",
          "return torch.sqrt(abar) * x0 + (1.0 - torch.sqrt(abar)) * noise")),
    edit("q_sample", "reads alpha_bars[t - 1]: t is already a 0-based index",
         ("abar = alpha_bars[t]", "abar = alpha_bars[t - 1]"), kind="edge"),
    edit("q_sample", "does not reshape alpha_bars[t] to (N, 1, 1, 1): it broadcasts along the image's width",
         ("abar = alpha_bars[t].to(x0.dtype).view(-1, 1, 1, 1)", "abar = alpha_bars[t].to(x0.dtype)"), kind="edge"),
    edit("q_sample", "uses the first image's step t[0] for the whole batch",
         ("abar = alpha_bars[t].to(x0.dtype).view(-1, 1, 1, 1)",
          "abar = alpha_bars[t[0]].to(x0.dtype)"), kind="edge"),
    edit("q_sample", "draws its own noise (torch.randn_like(x0)) instead of using the `noise` argument",
         ("torch.sqrt(1.0 - abar) * noise", "torch.sqrt(1.0 - abar) * torch.randn_like(x0)"), kind="ignored"),
]

DDPM_LOSS = [
    edit("ddpm_loss", "draws t from 1, ..., T - 1: the first step (index 0) is never trained",
         ("t = torch.randint(0, T,", "t = torch.randint(1, T,"), kind="edge"),
    edit("ddpm_loss", "draws t from 0, ..., T - 2 (randint's upper bound is already exclusive)",
         ("t = torch.randint(0, T,", "t = torch.randint(0, T - 1,"), kind="edge"),
    edit("ddpm_loss", "regresses the clean image x0 instead of the noise",
         ("return F.mse_loss(model(x_t, t), noise)", "return F.mse_loss(model(x_t, t), x0)")),
    edit("ddpm_loss", "feeds the model the clean image x0 instead of the noised x_t",
         ("return F.mse_loss(model(x_t, t), noise)", "return F.mse_loss(model(x0, t), noise)")),
    edit("ddpm_loss", "draws the noise from torch's global generator (torch.randn_like(x0)) instead of `generator`",
         ("noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device=x0.device)",
          "noise = torch.randn_like(x0)"), kind="rng"),
    edit("ddpm_loss", "sums the squared errors instead of averaging them",
         ("return F.mse_loss(model(x_t, t), noise)", 'return F.mse_loss(model(x_t, t), noise, reduction="sum")')),
]

P_SAMPLE = [
    edit("p_sample", "adds noise at the last step too (t = 0 must return the mean)",
         ("    if t == 0:\n        return mean\n", ""), kind="edge"),
    edit("p_sample", "scales the noise by beta_t instead of sqrt(beta_t) (beta_t is the variance)",
         ("return mean + torch.sqrt(beta) * z", "return mean + beta * z")),
    edit("p_sample", "misses the square root in the noise coefficient: beta_t / (1 - abar_t)",
         ("beta / torch.sqrt(1.0 - alpha_bars[t]) * eps", "beta / (1.0 - alpha_bars[t]) * eps")),
    edit("p_sample", "divides by alpha_t instead of sqrt(alpha_t)",
         ("/ torch.sqrt(1.0 - beta)", "/ (1.0 - beta)")),
    edit("p_sample", "adds the predicted noise instead of removing it",
         ("mean = (x_t - beta", "mean = (x_t + beta")),
    edit("p_sample", "reads step t - 1's beta and alpha_bar: t is already a 0-based index",
         ("beta = betas[t]", "beta = betas[t - 1]"),
         ("torch.sqrt(1.0 - alpha_bars[t])", "torch.sqrt(1.0 - alpha_bars[t - 1])"), kind="edge"),
    edit("p_sample", "gives the model t + 1 (1-based steps): it was trained on the 0-based index",
         ("torch.full((x_t.shape[0],), t, dtype", "torch.full((x_t.shape[0],), t + 1, dtype")),
    edit("p_sample", "draws z from torch's global generator (torch.randn_like(x_t)) instead of `generator`",
         ("z = torch.randn(x_t.shape, generator=generator, dtype=x_t.dtype, device=x_t.device)",
          "z = torch.randn_like(x_t)"), kind="rng"),
]

MUTANTS = REPARAMETERIZE + VAE_LOSS + GAN_LOSSES + GAN_TRAIN_STEP + DDPM_SCHEDULE + Q_SAMPLE + DDPM_LOSS + P_SAMPLE
