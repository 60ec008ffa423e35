"""The gradient probes, pinned to analytic answers: the linear RNN, derivative bounds, Jacobian products."""
from __future__ import annotations

import math
from contextlib import contextmanager

import pytest
import torch

from vgreport.architectures import build_model
from vgreport.models import activation_derivative, activation_gamma
from vgreport.probes import cue_influence, input_sensitivity, jacobian_chain, probe_model, state_gradient_norms
from vgreport.specs import ModelSpec, TaskSpec
from vgreport.tasks import input_size, make_batch, output_size, sequence_length

TASK = TaskSpec(name="recall", length=20, classes=4)


@contextmanager
def _float64_parameters():
    # Built in float64, an orthogonal W_hh is orthogonal to 1e-16, not to float32's 1e-7.
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _model(task: TaskSpec = TASK, **fields):
    return build_model(ModelSpec(**{"hidden": 12, **fields}), input_size(task), output_size(task), task.length)


def _batch(task: TaskSpec = TASK, batch: int = 6, seed: int = 1):
    return make_batch(task, batch, torch.Generator().manual_seed(seed))


def _by_lag(rows, metric: str) -> dict[float, float]:
    return {lag: value for name, lag, value in rows if name == metric}


def _scalar(rows, metric: str) -> float:
    (value,) = [value for name, _, value in rows if name == metric]
    return value


@pytest.mark.parametrize("gain", [0.7, 1.0, 1.3])
def test_linear_rnn_gradient_decays_as_gain_power(gain):
    """Identity activation, W_hh = g·Q: ||dL/dh_k|| = g^(T-1-k)·||dL/dh_(T-1)|| to 1e-9 relative."""
    with _float64_parameters():
        model = _model(activation="identity", init="orthogonal", gain=gain)
    x, y = _batch()
    rows = probe_model(model, TASK, x, y)
    measured = _by_lag(rows, "grad_norm_state")
    assert sorted(measured) == [float(lag) for lag in range(TASK.length)]
    for lag, value in measured.items():
        assert value == pytest.approx(gain ** lag * measured[0.0], rel=1e-9, abs=0), lag
    norms, _, _ = state_gradient_norms(model.to(torch.float64), TASK, x, y)  # indexed by k
    expected = norms[-1] * gain ** torch.arange(TASK.length - 1, -1, -1, dtype=torch.float64)
    torch.testing.assert_close(norms, expected, rtol=1e-9, atol=0)


def test_float32_initialised_linear_rnn_matches_the_gain_power_to_float32_precision():
    """The battery's own path (float32 init, float64 probe) reproduces g^(T-1-k) to 1e-5 relative."""
    model = _model(activation="identity", init="orthogonal", gain=1.3)
    measured = _by_lag(probe_model(model, TASK, *_batch()), "grad_norm_state")
    for lag, value in measured.items():
        assert value == pytest.approx(1.3 ** lag * measured[0.0], rel=1e-5), lag


def test_linear_rnn_probe_reports_the_gain_as_sigma_and_the_bound():
    """For W_hh = g·Q the probe reports sigma_max = spectral radius = g and log-rate bound log g."""
    gain = 1.3
    with _float64_parameters():
        model = _model(activation="identity", init="orthogonal", gain=gain)
    rows = probe_model(model, TASK, *_batch())
    assert _scalar(rows, "sigma_max_whh") == pytest.approx(gain, rel=1e-12)
    assert _scalar(rows, "spectral_radius_whh") == pytest.approx(gain, rel=1e-12)
    assert _scalar(rows, "bound_gamma") == 1.0
    assert _scalar(rows, "bound_log_rate") == pytest.approx(math.log(gain), rel=1e-12)
    assert _scalar(rows, "act_deriv_mean") == 1.0 and _scalar(rows, "act_deriv_frac_small") == 0.0


