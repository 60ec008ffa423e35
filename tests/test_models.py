"""The models: the unrolled step math against PyTorch's fused kernels, initialisations, causality."""
from __future__ import annotations

import math

import pytest
import torch
from pydantic import ValidationError

from vgreport.architectures import build_model
from vgreport.models import CausalTransformer, RecurrentNet, fan_in_default_bound
from vgreport.probes import state_gradient_norms
from vgreport.specs import ModelSpec, TaskSpec

INPUTS, OUTPUTS = 5, 3


def _model(length: int = 10, **fields):
    return build_model(ModelSpec(**{"hidden": 8, **fields}), INPUTS, OUTPUTS, length)


def _gates(model: RecurrentNet) -> int:
    return {"rnn": 1, "lstm": 4, "gru": 3}[model.spec.arch]


@pytest.mark.parametrize("fields", [
    {"arch": "rnn", "activation": "tanh"},
    {"arch": "rnn", "activation": "relu"},
    {"arch": "lstm"},
    {"arch": "lstm", "init": "chrono"},
    {"arch": "gru"},
], ids=["rnn_tanh", "rnn_relu", "lstm", "lstm_chrono", "gru"])
def test_unroll_matches_the_fused_pytorch_module(fields):
    """The hand-written step (LSTM gate order i, f, g, o; GRU r, z, n) reproduces nn.RNN/LSTM/GRU state by state."""
    model = _model(length=7, **fields)
    x = torch.randn(4, 7, INPUTS)
    fused_states, _ = model.rnn(x)  # (batch, time, hidden)
    out, states, _ = model.unroll(x, retain=False)
    torch.testing.assert_close(torch.stack(states, dim=1), fused_states, rtol=0, atol=1e-5)
    torch.testing.assert_close(out, model(x), rtol=0, atol=1e-5)


def test_fused_output_gradient_is_not_the_total_state_gradient():
    """With the fused nn.RNN, d loss / d output[:, k] misses the path through later steps (the pitfall)."""
    model = _model(length=8, arch="rnn", activation="tanh")
    x = torch.randn(4, 8, INPUTS, dtype=torch.float64)
    y = torch.randint(0, OUTPUTS, (4,))
    model64 = model.to(torch.float64)
    fused, _ = model64.rnn(x)
    fused.retain_grad()
    torch.nn.functional.cross_entropy(model64.head(fused[:, -1]), y).backward()
    model64.zero_grad()
    total, _, _ = state_gradient_norms(model64, TaskSpec(length=8, classes=OUTPUTS), x, y)
    direct = fused.grad.norm(dim=(0, 2))
    # The last step has only the direct term, so there the two agree ...
    assert direct[-1].item() == pytest.approx(total[-1].item(), rel=1e-12)
    # ... but earlier outputs feed nothing else in the graph, while h_k does feed h_{k+1}.
    assert torch.all(direct[:-1] == 0)
    assert torch.all(total[:-1] > 0)


def test_chrono_init_puts_log_uniform_forget_bias_in_one_vector():
    """Chrono: b_f = log U[1, T-1] in bias_ih only, b_i = -b_f, the bias_hh input/forget slices zero."""
    length, hidden = 101, 512
    model = build_model(ModelSpec(arch="lstm", init="chrono", hidden=hidden), INPUTS, OUTPUTS, length)
    b_ih, b_hh = model.rnn.bias_ih_l0.detach(), model.rnn.bias_hh_l0.detach()
    b_i, b_f = b_ih[:hidden], b_ih[hidden:2 * hidden]
    assert torch.equal(b_i, -b_f)
    assert torch.equal(b_hh[:2 * hidden], torch.zeros(2 * hidden))
    spread = b_f.exp()  # U[1, T-1]
    assert spread.min() >= 1 - 1e-5 and spread.max() <= length - 1 + 1e-3
    # Uniform on [1, 100]: mean 50.5, sd 99/sqrt(12); five standard errors of the mean.
    assert abs(spread.mean().item() - 50.5) < 5 * (99 / math.sqrt(12)) / math.sqrt(hidden)
    assert spread.min() < 5 and spread.max() > length - 6


def test_forget_bias_1_makes_the_effective_forget_bias_exactly_one():
    """forget_bias_1: bias_ih + bias_hh over the forget slice is exactly 1, not 2."""
    hidden = 16
    model = _model(arch="lstm", init="forget_bias_1", hidden=hidden)
    forget = slice(hidden, 2 * hidden)
    effective = model.rnn.bias_ih_l0.detach()[forget] + model.rnn.bias_hh_l0.detach()[forget]
    assert torch.equal(effective, torch.ones(hidden))


