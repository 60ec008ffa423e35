"""The recurrent layers of S independent members at once, with hand-written backpropagation through time.

`recurrent_layer` takes stacked weights (member first: w_ih (S, G*H, I), w_hh (S, G*H, H), biases
(S, G*H)) and inputs (S, B, T, I), and returns every hidden state, (S, T, B, H). The recurrence
itself is an autograd Function: its forward pass loops over time without building a graph and
saves only what the backward pass needs; its backward pass is explicit BPTT, one batched matrix
product per step. S = 1 is a single model. Member s only ever meets member s's weights and data,
so the members stay independent (a NaN in one never reaches another).

Why by hand: autograd over a Python time loop records several nodes per step, and `x[:, t]` on a
tensor that needs grad fills a full-size zero tensor per step in backward. Here each step is a few
kernels, and what does not depend on the recurrence (gate derivatives, the weight gradient) is
computed once over all steps. Tests check each Function against autograd with gradcheck (float64).
"""
from __future__ import annotations

import torch

__all__ = ["recurrent_layer", "GATES", "RNN_ACTIVATIONS"]

GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # blocks of H rows in the stacked weights
RNN_ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")


def _weight_grad(grad_pre: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """sum_t grad_pre_t^T h_{t-1} per member (h_{-1} = 0): (S, G*H, H), one batched product."""
    S, T, B, GH = grad_pre.shape
    if T == 1:
        return grad_pre.new_zeros(S, GH, states.shape[-1])
    return torch.bmm(grad_pre[:, 1:].reshape(S, (T - 1) * B, GH).transpose(1, 2),
                     states[:, :-1].reshape(S, (T - 1) * B, -1))


class _RNN(torch.autograd.Function):
    """h_t = f(xp_t + h_{t-1} W_hh^T), f one of RNN_ACTIVATIONS; xp holds both biases."""

    @staticmethod
    def forward(ctx, xp, w_hh, activation: str):
        S, T, B, H = xp.shape
        states = xp.new_empty(S, T, B, H)
        w_t = w_hh.transpose(1, 2)
        h = xp.new_zeros(S, B, H)
        for t in range(T):
            h_new = states[:, t]
            torch.baddbmm(xp[:, t], h, w_t, out=h_new)
            if activation == "tanh":
                h_new.tanh_()
            elif activation == "sigmoid":
                h_new.sigmoid_()
            elif activation == "relu":
                h_new.relu_()
            h = h_new
        ctx.activation = activation
        ctx.save_for_backward(w_hh, states)
        return states

    @staticmethod
    def backward(ctx, grad_states):
        w_hh, states = ctx.saved_tensors
        # f'(a_t) read off h_t = f(a_t), for all steps at once
        derivative = {"tanh": lambda h: 1 - h * h, "sigmoid": lambda h: h * (1 - h),
                      "relu": lambda h: (h > 0).to(h.dtype), "identity": lambda h: None}[ctx.activation](states)
        T = states.shape[1]
        grad_pre = torch.empty_like(states)
        carried = None  # dL/dh_t through h_{t+1}
        for t in range(T - 1, -1, -1):
            g = grad_pre[:, t]
            if carried is None:
                g.copy_(grad_states[:, t])
            else:
                torch.add(grad_states[:, t], carried, out=g)
            if derivative is not None:
                g.mul_(derivative[:, t])
            if t:
                carried = torch.bmm(g, w_hh)
        return grad_pre, _weight_grad(grad_pre, states), None


class _LSTM(torch.autograd.Function):
    """PyTorch's LSTM (gate order input, forget, cell, output): c_t = f c_{t-1} + i g, h_t = o tanh(c_t)."""

    @staticmethod
    def forward(ctx, xp, w_hh):
        S, T, B, H4 = xp.shape
        H = H4 // 4
        gates = xp.new_empty(S, T, B, H4)  # activated: sigmoid(i, f, o), tanh(g)
        cells = xp.new_empty(S, T, B, H)
        states = xp.new_empty(S, T, B, H)
        w_t = w_hh.transpose(1, 2)
        h = xp.new_zeros(S, B, H)
        c = xp.new_zeros(S, B, H)
        tanh_c = xp.new_empty(S, B, H)
        for t in range(T):
            act = gates[:, t]
            torch.baddbmm(xp[:, t], h, w_t, out=act)
            act.sigmoid_()  # the cell block is overwritten next, from the pre-activation xp + h W^T
            g = act[..., 2 * H:3 * H]
            torch.baddbmm(xp[:, t, :, 2 * H:3 * H], h, w_t[..., 2 * H:3 * H], out=g)
            g.tanh_()
            i, f, o = act[..., :H], act[..., H:2 * H], act[..., 3 * H:]
            c_new = cells[:, t]
            torch.mul(f, c, out=c_new)
            c_new.addcmul_(i, g)
            c = c_new
            torch.tanh(c, out=tanh_c)
            h = states[:, t]
            torch.mul(o, tanh_c, out=h)
        ctx.save_for_backward(w_hh, gates, cells, states)
        return states

    @staticmethod
    def backward(ctx, grad_states):
        w_hh, gates, cells, states = ctx.saved_tensors
        S, T, B, H = states.shape
        i, f, g, o = gates.chunk(4, dim=-1)
        tanh_c = torch.tanh(cells)
        dh_to_dc = o * (1 - tanh_c * tanh_c)
        # Per step: dz = [dc g i(1-i), dc c_{t-1} f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)]. The factors
        # do not depend on the recurrence: compute them over all steps at once.
        factor = torch.empty_like(gates)
        fi, ff, fg, fo = factor.chunk(4, dim=-1)
        torch.mul(g, i * (1 - i), out=fi)
        torch.mul(f, 1 - f, out=ff)
        ff[:, 1:].mul_(cells[:, :-1])
        ff[:, 0].zero_()
        torch.mul(i, 1 - g * g, out=fg)
        torch.mul(tanh_c, o * (1 - o), out=fo)
        del tanh_c
        grad_pre = torch.empty_like(gates)
        carried_h = carried_c = None
        for t in range(T - 1, -1, -1):
            grad_h = grad_states[:, t] if carried_h is None else grad_states[:, t] + carried_h
            grad_c = grad_h * dh_to_dc[:, t]
            if carried_c is not None:
                grad_c += carried_c
            dz = grad_pre[:, t]
            torch.mul(factor[:, t, :, :3 * H].unflatten(-1, (3, H)), grad_c.unsqueeze(-2),
                      out=dz[..., :3 * H].unflatten(-1, (3, H)))
            torch.mul(fo[:, t], grad_h, out=dz[..., 3 * H:])
            if t:
                carried_c = grad_c * f[:, t]
                carried_h = torch.bmm(dz, w_hh)
        return grad_pre, _weight_grad(grad_pre, states)


class _GRU(torch.autograd.Function):
    """PyTorch's GRU (gate order reset, update, new): n = tanh(xn + r (h W_hn^T + b_hn)), h = (1-z) n + z h."""

    @staticmethod
    def forward(ctx, xp, w_hh, b_hh):
        S, T, B, H3 = xp.shape
        H = H3 // 3
        gates = xp.new_empty(S, T, B, H3)  # r, z, n
        hidden_n = xp.new_empty(S, T, B, H)  # h W_hn^T + b_hn, which r multiplies
        states = xp.new_empty(S, T, B, H)
        w_t, bias = w_hh.transpose(1, 2), b_hh.unsqueeze(1)
        h = xp.new_zeros(S, B, H)
        for t in range(T):
            hh = torch.baddbmm(bias, h, w_t)
            act = gates[:, t]
            torch.add(xp[:, t, :, :2 * H], hh[..., :2 * H], out=act[..., :2 * H])
            act[..., :2 * H].sigmoid_()
            r, z, n = act.chunk(3, dim=-1)
            hidden_n[:, t] = hh[..., 2 * H:]
            torch.addcmul(xp[:, t, :, 2 * H:], r, hh[..., 2 * H:], out=n)
            n.tanh_()
            h_new = states[:, t]
            torch.sub(h, n, out=h_new)
            h_new.mul_(z).add_(n)
            h = h_new
        ctx.save_for_backward(w_hh, gates, hidden_n, states)
        return states

    @staticmethod
    def backward(ctx, grad_states):
        w_hh, gates, hidden_n, states = ctx.saved_tensors
        S, T, B, H = states.shape
        r, z, n = gates.chunk(3, dim=-1)
        # Factors that do not depend on the recurrence, over all steps at once.
        dh_to_dn = (1 - z) * (1 - n * n)  # d(new pre-activation) per dh_t
        dn_to_dr = hidden_n * r * (1 - r)
        dh_to_dz = -n
        dh_to_dz[:, 1:] += states[:, :-1]
        dh_to_dz.mul_(z * (1 - z))
        grad_hh = torch.empty_like(gates)  # per step, dL/d(h W_hh^T + b_hh): r, z, and r times the new part
        grad_n = torch.empty_like(states)  # dL/d(new pre-activation): the input part's gradient
        carried = None
        for t in range(T - 1, -1, -1):
            grad_h = grad_states[:, t] if carried is None else grad_states[:, t] + carried
            gr, gz, gn = grad_hh[:, t].chunk(3, dim=-1)
            dn = grad_n[:, t]
            torch.mul(grad_h, dh_to_dn[:, t], out=dn)
            torch.mul(dn, dn_to_dr[:, t], out=gr)
            torch.mul(grad_h, dh_to_dz[:, t], out=gz)
            torch.mul(dn, r[:, t], out=gn)
            if t:
                carried = torch.baddbmm(grad_h * z[:, t], grad_hh[:, t], w_hh)
        grad_xp = torch.cat([grad_hh[..., :2 * H], grad_n], dim=-1)
        return grad_xp, _weight_grad(grad_hh, states), grad_hh.sum(dim=(1, 2))


def recurrent_layer(arch: str, activation: str, x: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
                    b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """Hidden states (S, T, B, H) of S one-layer RNN / LSTM / GRU members on inputs x (S, B, T, I)."""
    if arch not in GATES:
        raise ValueError(f"unknown recurrent arch {arch!r}; expected one of {tuple(GATES)}")
    if arch == "rnn" and activation not in RNN_ACTIVATIONS:
        raise ValueError(f"unknown RNN activation {activation!r}; expected one of {RNN_ACTIVATIONS}")
    S, B, T, I = x.shape
    # Time-major inside each member, so step t of every member is one (S, B, G*H) slice.
    x_tm = x.transpose(1, 2).reshape(S, T * B, I)
    bias = b_ih if arch == "gru" else b_ih + b_hh  # the GRU's b_hn sits inside the reset product
    xp = torch.baddbmm(bias.unsqueeze(1), x_tm, w_ih.transpose(1, 2)).view(S, T, B, -1)
    if arch == "rnn":
        return _RNN.apply(xp, w_hh, activation)
    if arch == "lstm":
        return _LSTM.apply(xp, w_hh)
    return _GRU.apply(xp, w_hh, b_hh)
