"""Stage 3: the models, picked by name, with the initialisation stated in their spec.

Every recurrent model has two forward paths over the same parameters:
`forward` (fused PyTorch kernels where they exist, used for training) and `unroll`
(one explicit step at a time, used by the probes because per-step gradients need the
unrolled graph). Tests check that both give the same output.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .specs import ModelSpec

__all__ = ["build_model", "SequenceModel", "RecurrentNet", "CausalTransformer", "ACTIVATIONS",
           "activation_gamma"]

ACTIVATIONS = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "identity": lambda a: a,
}


def activation_gamma(name: str) -> float:
    """sup |f'|: the constant in the vanishing bound of Pascanu et al. 2013."""
    return 0.25 if name == "sigmoid" else 1.0


def activation_derivative(name: str, pre: torch.Tensor) -> torch.Tensor:
    if name == "tanh":
        return 1 - torch.tanh(pre) ** 2
    if name == "sigmoid":
        s = torch.sigmoid(pre)
        return s * (1 - s)
    if name == "relu":
        return (pre > 0).to(pre.dtype)
    return torch.ones_like(pre)


class SequenceModel(nn.Module):
    """Common interface: forward(x) -> output; unroll(x) -> (output, states, pre_activations)."""

    spec: ModelSpec

    def unroll(self, x: torch.Tensor, retain: bool = True):  # pragma: no cover - interface
        raise NotImplementedError


class RecurrentNet(SequenceModel):
    """One-layer RNN / LSTM / GRU over (batch, time, features), a linear head on the last state."""

    def __init__(self, spec: ModelSpec, input_size: int, output_size: int, length: int):
        super().__init__()
        self.spec = spec
        kind = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[spec.arch]
        kwargs = {"nonlinearity": "relu" if spec.activation == "relu" else "tanh"} if spec.arch == "rnn" else {}
        self.rnn = kind(input_size, spec.hidden, batch_first=True, **kwargs)
        self.head = nn.Linear(spec.hidden, output_size)
        _initialise(self.rnn, spec, length)

    @property
    def w_hh(self) -> torch.Tensor:
        return self.rnn.weight_hh_l0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.spec.arch == "rnn" and self.spec.activation in ("sigmoid", "identity"):
            return self.unroll(x, retain=False)[0]  # no fused kernel for these activations
        out, _ = self.rnn(x)
        return self.head(out[:, -1])

    def unroll(self, x: torch.Tensor, retain: bool = True):
        """Step through time. Returns (output, states h_k, pre-activations a_k (rnn only))."""
        r = self.rnn
        w_ih, w_hh, b_ih, b_hh = r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0, r.bias_hh_l0
        batch, T, _ = x.shape
        h = x.new_zeros(batch, self.spec.hidden)
        c = x.new_zeros(batch, self.spec.hidden)
        x_proj = x @ w_ih.T + b_ih  # (batch, time, gates*hidden), input part of every step
        states, pre_acts = [], []
        f = ACTIVATIONS[self.spec.activation]
        for t in range(T):
            if self.spec.arch == "rnn":
                a = x_proj[:, t] + h @ w_hh.T + b_hh
                h = f(a)
                pre_acts.append(a)
            elif self.spec.arch == "lstm":
                gates = x_proj[:, t] + h @ w_hh.T + b_hh
                i, fg, g, o = gates.chunk(4, dim=1)  # PyTorch order: input, forget, cell, output
                c = torch.sigmoid(fg) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
            else:  # gru
                hh = h @ w_hh.T + b_hh
                xr, xz, xn = x_proj[:, t].chunk(3, dim=1)
                hr, hz, hn = hh.chunk(3, dim=1)
                rg, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
                n = torch.tanh(xn + rg * hn)
                h = (1 - z) * n + z * h
            if retain and h.requires_grad:
                h.retain_grad()
            states.append(h)
        return self.head(h), states, pre_acts