@pytest.mark.parametrize("gain", [0.5, 1.0])
def test_identity_init_sets_w_hh_to_gain_times_identity(gain):
    """IRNN init: W_hh = gain·I exactly, zero biases."""
    model = _model(arch="rnn", activation="relu", init="identity", gain=gain)
    assert torch.equal(model.w_hh.detach(), gain * torch.eye(8))
    assert not model.rnn.bias_ih_l0.any() and not model.rnn.bias_hh_l0.any()


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("gain", [0.7, 1.3])
def test_orthogonal_init_gives_every_singular_value_the_gain(arch, gain):
    """Orthogonal init with gain g: every gate's square block of W_hh has all singular values g."""
    model = _model(arch=arch, init="orthogonal", gain=gain)
    for block in model.w_hh.detach().split(8, dim=0):
        torch.testing.assert_close(torch.linalg.svdvals(block), torch.full((8,), gain), rtol=1e-5, atol=0)
    assert len(model.w_hh.detach().split(8, dim=0)) == _gates(model)


@pytest.mark.parametrize("arch", ["rnn", "lstm"])
def test_xavier_init_is_uniform_within_the_glorot_bound(arch):
    """Xavier: each square W_hh block is U(±sqrt(6/2H)), W_ih U(±sqrt(6/(in+out))), biases zero."""
    hidden = 64
    model = _model(arch=arch, init="xavier", hidden=hidden)
    for block in model.w_hh.detach().split(hidden, dim=0):
        bound = math.sqrt(6 / (2 * hidden))
        assert block.abs().max() <= bound
        # The variance of U(-b, b) is b²/3; 4096 entries give a tight estimate.
        assert block.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    w_ih = model.rnn.weight_ih_l0.detach()
    assert w_ih.abs().max() <= math.sqrt(6 / (w_ih.shape[0] + w_ih.shape[1]))
    assert not model.rnn.bias_ih_l0.any() and not model.rnn.bias_hh_l0.any()


def test_default_init_is_pytorchs_fan_in_uniform():
    """The default init leaves PyTorch's U(±1/sqrt(H)) recurrent weights untouched."""
    model = _model(arch="rnn", hidden=64)
    bound = fan_in_default_bound(64)
    assert bound == pytest.approx(1 / 8)
    assert model.w_hh.detach().abs().max() <= bound
    assert model.w_hh.detach().abs().max() > 0.9 * bound


@pytest.mark.parametrize("fields", [
    {"arch": "rnn", "init": "chrono"},
    {"arch": "gru", "init": "chrono"},
    {"arch": "rnn", "init": "forget_bias_1"},
    {"arch": "transformer", "init": "orthogonal"},
    {"arch": "transformer", "hidden": 10, "heads": 3},
])
def test_spec_rejects_an_initialisation_that_does_not_fit_the_architecture(fields):
    """Gate initialisations are LSTM-only, matrix inits need a recurrent matrix, heads must divide hidden."""
    with pytest.raises(ValidationError):
        ModelSpec(**fields)


def test_build_model_picks_the_class_by_architecture_name():
    """build_model returns a RecurrentNet for rnn/lstm/gru and a CausalTransformer for transformer."""
    for arch, kind in (("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM), ("gru", torch.nn.GRU)):
        model = _model(arch=arch)
        assert isinstance(model, RecurrentNet) and isinstance(model.rnn, kind)
    assert isinstance(_model(arch="transformer", heads=2), CausalTransformer)


@pytest.mark.parametrize("activation", ["sigmoid", "identity"])
def test_activations_without_a_fused_kernel_run_the_unrolled_step(activation):
    """sigmoid/identity RNNs compute f(x W_ih + b_ih + h W_hh + b_hh) step by step in forward."""
    model = _model(arch="rnn", activation=activation)
    x = torch.randn(3, 4, INPUTS)
    r = model.rnn
    f = torch.sigmoid if activation == "sigmoid" else (lambda a: a)
    h = torch.zeros(3, 8)
    for t in range(4):
        h = f(x[:, t] @ r.weight_ih_l0.T + r.bias_ih_l0 + h @ r.weight_hh_l0.T + r.bias_hh_l0)
    torch.testing.assert_close(model(x), model.head(h), rtol=0, atol=1e-6)


def test_transformer_is_causal():
    """Changing the input at position j changes the encoder output at positions >= j and none before."""
    model = _model(length=6, arch="transformer", heads=2)
    captured = {}
    model.encoder.register_forward_hook(lambda module, args, out: captured.__setitem__("out", out.detach()))
    x = torch.randn(3, 6, INPUTS)
    model(x)
    before = captured["out"]
    changed = x.clone()
    changed[:, 3] += 1.0
    model(changed)
    shift = (captured["out"] - before).abs().amax(dim=(0, 2))  # (time,)
    assert torch.all(shift[:3] == 0)
    assert torch.all(shift[3:] > 0)


def test_transformer_state_gradient_reaches_every_position():
    """Attention reads every earlier position directly: dL/d(embedded x_k) is nonzero for all k."""
    model = _model(length=6, arch="transformer", heads=2).to(torch.float64)
    x = torch.randn(4, 6, INPUTS)
    y = torch.randint(0, OUTPUTS, (4,))
    norms, states, _ = state_gradient_norms(model, TaskSpec(length=6, classes=OUTPUTS), x, y)
    assert norms.shape == (6,) and states.shape == (4, 6, 8)
    assert torch.all(norms > 0)
