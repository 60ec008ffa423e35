"""The recurrent layers of S independent members at once, with hand-written backpropagation through time.

`recurrent_layer` takes stacked weights (member first: w_ih (S, G*H, I), w_hh (S, G*H, H), biases
(S, G*H)) and inputs (S, B, T, I), and returns every hidden state time-major, (T, S, B, H), so that
step t of all members is one contiguous block (or only the last state, (S, B, H)). The recurrence
itself is an autograd Function: its forward pass loops over time without building a graph and
saves only what the backward pass needs; its backward pass is explicit BPTT, one batched matrix
product per step. S = 1 is a single model. Member s only ever meets member s's weights and data,
so the members stay independent (a NaN in one never reaches another).

Why by hand: autograd over a Python time loop records several nodes per step, and `x[:, t]` on a
tensor that needs grad fills a full-size zero tensor per step in backward. Here each step is a few
kernels (the input part of every step is computed once and the recurrent product added to it in
place), and what does not depend on the recurrence (gate derivatives, the weight gradient) is
computed once over all steps. On the CPU tanh is computed through the sigmoid (`_tanh_`), several
times faster than PyTorch's CPU tanh. Tests check each Function against autograd with gradcheck
(float64).
"""
from __future__ import annotations

import torch

__all__ = ["recurrent_layer", "GATES", "RNN_ACTIVATIONS"]

GATES = {"rnn": 1, "lstm": 4, "gru": 3}  # blocks of H rows in the stacked weights
RNN_ACTIVATIONS = ("tanh", "relu", "sigmoid", "identity")


def _tanh_(x: torch.Tensor) -> torch.Tensor:
    """tanh in place. On the CPU as 2·sigmoid(2x) − 1: PyTorch's CPU tanh costs about six sigmoids,
    and this is within 2e-7 of tanh (absolute; |tanh| ≤ 1), the rounding error the matrix product
    before it already carries. Elsewhere PyTorch's own."""
    if x.device.type != "cpu":
        return x.tanh_()
    return x.mul_(2).sigmoid_().mul_(2).sub_(1)