class CausalTransformer(SequenceModel):
    """A small pre-norm causal transformer; the prediction is read at the last position."""

    def __init__(self, spec: ModelSpec, input_size: int, output_size: int, length: int):
        super().__init__()
        self.spec = spec
        self.embed = nn.Linear(input_size, spec.hidden)
        self.position = nn.Parameter(torch.randn(length, spec.hidden) * 0.02)
        layer = nn.TransformerEncoderLayer(spec.hidden, spec.heads, dim_feedforward=2 * spec.hidden,
                                           dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, spec.layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(spec.hidden)
        self.head = nn.Linear(spec.hidden, output_size)

    def _run(self, x, retain):
        T = x.shape[1]
        h = self.embed(x) + self.position[:T]
        if retain and h.requires_grad:
            h.retain_grad()
        mask = nn.Transformer.generate_square_subsequent_mask(T, dtype=x.dtype)
        out = self.encoder(h, mask=mask, is_causal=True)
        return self.head(self.norm(out[:, -1])), h

    def forward(self, x):
        return self._run(x, retain=False)[0]

    def unroll(self, x, retain: bool = True):
        """The 'state' at position k is the embedded input there (the residual stream's start)."""
        out, h = self._run(x, retain)
        return out, h, []


def build_model(spec: ModelSpec, input_size: int, output_size: int, length: int) -> SequenceModel:
    """Registry by architecture name; initialisation happens inside, from the spec."""
    if spec.arch == "transformer":
        return CausalTransformer(spec, input_size, output_size, length)
    return RecurrentNet(spec, input_size, output_size, length)


def _initialise(rnn: nn.RNNBase, spec: ModelSpec, length: int) -> None:
    H = spec.hidden
    w_ih, w_hh, b_ih, b_hh = rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0
    with torch.no_grad():
        if spec.init == "default":
            return
        if spec.init == "xavier":
            nn.init.xavier_uniform_(w_ih)
            for block in w_hh.split(H, dim=0):  # one square H x H matrix per gate
                nn.init.xavier_uniform_(block)
            b_ih.zero_()
            b_hh.zero_()
        elif spec.init == "orthogonal":
            for block in w_hh.split(H, dim=0):
                nn.init.orthogonal_(block, gain=spec.gain)
            b_ih.zero_()
            b_hh.zero_()
        elif spec.init == "identity":
            # IRNN (Le et al. 2015): W_hh = gain * I, zero biases, small input weights.
            for block in w_hh.split(H, dim=0):
                block.copy_(torch.eye(H) * spec.gain)
            nn.init.normal_(w_ih, std=0.001)
            b_ih.zero_()
            b_hh.zero_()
        elif spec.init == "forget_bias_1":
            # Only one of PyTorch's two bias vectors carries it, or the effective bias doubles.
            b_ih[H:2 * H] = 1.0
            b_hh[H:2 * H] = 0.0
        elif spec.init == "chrono":
            # Tallec & Ollivier 2018: b_f ~ log U[1, T_max - 1], b_i = -b_f, in one bias vector.
            t_max = max(length, 3)
            b_f = torch.log(torch.empty(H).uniform_(1.0, t_max - 1.0))
            b_ih[H:2 * H] = b_f
            b_ih[0:H] = -b_f
            b_hh[0:2 * H] = 0.0


def spectral_stats(w_hh: torch.Tensor) -> tuple[float, float]:
    """(sigma_max, spectral radius) of a square recurrent matrix, in float64."""
    w = w_hh.detach().to(torch.float64)
    sigma = torch.linalg.matrix_norm(w, ord=2).item()
    radius = torch.linalg.eigvals(w).abs().max().item()
    return sigma, radius


def fan_in_default_bound(hidden: int) -> float:
    """PyTorch's default recurrent init is U(-1/sqrt(H), 1/sqrt(H))."""
    return 1.0 / math.sqrt(hidden)
