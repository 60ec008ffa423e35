"""Stage 4: measurements of a model's gradients, in float64 on an unrolled copy.

Per-step gradients need the unrolled graph: with the fused nn.RNN, the gradient with respect
to output[:, k] is only the direct term from step k. So every probe steps through time with
`model.unroll` and reads h_k.grad, which holds the total dL/dh_k through all later steps.
float64 keeps gradients that shrink like 0.25^100 representable.

With per-step outputs (the copy task) the loss is the total over every step: dL/dh_k then adds,
to what flows back from later steps, the direct term of step k's own output.
"""
from __future__ import annotations

import copy
import math

import torch

from .architectures import architecture
from .models import RecurrentNet, SequenceModel, activation_derivative, activation_gamma, spectral_stats
from .specs import TaskSpec
from .tasks import task_loss

__all__ = ["task_loss", "probe_model", "state_gradient_norms", "input_sensitivity", "jacobian_chain",
           "direct_state_gradients", "cue_influence"]

Measurement = tuple[str, float, float]  # (metric, time_lag or nan, value)
NAN = float("nan")


def _as_float64(model: SequenceModel) -> SequenceModel:
    return copy.deepcopy(model).to(torch.float64)


def state_gradient_norms(model: SequenceModel, task: TaskSpec, x, y):
    """One backward pass: ||dL/dh_k|| for every k, with the states and pre-activations.

    Returns (norms indexed by k as a float64 tensor (T,), states, pre_activations)."""
    x = x.to(torch.float64)
    out, states, pre_acts = model.unroll(x)
    task_loss(task, out, y).backward()
    if isinstance(states, torch.Tensor):  # transformer: one (batch, time, hidden) tensor
        norms = states.grad.norm(dim=(0, 2))
    else:
        norms = torch.stack([h.grad.norm() for h in states])
    return norms.detach(), states, pre_acts


def input_sensitivity(model: SequenceModel, x: torch.Tensor) -> torch.Tensor:
    """||dy/dx_k||: Frobenius norm over the batch of the output Jacobian w.r.t. input x_k. (T,)

    y is the output read after the last step; with per-step outputs, the last step's output, so
    that the lag T-1-k means the same for every task (the whole Jacobian of all T outputs would
    cost T times as many backward passes)."""
    x = x.to(torch.float64).clone().requires_grad_(True)
    out = model(x)
    if model.per_step:
        out = out[:, -1]
    squares = torch.zeros(x.shape[1], dtype=torch.float64)
    for o in range(out.shape[1]):  # samples are independent, so one pass per output unit suffices
        (grad,) = torch.autograd.grad(out[:, o].sum(), x, retain_graph=o + 1 < out.shape[1])
        squares += (grad ** 2).sum(dim=(0, 2))
    return squares.sqrt()


@torch.no_grad()
def cue_influence(model: SequenceModel, task: TaskSpec, x: torch.Tensor, chunk: int = 256) -> float:
    """The cue's influence by intervention (recall only, else NaN): the share of sequences whose
    predicted class changes when the cue token (the one to recall) is replaced by the next class.

    A gradient at the cue can be 1e-14 while the cue still decides the answer (a saturated but
    working memory), and large while it decides nothing; changing the cue asks the model directly.
    A model that ignores the cue changes no prediction (0); one that copies it changes every one (1)."""
    if task.name != "recall":
        return NAN
    T, K = x.shape[1], x.shape[2]
    position = T - 1 - (T - 1 if task.lag is None else task.lag)
    changed = 0
    for start in range(0, len(x), chunk):
        part = x[start:start + chunk]
        other = part.clone()
        cue = part[:, position].argmax(dim=-1)
        other[:, position] = torch.nn.functional.one_hot((cue + 1) % K, K).to(part.dtype)
        changed += int((model(part).argmax(dim=-1) != model(other).argmax(dim=-1)).sum().item())
    return changed / len(x)


def direct_state_gradients(model: RecurrentNet, task: TaskSpec, states, y) -> torch.Tensor:
    """dL/dh_k through step k's own output only, holding the later states fixed: (batch, time, hidden)."""
    stacked = torch.stack([h.detach() for h in states], dim=1).requires_grad_(True)
    (grad,) = torch.autograd.grad(task_loss(task, model.head(stacked), y), stacked)
    return grad


