"""Training throughput in seed-steps per second: the seed-batched engine, one cell at a time, a plain loop.

    python benchmarks/engine.py                 # S = 1, 10, 100; every architecture; every device present
    python benchmarks/engine.py --quick         # S = 1, 10 and fewer steps (a minute or two)
    python benchmarks/engine.py --seeds 3,10 --archs "rnn tanh,lstm" --threads 1

The recall task at T=100 (8 classes), hidden 64 (transformer 32), batch 64, Adam 3e-3, clipping at
1.0, as in the battery. Each measurement times training steps only (data, forward, backward,
clipping, optimiser; no evaluation or probes):
  batched     S members as one StackedModel (training._StackedTrainer, what run_group uses)
  one-by-one  run_cell's training loop for one seed (training._FusedTrainer): fused kernels where they exist
  plain       a hand-written PyTorch loop of the same shape (nn.RNN/LSTM/GRU or nn.TransformerEncoder,
              a Python step for activations without a fused kernel)
The three run interleaved, round after round, so that other load on the machine hits them alike;
compare ratios, not absolute rates, on a shared machine.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from vgreport.specs import CellSpec, ModelSpec, ProbeSpec, TaskSpec, TrainSpec
from vgreport.tasks import make_batch
from vgreport.training import _FusedTrainer, _Member, _StackedTrainer

ARCHS = {
    "rnn tanh": {"arch": "rnn", "activation": "tanh"},
    "rnn sigmoid": {"arch": "rnn", "activation": "sigmoid"},
    "rnn identity": {"arch": "rnn", "activation": "identity"},
    "lstm": {"arch": "lstm"},
    "gru": {"arch": "gru"},
    "transformer": {"arch": "transformer", "hidden": 32, "heads": 2},
}
LENGTH, HIDDEN, BATCH, CLASSES = 100, 64, 64, 8


def _cell(model: dict, seed: int) -> CellSpec:
    return CellSpec(experiment="bench", variant="base", seed=seed, model=ModelSpec(**{"hidden": HIDDEN, **model}),
                    task=TaskSpec(name="recall", length=LENGTH, classes=CLASSES),
                    train=TrainSpec(steps=1000, batch=BATCH), probe=ProbeSpec())


def _engine_rate(model: dict, seeds: int, device: str, steps: int, batched: bool) -> float:
    """Seed-steps/s of the project's own training step for `seeds` members (batched) or one seed."""
    members = [_Member(_cell(model, seed)) for seed in range(seeds if batched else 1)]
    trainer = (_StackedTrainer if batched else _FusedTrainer)(members, device)
    task = members[0].cell.task

    def step():
        trainer.step([make_batch(task, BATCH, m.g_train) for m in members])

    step()  # warm-up: allocations, kernel selection
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return len(members) * steps / (time.perf_counter() - started)


class _PlainRNN(nn.Module):
    """What a user would write: the fused module where PyTorch has one, else a Python loop over time."""

    def __init__(self, model: dict):
        super().__init__()
        arch, self.activation = model["arch"], model.get("activation", "tanh")
        hidden = model.get("hidden", HIDDEN)
        if arch == "transformer":
            self.embed = nn.Linear(CLASSES, hidden)
            layer = nn.TransformerEncoderLayer(hidden, model["heads"], 2 * hidden, dropout=0.0, batch_first=True,
                                               norm_first=True)
            self.body = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        elif arch == "rnn" and self.activation in ("sigmoid", "identity"):
            self.cell = nn.Linear(CLASSES + hidden, hidden)
        else:
            self.body = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[arch](CLASSES, hidden, batch_first=True)
        self.arch, self.head = arch, nn.Linear(hidden, CLASSES)

    def forward(self, x):
        if self.arch == "transformer":
            mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1], device=x.device)
            return self.head(self.body(self.embed(x), mask=mask, is_causal=True)[:, -1])
        if hasattr(self, "cell"):
            f = torch.sigmoid if self.activation == "sigmoid" else (lambda a: a)
            h = x.new_zeros(x.shape[0], self.head.in_features)
            for x_t in x.unbind(1):
                h = f(self.cell(torch.cat([x_t, h], dim=1)))
            return self.head(h)
        return self.head(self.body(x)[0][:, -1])


def _plain_rate(model: dict, device: str, steps: int) -> float:
    torch.manual_seed(0)
    net = _PlainRNN(model).to(device)
    optimiser = torch.optim.Adam(net.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(1)

    def step():
        tokens = torch.randint(0, CLASSES, (BATCH, LENGTH), generator=generator)
        x = nn.functional.one_hot(tokens, CLASSES).float().to(device)
        loss = nn.functional.cross_entropy(net(x), tokens[:, 0].to(device))
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimiser.step()
        loss.item()

    step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="S = 1, 10 only and fewer steps")
    parser.add_argument("--seeds", help="comma-separated group sizes S (default 1,10,100; quick 1,10)")
    parser.add_argument("--archs", help=f"comma-separated subset of: {', '.join(ARCHS)}")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds per measurement (default 3; quick 2)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as one runner worker)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sizes = [int(s) for s in (args.seeds or ("1,10" if args.quick else "1,10,100")).split(",")]
    archs = [a.strip() for a in args.archs.split(",")] if args.archs else list(ARCHS)
    unknown = [a for a in archs if a not in ARCHS]
    if unknown:
        parser.error(f"unknown architecture {unknown[0]!r}; expected one of {', '.join(ARCHS)}")
    rounds = args.rounds or (2 if args.quick else 3)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {args.threads} thread(s); T={LENGTH}, H={HIDDEN} (transformer 32), "
          f"B={BATCH}; seed-steps/s (median of {rounds} interleaved rounds)")
    print(f"{'device':<6} {'architecture':<13} {'S':>4} {'batched':>9} {'one-by-one':>10} {'plain':>8}"
          f" {'batched/one':>11} {'batched/plain':>13} {'one/plain':>9}")
    for device in devices:
        for S in sizes:
            for name in archs:
                model = ARCHS[name]
                steps = max(2, (4 if args.quick else 10) // max(1, S // 10)) if device == "cpu" else 20
                rates = {"batched": [], "one": [], "plain": []}
                for _ in range(rounds):
                    rates["batched"].append(_engine_rate(model, S, device, steps, batched=True))
                    rates["one"].append(_engine_rate(model, 1, device, max(steps, 4), batched=False))
                    rates["plain"].append(_plain_rate(model, device, max(steps, 4)))
                b, o, p = (statistics.median(v) for v in rates.values())
                print(f"{device:<6} {name:<13} {S:>4} {b:>9.1f} {o:>10.1f} {p:>8.1f} {b / o:>11.2f} {b / p:>13.2f}"
                      f" {o / p:>9.2f}", flush=True)


if __name__ == "__main__":
    main()