def test_activation_derivatives_respect_their_sup_bounds():
    """sigmoid' <= 1/4 and tanh' <= 1 with equality at 0, relu' is 0 or 1, and they match autograd."""
    pre = torch.linspace(-12, 12, 4801, dtype=torch.float64, requires_grad=True)
    for name, f in (("tanh", torch.tanh), ("sigmoid", torch.sigmoid), ("relu", torch.relu),
                    ("identity", lambda a: a)):
        derivative = activation_derivative(name, pre.detach())
        (auto,) = torch.autograd.grad(f(pre).sum(), pre)
        torch.testing.assert_close(derivative, auto, rtol=1e-12, atol=1e-15)
        assert derivative.min() >= 0
        assert derivative.max().item() == activation_gamma(name)  # sup attained at 0 (or beyond it)
    assert activation_gamma("sigmoid") == 0.25 and activation_gamma("tanh") == 1.0


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_measured_decay_obeys_the_pascanu_bound(activation, seed):
    """On random models ||dL/dh_k|| <= (gamma·sigma_max(W_hh))^(T-1-k)·||dL/dh_(T-1)|| (Pascanu et al. 2013)."""
    torch.manual_seed(seed)
    # Even seeds: PyTorch's default init; odd seeds: orthogonal with gamma·sigma = 0.6 or 1.7,
    # below and above the vanishing/exploding transition.
    init = "default" if seed % 2 == 0 else "orthogonal"
    gain = (0.6 if seed == 1 else 1.7) / activation_gamma(activation)
    task = TaskSpec(name="recall", length=15, classes=4)
    model = _model(task, activation=activation, init=init, gain=gain)
    rows = probe_model(model, task, *_batch(task, seed=seed))
    rate = _scalar(rows, "bound_gamma") * _scalar(rows, "sigma_max_whh")
    assert _scalar(rows, "bound_log_rate") == pytest.approx(math.log(rate), rel=1e-12)
    measured = _by_lag(rows, "grad_norm_state")
    for lag, value in measured.items():
        assert value <= rate ** lag * measured[0.0] * (1 + 1e-9), lag


def test_jacobian_product_equals_autograd():
    """(prod_{j>k} J_j)^T dL/dh_T with J_j = diag(f'(a_j))·W_hh equals autograd dL/dh_k to 1e-10."""
    for activation, init in (("tanh", "default"), ("sigmoid", "orthogonal"), ("relu", "identity")):
        model = _model(activation=activation, init=init, gain=1.1)
        rows = probe_model(model, TASK, *_batch(), jacobian_samples=3, with_jacobians=True)
        chain, auto = _by_lag(rows, "jacobian_chain_norm"), _by_lag(rows, "grad_norm_state_sub")
        assert sorted(chain) == sorted(auto) == [float(lag) for lag in range(TASK.length)]
        for lag in chain:
            assert chain[lag] == pytest.approx(auto[lag], rel=1e-10, abs=0), (activation, lag)


def test_jacobian_operator_norm_bounds_the_measured_gradient():
    """For one sequence, ||prod_{j>k} J_j||_2 · ||dL/dh_T|| >= ||dL/dh_k||, and the product is I at lag 0."""
    model = _model(activation="tanh", init="orthogonal", gain=1.2).to(torch.float64)
    x, y = _batch()
    for sample in range(3):
        one = slice(sample, sample + 1)
        _, states, pre_acts = state_gradient_norms(model, TASK, x[one], y[one])
        chain, auto, opnorm = jacobian_chain(model, states, pre_acts, samples=1)  # indexed by k
        torch.testing.assert_close(chain, auto, rtol=1e-10, atol=0)
        assert opnorm[-1].item() == pytest.approx(1.0, rel=1e-12)
        assert torch.all(opnorm * chain[-1] >= chain * (1 - 1e-12))
        assert torch.any(opnorm * chain[-1] > chain * 1.01)  # a bound, not an identity, for tanh
    # The same through the probe's records, whose first sample is sequence 0.
    rows = probe_model(model, TASK, x, y, jacobian_samples=1, with_jacobians=True)
    chain, opnorm = _by_lag(rows, "jacobian_chain_norm"), _by_lag(rows, "jacobian_product_opnorm")
    assert all(opnorm[lag] * chain[0.0] >= chain[lag] * (1 - 1e-12) for lag in chain)


def test_linear_rnn_jacobian_operator_norm_is_the_gain_power():
    """With f = identity and W_hh = g·Q, ||prod_{j>k} J_j||_2 = g^(T-1-k) exactly."""
    gain = 0.8
    with _float64_parameters():
        model = _model(activation="identity", init="orthogonal", gain=gain)
    rows = probe_model(model, TASK, *_batch(), jacobian_samples=2, with_jacobians=True)
    for lag, value in _by_lag(rows, "jacobian_product_opnorm").items():
        assert value == pytest.approx(gain ** lag, rel=1e-10)


def test_probe_gives_one_value_per_position_for_every_architecture():
    """grad_norm_state and sensitivity_input have one value per time lag 0..T-1, positive, for all archs."""
    task = TaskSpec(name="recall", length=8, classes=4)
    for fields in ({"arch": "rnn"}, {"arch": "lstm"}, {"arch": "gru"},
                   {"arch": "transformer", "hidden": 8, "heads": 2}):
        model = _model(task, **fields)
        rows = probe_model(model, task, *_batch(task))
        for metric in ("grad_norm_state", "sensitivity_input"):
            values = _by_lag(rows, metric)
            assert sorted(values) == [float(lag) for lag in range(8)], (fields, metric)
            assert all(v > 0 and math.isfinite(v) for v in values.values()), (fields, metric)
        rnn_only = {"sigma_max_whh", "jacobian_chain_norm", "bound_log_rate"}
        assert rnn_only.isdisjoint({name for name, _, _ in rows}) == (fields["arch"] != "rnn")