def _weight_gradient(grad_pre: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """dL/dW_hh = sum over t >= 1 of grad_pre_t^T h_{t-1}, per member: one product over all steps
    (steps and batch as one long inner dimension) instead of one small product per step.
    grad_pre (S, T, B, G*H) member-major, states (T, S, B, H) time-major."""
    S, T, B, GH = grad_pre.shape
    previous = states[:-1].transpose(0, 1).reshape(S, (T - 1) * B, -1)  # h_{t-1}, member-major
    return torch.bmm(grad_pre[:, 1:].reshape(S, (T - 1) * B, GH).transpose(1, 2), previous)


def _incoming(grad_states, carried, grad_last, t: int, T: int) -> torch.Tensor:
    """dL/dh_t: from the output at step t (if the states are used), from step t+1 (carried) and,
    at the last step, from the last-state output (if used)."""
    grad = carried if t < T - 1 else grad_last
    if grad_states is not None:
        grad = grad_states[t] if grad is None else grad_states[t] + grad
    return grad


class _RNN(torch.autograd.Function):
    """h_t = f(xp_t + h_{t-1} W_hh^T), f one of RNN_ACTIVATIONS; xp holds both biases."""

    @staticmethod
    def forward(ctx, xp, w_hh, activation: str):
        S, T, B, H = xp.shape
        states = xp.transpose(0, 1).clone(memory_format=torch.contiguous_format)  # time-major: step t of every member is contiguous
        w_t = w_hh.transpose(1, 2)
        for t in range(T):
            h = states[t]  # xp_t, plus h_{t-1} W_hh^T after the first step
            if t:
                h.baddbmm_(states[t - 1], w_t)
            if activation == "tanh":
                _tanh_(h)
            elif activation == "sigmoid":
                h.sigmoid_()
            elif activation == "relu":
                h.relu_()
        ctx.activation = activation
        ctx.set_materialize_grads(False)  # an unused output gets no zero-filled gradient
        ctx.save_for_backward(w_hh, states)
        return states, states[-1].clone()

    @staticmethod
    def backward(ctx, grad_states, grad_last):
        if grad_states is None and grad_last is None:
            return None, None, None
        w_hh, states = ctx.saved_tensors
        T, S, B, H = states.shape
        # grad_pre (member-major, xp's layout) starts as f'(a_t), read off h_t = f(a_t) for all steps
        # at once; the loop scales it in place by dL/dh_t.
        grad_pre = states.new_empty(S, T, B, H)
        by_time = grad_pre.transpose(0, 1)
        if ctx.activation == "tanh":
            torch.mul(states, states, out=by_time).neg_().add_(1)
        elif ctx.activation == "sigmoid":
            torch.sub(1, states, out=by_time).mul_(states)
        elif ctx.activation == "relu":
            by_time.copy_(states > 0)
        carried = None
        for t in range(T - 1, -1, -1):
            g = grad_pre[:, t]
            incoming = _incoming(grad_states, carried, grad_last, t, T)
            if ctx.activation == "identity":
                g.copy_(incoming)
            else:
                g.mul_(incoming)
            if t:
                carried = torch.bmm(g, w_hh)
        return grad_pre, _weight_gradient(grad_pre, states), None


class _LSTM(torch.autograd.Function):
    """PyTorch's LSTM (gate order input, forget, cell, output): c_t = f c_{t-1} + i g, h_t = o tanh(c_t)."""

    @staticmethod
    def forward(ctx, xp, w_hh):
        S, T, B, H4 = xp.shape
        H = H4 // 4
        gates = xp.transpose(0, 1).clone(memory_format=torch.contiguous_format)  # time-major, activated in place
        cells = xp.new_empty(T, S, B, H)
        states = xp.new_empty(T, S, B, H)
        w_t = w_hh.transpose(1, 2)
        tanh_c = xp.new_empty(S, B, H)
        for t in range(T):
            act = gates[t]
            if t:
                act.baddbmm_(states[t - 1], w_t)
            act[..., :2 * H].sigmoid_()
            _tanh_(act[..., 2 * H:3 * H])
            act[..., 3 * H:].sigmoid_()
            i, f, g, o = act.chunk(4, dim=-1)
            c = torch.mul(i, g, out=cells[t])
            if t:  # c_{-1} = 0
                c.addcmul_(f, cells[t - 1])
            _tanh_(tanh_c.copy_(c))
            torch.mul(o, tanh_c, out=states[t])
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(w_hh, gates, cells, states)
        return states, states[-1].clone()

    @staticmethod
    def backward(ctx, grad_states, grad_last):
        if grad_states is None and grad_last is None:
            return None, None
        w_hh, gates, cells, states = ctx.saved_tensors
        T, S, B, H = states.shape
        i, f, g, o = gates.chunk(4, dim=-1)
        # Per step dz = [dc g i(1-i), dc c_{t-1} f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)]. The factors do
        # not depend on the recurrence: compute them for all steps at once into grad_pre (member-major,
        # xp's layout), which the loop then scales in place by dc or dh.
        grad_pre = gates.new_empty(S, T, B, 4 * H)
        fi, ff, fg, fo = grad_pre.transpose(0, 1).chunk(4, dim=-1)
        tanh_c = _tanh_(cells.clone())
        torch.sub(1, o, out=fo).mul_(o).mul_(tanh_c)
        torch.sub(1, i, out=fi).mul_(i).mul_(g)
        torch.sub(1, f, out=ff).mul_(f)
        ff[1:].mul_(cells[:-1])
        ff[0].zero_()
        torch.mul(g, g, out=fg).neg_().add_(1).mul_(i)
        dh_to_dc = tanh_c.mul_(tanh_c).neg_().add_(1).mul_(o)  # o (1 - tanh(c)^2), in tanh_c's place
        carried_h = carried_c = None
        for t in range(T - 1, -1, -1):
            grad_h = _incoming(grad_states, carried_h, grad_last, t, T)
            grad_c = grad_h * dh_to_dc[t]
            if carried_c is not None:
                grad_c += carried_c
            dz = grad_pre[:, t]
            dz[..., :3 * H].unflatten(-1, (3, H)).mul_(grad_c.unsqueeze(-2))
            dz[..., 3 * H:].mul_(grad_h)
            if t:
                carried_c = grad_c.mul_(f[t])
                carried_h = torch.bmm(dz, w_hh)
        return grad_pre, _weight_gradient(grad_pre, states)


class _GRU(torch.autograd.Function):
    """PyTorch's GRU (gate order reset, update, new): n = tanh(xn + r (h W_hn^T + b_hn)), h = (1-z) n + z h."""

    @staticmethod
    def forward(ctx, xp, w_hh, b_hh):
        S, T, B, H3 = xp.shape
        H = H3 // 3
        gates = xp.new_empty(T, S, B, H3)  # r, z, n
        hidden_n = xp.new_empty(T, S, B, H)  # h W_hn^T + b_hn, which r multiplies
        states = xp.new_empty(T, S, B, H)
        w_t, bias = w_hh.transpose(1, 2), b_hh.unsqueeze(1)
        h = xp.new_zeros(S, B, H)
        hh = xp.new_empty(S, B, H3)
        for t in range(T):
            torch.baddbmm(bias, h, w_t, out=hh)
            act = gates[t]
            torch.add(xp[:, t, :, :2 * H], hh[..., :2 * H], out=act[..., :2 * H]).sigmoid_()
            r, z, n = act.chunk(3, dim=-1)
            hidden_n[t] = hh[..., 2 * H:]
            _tanh_(torch.addcmul(xp[:, t, :, 2 * H:], r, hidden_n[t], out=n))
            h = torch.sub(h, n, out=states[t]).mul_(z).add_(n)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(w_hh, gates, hidden_n, states)
        return states, states[-1].clone()

    @staticmethod
    def backward(ctx, grad_states, grad_last):
        if grad_states is None and grad_last is None:
            return None, None, None
        w_hh, gates, hidden_n, states = ctx.saved_tensors
        T, S, B, H = states.shape
        r, z, n = gates.chunk(3, dim=-1)
        # Factors that do not depend on the recurrence, over all steps at once.
        dh_to_dn = (1 - z).mul_(1 - n * n)  # d(new pre-activation) per dh_t
        dn_to_dr = (1 - r).mul_(r).mul_(hidden_n)
        dh_to_dz = -n
        dh_to_dz[1:] += states[:-1]
        dh_to_dz.mul_(z * (1 - z))
        grad_hh = gates.new_empty(S, T, B, 3 * H)  # dL/d(h W_hh^T + b_hh) per step: r, z, r times the new part
        grad_n = gates.new_empty(S, T, B, H)  # dL/d(new pre-activation): the input part's gradient
        carried = None
        for t in range(T - 1, -1, -1):
            grad_h = _incoming(grad_states, carried, grad_last, t, T)
            step = grad_hh[:, t]
            gr, gz, gn = step.chunk(3, dim=-1)
            dn = torch.mul(grad_h, dh_to_dn[t], out=grad_n[:, t])
            torch.mul(dn, dn_to_dr[t], out=gr)
            torch.mul(grad_h, dh_to_dz[t], out=gz)
            torch.mul(dn, r[t], out=gn)
            if t:
                carried = torch.baddbmm(grad_h * z[t], step, w_hh)
        grad_xp = torch.cat([grad_hh[..., :2 * H], grad_n], dim=-1)
        return grad_xp, _weight_gradient(grad_hh, states), grad_hh.sum(dim=(1, 2))


def recurrent_layer(arch: str, activation: str, x: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
                    b_ih: torch.Tensor, b_hh: torch.Tensor, every_step: bool = True) -> torch.Tensor:
    """Hidden states of S one-layer RNN / LSTM / GRU members on inputs x (S, B, T, I): every step,
    time-major (T, S, B, H), or with every_step=False only the last, (S, B, H)."""
    if arch not in GATES:
        raise ValueError(f"unknown recurrent arch {arch!r}; expected one of {tuple(GATES)}")
    if arch == "rnn" and activation not in RNN_ACTIVATIONS:
        raise ValueError(f"unknown RNN activation {activation!r}; expected one of {RNN_ACTIVATIONS}")
    S, B, T, I = x.shape  # noqa: E741 (members, batch, time, inputs: the shapes' names above)
    # The input part of every step, (S, T, B, G*H): one batched product for all steps.
    x_tm = x.transpose(1, 2).reshape(S, T * B, I)
    bias = b_ih if arch == "gru" else b_ih + b_hh  # the GRU's b_hn sits inside the reset product
    xp = torch.baddbmm(bias.unsqueeze(1), x_tm, w_ih.transpose(1, 2)).view(S, T, B, -1)
    if arch == "rnn":
        states, last = _RNN.apply(xp, w_hh, activation)
    elif arch == "lstm":
        states, last = _LSTM.apply(xp, w_hh)
    else:
        states, last = _GRU.apply(xp, w_hh, b_hh)
    return states if every_step else last