def jacobian_chain(model: RecurrentNet, states, pre_acts, samples: int, direct: torch.Tensor | None = None):
    """BPTT as an explicit product of Jacobians J_j = diag(f'(a_j)) W_hh (plain RNN only).

    For the first `samples` sequences, returns per k (as (T,) tensors):
    ||(prod_{j>k} J_j)^T dL/dh_T|| (Frobenius over samples), the autograd ||dL/dh_k|| of the same
    samples, and the largest over samples of the operator norm ||prod_{j>k} J_j||_2 (the largest,
    so that ratio of the Frobenius norms over samples is guaranteed to stay below it).
    With per-step outputs pass `direct` (direct_state_gradients): the chain is then
    ||sum_{t>=k} (prod_{k<j<=t} J_j)^T d_t|| with d_t the direct term of step t, and the ratio bound
    holds for the last step's term alone.
    """
    w_hh = model.w_hh.detach()
    T = len(states)
    m = min(samples, states[0].shape[0])
    chain_sq = torch.zeros(T, dtype=torch.float64)
    auto_sq = torch.zeros(T, dtype=torch.float64)
    opnorm = torch.zeros(T, dtype=torch.float64)
    for b in range(m):
        derivs = [activation_derivative(model.spec.activation, a[b].detach()) for a in pre_acts]
        g = states[-1].grad[b] if direct is None else direct[b, T - 1]
        product = torch.eye(w_hh.shape[0], dtype=torch.float64)  # d h_{T-1} / d h_k
        for k in range(T - 1, -1, -1):
            chain_sq[k] += g.dot(g)
            auto_sq[k] += states[k].grad[b].pow(2).sum()
            opnorm[k] = max(opnorm[k].item(), torch.linalg.matrix_norm(product, ord=2).item())
            if k > 0:
                jac = derivs[k][:, None] * w_hh  # d h_k / d h_{k-1}
                g = jac.T @ g
                if direct is not None:
                    g = g + direct[b, k - 1]
                product = product @ jac
    return chain_sq.sqrt(), auto_sq.sqrt(), opnorm


def probe_model(model: SequenceModel, task: TaskSpec, x, y, jacobian_samples: int = 0,
                with_jacobians: bool = False) -> list[Measurement]:
    """All gradient measurements of one model on one probe batch, as (metric, lag, value)."""
    model64 = _as_float64(model)
    norms, states, pre_acts = state_gradient_norms(model64, task, x, y)
    T = len(norms)
    rows: list[Measurement] = []

    def per_lag(metric, values):
        rows.extend((metric, float(T - 1 - k), float(v)) for k, v in enumerate(values.tolist()))

    per_lag("grad_norm_state", norms)
    per_lag("sensitivity_input", input_sensitivity(model64, x))
    if architecture(model64.spec.arch).plain_recurrence:
        act = model64.spec.activation
        if with_jacobians and jacobian_samples > 0:
            direct = direct_state_gradients(model64, task, states, y) if model64.per_step else None
            chain, auto, opnorm = jacobian_chain(model64, states, pre_acts, jacobian_samples, direct)
            per_lag("jacobian_chain_norm", chain)
            per_lag("grad_norm_state_sub", auto)
            per_lag("jacobian_product_opnorm", opnorm)
        sigma, radius = spectral_stats(model64.w_hh)
        gamma = activation_gamma(act)
        derivs = torch.cat([activation_derivative(act, a.detach()).flatten() for a in pre_acts])
        q10, q50, q90 = torch.quantile(derivs, torch.tensor([0.1, 0.5, 0.9], dtype=derivs.dtype)).tolist()
        rows += [("sigma_max_whh", NAN, sigma), ("spectral_radius_whh", NAN, radius),
                 ("bound_gamma", NAN, gamma), ("bound_log_rate", NAN, math.log(gamma * sigma)),
                 ("act_deriv_mean", NAN, derivs.mean().item()), ("act_deriv_p10", NAN, q10),
                 ("act_deriv_p50", NAN, q50), ("act_deriv_p90", NAN, q90),
                 ("act_deriv_frac_small", NAN, (derivs < 0.1).double().mean().item()),
                 ("act_deriv_sq_mean", NAN, derivs.pow(2).mean().item())]
    return rows