def test_input_sensitivity_is_the_frobenius_norm_of_the_output_jacobian():
    """sensitivity_input at position k equals the Frobenius norm of dy/dx_k built by torch.autograd.functional."""
    task = TaskSpec(name="recall", length=5, classes=3)
    model = _model(task, activation="tanh", hidden=6).to(torch.float64)
    x, _ = _batch(task, batch=3)
    x = x.to(torch.float64)
    measured = input_sensitivity(model, x)
    jac = torch.autograd.functional.jacobian(model, x)  # (batch, out, batch, time, in)
    expected = jac.pow(2).sum(dim=(0, 1, 2, 4)).sqrt()
    torch.testing.assert_close(measured, expected, rtol=1e-12, atol=0)


def test_probe_leaves_the_model_unchanged():
    """probe_model works on a float64 copy: the model's parameters, dtype and gradients are untouched."""
    model = _model(activation="tanh")
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    probe_model(model, TASK, *_batch(), jacobian_samples=2, with_jacobians=True)
    for name, p in model.named_parameters():
        assert p.dtype == torch.float32 and p.grad is None and torch.equal(p.detach(), before[name])


COPY = TaskSpec(name="copy", length=6, classes=3)


def _copy_model(**fields):
    return build_model(ModelSpec(**{"hidden": 10, **fields}), input_size(COPY), output_size(COPY),
                       sequence_length(COPY), per_step=True)


def test_copy_jacobian_chain_with_every_steps_direct_term_equals_autograd():
    """With an answer at every step, carrying back the sum of each step's direct gradient through the
    Jacobians J_j reproduces autograd dL/dh_k to 1e-10, at every lag 0..length+19."""
    model = _copy_model(activation="tanh", init="orthogonal", gain=1.1)
    rows = probe_model(model, COPY, *_batch(COPY), jacobian_samples=3, with_jacobians=True)
    chain, auto = _by_lag(rows, "jacobian_chain_norm"), _by_lag(rows, "grad_norm_state_sub")
    assert sorted(chain) == sorted(auto) == [float(lag) for lag in range(sequence_length(COPY))]
    for lag in chain:
        assert chain[lag] == pytest.approx(auto[lag], rel=1e-10, abs=0), lag


@pytest.mark.parametrize("arch", ["rnn", "gru", "transformer"])
def test_copy_sensitivity_is_the_jacobian_of_the_last_steps_output(arch):
    """For per-step outputs, sensitivity_input is the Frobenius norm of d(output at the last step)/dx_k."""
    model = _copy_model(arch=arch, **({"heads": 2} if arch == "transformer" else {})).to(torch.float64)
    x, _ = _batch(COPY, batch=2)
    x = x.to(torch.float64)
    jac = torch.autograd.functional.jacobian(lambda inputs: model(inputs)[:, -1], x)  # (batch, out, batch, time, in)
    torch.testing.assert_close(input_sensitivity(model, x), jac.pow(2).sum(dim=(0, 1, 2, 4)).sqrt(),
                               rtol=1e-12, atol=0)


class _Reads(torch.nn.Module):
    """A known model: its answer is the token at one position (per_step False, like a recall model)."""
    per_step = False

    def __init__(self, position: int):
        super().__init__()
        self.position = position

    def forward(self, x):
        return x[:, self.position]


@pytest.mark.parametrize("lag", [None, 3])
def test_cue_influence_is_one_for_a_model_that_copies_the_cue_and_zero_for_one_that_ignores_it(lag):
    task = TaskSpec(name="recall", length=9, classes=5, lag=lag)
    x, y = _batch(task, batch=40)
    cue = task.length - 1 - (task.length - 1 if lag is None else lag)
    copier = _Reads(cue)
    assert bool((copier(x).argmax(-1) == y).all())  # it does answer the task
    assert cue_influence(copier, task, x, chunk=16) == 1.0
    assert cue_influence(_Reads(task.length - 1), task, x) == 0.0
    assert cue_influence(_Reads((cue + 1) % task.length), task, x) == 0.0


def test_cue_influence_of_a_real_model_is_a_share_and_nan_without_a_cue():
    x, _ = _batch(TASK, batch=64)
    share = cue_influence(_model(), TASK, x)
    assert 0.0 <= share <= 1.0 and (share * 64).is_integer()
    adding = TaskSpec(name="adding", length=10)
    assert math.isnan(cue_influence(_model(adding), adding, _batch(adding)[0]))
