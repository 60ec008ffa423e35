"""Stage 3: the models, picked by name, with the initialisation stated in their spec.

Every recurrent model has two forward paths over the same parameters:
`forward` (fused PyTorch kernels where they exist, else the hand-written recurrence of
recurrences.py; used for training) and `unroll` (one explicit step at a time, used by the probes
because per-step gradients need the unrolled graph). Tests check that both give the same output.

A model reads its answer off the last step, or off every step when built with `per_step=True`
(the copy task): the output is then (batch, time, outputs).

`StackedModel` holds S models of one spec as one, each parameter stacked along a new first
(member) dimension, for seed-batched training; `member(s)` rebuilds member s as a plain model.
"""
from __future__ import annotations

import copy
import math
from typing import TYPE_CHECKING

import torch
from torch import nn

from .recurrences import recurrent_layer

if TYPE_CHECKING:
    from .specs import ModelSpec

__all__ = ["SequenceModel", "RecurrentNet", "CausalTransformer", "StackedModel", "ACTIVATIONS",
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
    per_step: bool  # the output is read at every step (batch, time, outputs), not only the last

    def unroll(self, x: torch.Tensor, retain: bool = True):  # pragma: no cover - interface
        raise NotImplementedError


class RecurrentNet(SequenceModel):
    """One-layer RNN / LSTM / GRU over (batch, time, features), a linear head on the last state (or every state)."""

    def __init__(self, spec: ModelSpec, input_size: int, output_size: int, length: int, per_step: bool = False):
        super().__init__()
        self.spec, self.per_step = spec, per_step
        kind = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[spec.arch]
        kwargs = {"nonlinearity": "relu" if spec.activation == "relu" else "tanh"} if spec.arch == "rnn" else {}
        self.rnn = kind(input_size, spec.hidden, batch_first=True, **kwargs)
        self.head = nn.Linear(spec.hidden, output_size)
        _initialise(self.rnn, spec, length)

    @property
    def w_hh(self) -> torch.Tensor:
        return self.rnn.weight_hh_l0

    @property
    def fused(self) -> bool:
        """PyTorch has a fused kernel for this cell (not for sigmoid or identity RNNs)."""
        return self.spec.arch != "rnn" or self.spec.activation in ("tanh", "relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fused:
            states, _ = self.rnn(x)  # (batch, time, hidden)
            return self.head(states if self.per_step else states[:, -1])
        r = self.rnn
        weights = [w.unsqueeze(0) for w in (r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0, r.bias_hh_l0)]
        states = recurrent_layer(self.spec.arch, self.spec.activation, x.unsqueeze(0), *weights,
                                 every_step=self.per_step)  # (time, 1, batch, hidden) or (1, batch, hidden)
        return self.head(states[:, 0].transpose(0, 1) if self.per_step else states[0])

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
        # unbind once: x_proj[:, t] inside the loop would make backward fill a full-size zero tensor per step
        for x_t in x_proj.unbind(1):
            if self.spec.arch == "rnn":
                a = x_t + h @ w_hh.T + b_hh
                h = f(a)
                pre_acts.append(a)
            elif self.spec.arch == "lstm":
                gates = x_t + h @ w_hh.T + b_hh
                i, fg, g, o = gates.chunk(4, dim=1)  # PyTorch order: input, forget, cell, output
                c = torch.sigmoid(fg) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
            else:  # gru
                hh = h @ w_hh.T + b_hh
                xr, xz, xn = x_t.chunk(3, dim=1)
                hr, hz, hn = hh.chunk(3, dim=1)
                rg, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
                n = torch.tanh(xn + rg * hn)
                h = (1 - z) * n + z * h
            if retain and h.requires_grad:
                h.retain_grad()
            states.append(h)
        return self.head(torch.stack(states, dim=1) if self.per_step else h), states, pre_acts


class CausalTransformer(SequenceModel):
    """A small pre-norm causal transformer; the prediction is read at the last position (or every position)."""

    def __init__(self, spec: ModelSpec, input_size: int, output_size: int, length: int, per_step: bool = False):
        super().__init__()
        self.spec, self.per_step = spec, per_step
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
        return self.head(self.norm(out if self.per_step else out[:, -1])), h

    def forward(self, x):
        return self._run(x, retain=False)[0]

    def unroll(self, x, retain: bool = True):
        """The 'state' at position k is the embedded input there (the residual stream's start)."""
        out, h = self._run(x, retain)
        return out, h, []


def _linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """Each member's own linear layer: x (S, ..., in), weight (S, out, in), bias (S, out)."""
    S, last = x.shape[0], x.shape[-1]
    out = torch.baddbmm(bias.unsqueeze(1), x.reshape(S, -1, last), weight.transpose(1, 2))
    return out.view(*x.shape[:-1], weight.shape[1])


def _layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """Each member's own LayerNorm over the last dimension of x (S, ..., H)."""
    shape = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
    return torch.nn.functional.layer_norm(x, x.shape[-1:], eps=eps) * weight.view(shape) + bias.view(shape)


class StackedModel:
    """S models of one shape as one: every parameter stacked along a new first (member) dimension.

    The members share architecture, activation and sizes (self.spec is the first's); their specs may
    differ in what only sets initial weights (init, gain), and member(s) carries its own spec.
    forward takes each member's own inputs (S, batch, time, features) and returns (S, batch, outputs)
    (or (S, batch, time, outputs) when per_step). Recurrent members run recurrences.recurrent_layer;
    transformer members run the same layers as CausalTransformer, with batched products. Stacking
    copies the values, so member s starts bit-identical to models[s]."""

    def __init__(self, models: list[SequenceModel]):
        first = models[0]
        self._template = copy.deepcopy(first).cpu()
        self.spec, self.per_step = first.spec, first.per_step
        self.specs = [m.spec for m in models]
        names = [name for name, _ in first.named_parameters()]
        self.params: dict[str, torch.Tensor] = {
            name: torch.stack([dict(m.named_parameters())[name].detach() for m in models]).requires_grad_()
            for name in names}

    def __len__(self) -> int:
        return next(iter(self.params.values())).shape[0]

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def to(self, device) -> "StackedModel":
        self.params = {name: p.detach().to(device).requires_grad_() for name, p in self.params.items()}
        return self

    def select(self, index: torch.Tensor) -> None:
        """Keep only the members at `index` (gradients too): new parameter tensors."""
        self.specs = [self.specs[i] for i in index.tolist()]
        kept = {}
        for name, p in self.params.items():
            kept[name] = p.detach()[index].clone().requires_grad_()
            if p.grad is not None:
                kept[name].grad = p.grad[index].clone()
        self.params = kept

    def member(self, index: int) -> SequenceModel:
        """Member `index` as a plain model on the CPU (for the probes, which run one model at a time)."""
        model = copy.deepcopy(self._template)
        model.load_state_dict({name: p[index].detach().cpu() for name, p in self.params.items()})
        model.spec = self.specs[index]
        return model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.params
        if self.spec.arch == "transformer":
            out = self._transformer(x)
        else:
            names = ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0")
            states = recurrent_layer(self.spec.arch, self.spec.activation, x, *(p[n] for n in names),
                                     every_step=self.per_step)  # (T, S, B, H) or (S, B, H)
            out = states.permute(1, 2, 0, 3) if self.per_step else states
        return _linear(out, p["head.weight"], p["head.bias"])

    __call__ = forward

    def _transformer(self, x: torch.Tensor) -> torch.Tensor:
        """CausalTransformer's pre-norm encoder, member by member in every product; returns the normed stream."""
        p, template = self.params, self._template
        S, B, T, _ = x.shape
        heads = self.spec.heads
        h = _linear(x, p["embed.weight"], p["embed.bias"]) + p["position"][:, None, :T]
        for index, layer in enumerate(template.encoder.layers):
            q = f"encoder.layers.{index}."
            a = _layer_norm(h, p[q + "norm1.weight"], p[q + "norm1.bias"], layer.norm1.eps)
            qkv = _linear(a, p[q + "self_attn.in_proj_weight"], p[q + "self_attn.in_proj_bias"])
            split = [t.reshape(S * B, T, heads, -1).transpose(1, 2) for t in qkv.chunk(3, dim=-1)]
            attended = torch.nn.functional.scaled_dot_product_attention(*split, is_causal=True)
            attended = attended.transpose(1, 2).reshape(S, B, T, -1)
            h = h + _linear(attended, p[q + "self_attn.out_proj.weight"], p[q + "self_attn.out_proj.bias"])
            a = _layer_norm(h, p[q + "norm2.weight"], p[q + "norm2.bias"], layer.norm2.eps)
            hidden = torch.relu(_linear(a, p[q + "linear1.weight"], p[q + "linear1.bias"]))
            h = h + _linear(hidden, p[q + "linear2.weight"], p[q + "linear2.bias"])
        h = h if self.per_step else h[:, :, -1]
        return _layer_norm(h, p["norm.weight"], p["norm.bias"], template.norm.eps)


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
