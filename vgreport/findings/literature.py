"""Against the literature: each published outcome next to what this build measured, with the
result (finding or check) that decided it. A comparison, not a verdict: counting it in the
abstract would count the same measurements twice."""
from __future__ import annotations

from dataclasses import dataclass, field

from ..tasks import copy_baseline_nats
from .base import Context, Result, num, of
from .tables import at_chance_given, budget_of, config_outcomes

REFERENCES = {
    "bengio": "Y. Bengio, P. Simard, P. Frasconi. Learning long-term dependencies with gradient descent is difficult. "
              "IEEE Transactions on Neural Networks 5(2):157–166, 1994.",
    "hochreiter1991": "S. Hochreiter. Untersuchungen zu dynamischen neuronalen Netzen. Diploma thesis, Technische "
                      "Universität München, 1991 (in German; the first analysis of vanishing and exploding error signals "
                      "in recurrent networks).",
    "hochreiter": "S. Hochreiter, J. Schmidhuber. Long short-term memory. Neural Computation 9(8):1735–1780, 1997.",
    "gers": "F. A. Gers, J. Schmidhuber, F. Cummins. Learning to forget: continual prediction with LSTM. "
            "Neural Computation 12(10):2451–2471, 2000.",
    "cho": "K. Cho, B. van Merriënboer, C. Gulcehre, D. Bahdanau, F. Bougares, H. Schwenk, Y. Bengio. Learning phrase "
           "representations using RNN encoder–decoder for statistical machine translation. EMNLP 2014.",
    "glorot": "X. Glorot, Y. Bengio. Understanding the difficulty of training deep feedforward neural networks. "
              "AISTATS 2010.",
    "saxe": "A. M. Saxe, J. L. McClelland, S. Ganguli. Exact solutions to the nonlinear dynamics of learning in deep "
            "linear neural networks. ICLR 2014.",
    "goodfellow": "I. Goodfellow, Y. Bengio, A. Courville. Deep Learning, §10.7 The challenge of long-term "
                  "dependencies. MIT Press, 2016.",
    "pascanu": "R. Pascanu, T. Mikolov, Y. Bengio. On the difficulty of training recurrent neural networks. ICML 2013.",
    "le": "Q. V. Le, N. Jaitly, G. E. Hinton. A simple way to initialize recurrent networks of rectified linear units. "
          "arXiv:1504.00941, 2015.",
    "arjovsky": "M. Arjovsky, A. Shah, Y. Bengio. Unitary evolution recurrent neural networks. ICML 2016.",
    "vaswani": "A. Vaswani, N. Shazeer, N. Parmar et al. "
               "Attention is all you need. NIPS 2017.",
    "tallec": "C. Tallec, Y. Ollivier. Can recurrent neural networks warp time? ICLR 2018.",
    "williams": "R. J. Williams, J. Peng. An efficient gradient-based algorithm for on-line training of recurrent "
                "network trajectories. Neural Computation 2(4):490–501, 1990.",
}
MATCHES = ("match", "mismatch", "undetermined", "not measured")
READS = ("copy",)  # experiments that no finding reads, only this comparison (Appendix B says so)


@dataclass
class Literature:
    items: list = field(default_factory=list)       # {key, source, published, ours, match, decided_by}
    references: dict = field(default_factory=lambda: dict(REFERENCES))

    @property
    def counts(self) -> dict:
        return {k: sum(i["match"] == k for i in self.items) for k in MATCHES}


def _state(results: dict[str, Result], rid: str, *keys: str):
    """The states of the named parts of one result (None when absent or undetermined)."""
    result = results.get(rid)
    if result is None:
        return None
    states = [p.state for p in result.parts if p.key in keys]
    if len(states) < len(keys):
        return None
    if any(s is False for s in states):
        return False
    return True if all(s is True for s in states) else None


def _match(state) -> str:
    return {True: "match", False: "mismatch", None: "undetermined"}[state]


def compare(ctx: Context, results: dict[str, Result]) -> Literature:
    out = Literature()
    k2 = results.get("K2")
    out.items.append({"key": "pascanu_bound", "source": "Pascanu, Mikolov & Bengio 2013", "ref": "pascanu",
                      "published": "‖∂L/∂h_k‖ ≤ (γ·σ_max(W_hh))^(T−k)·‖∂L/∂h_T‖ for a plain RNN",
                      "ours": k2.headline if k2 else "no plain-RNN cells in this build", "decided_by": "K2",
                      "match": "not measured" if k2 is None else {"pass": "match", "fail": "mismatch"}.get(
                          k2.verdict, "undetermined")})
    c7 = results.get("C7")
    adding = c7.numbers.adding if c7 is not None and c7.verdict != "inconclusive" and hasattr(c7.numbers, "adding") else {}
    if adding:
        out.items.append({"key": "le_adding", "source": "Le, Jaitly & Hinton 2015 (adding problem)", "ref": "le",
                          "published": "the IRNN solves the adding problem where the tanh RNN fails",
                          "ours": f"at length {adding['length']}: IRNN {of(adding['irnn']['solved'])} seeds solve it, "
                                  f"tanh RNN {of(adding['rnn']['solved'])}",
                          "note": "at this build's CPU budget, not Le et al.'s", "decided_by": "C7",
                          "match": _match(_state(results, "C7", "adding"))})
    else:
        out.items.append({"key": "le_adding", "source": "Le, Jaitly & Hinton 2015 (adding problem)", "ref": "le",
                          "published": "the IRNN solves the adding problem where the tanh RNN fails",
                          "ours": "not in this build", "decided_by": "C7", "match": "not measured"})
    g1 = results.get("G1")
    if g1 is not None and g1.verdict != "inconclusive":
        out.items.append({"key": "tallec_chrono", "source": "Tallec & Ollivier 2018", "ref": "tallec",
                          "published": "chrono initialisation lets an LSTM learn dependencies the standard "
                                       "initialisation misses at long range",
                          "ours": g1.headline, "decided_by": "G1",
                          "match": _match(_state(results, "G1", "chrono_learns", "default_fails"))})
    copy = config_outcomes(ctx, "copy") if ctx.has("copy") else {}
    if copy:
        longest, shortest = max(c.length for c in copy), min(c.length for c in copy)
        rows = [o for c, o in copy.items() if c.length == longest]
        # "stays at the baseline" only beside its control, the same model at the shortest delay rising above it
        controls = {o.config.variant: o for c, o in copy.items() if c.length == shortest and shortest < longest}
        frame = ctx.part("copy")
        loss = frame[(frame["metric"] == "eval_loss") & (frame["length"] == longest)]
        last = loss.sort_values("step").groupby(["variant", "seed"])["value"].last()
        baseline = copy_baseline_nats(longest)
        fails = [at_chance_given(o, controls.get(o.config.variant)) for o in rows]
        steps = budget_of(ctx, "copy")
        state = True if fails and all(f is True for f in fails) else False if any(f is False for f in fails) else None
        out.items.append({"key": "arjovsky_copy", "source": "Arjovsky, Shah & Bengio 2016 (copy task)", "ref": "arjovsky",
                          "published": f"an LSTM or RNN stays at the memoryless baseline 10·log 8/(T+20) at long delays "
                                       f"({num(baseline)} nats per step at T = {longest})",
                          "ours": "; ".join(f"{o.label}: {of(o.at_chance)} seeds at the baseline at delay {longest}"
                                            + (f", its control at delay {shortest} above it in "
                                               f"{of(controls[o.config.variant].above)}"
                                               if o.config.variant in controls else ", no control run") for o in rows)
                                  + (f"; held-out loss {num(float(last.mean()))} nats per step" if len(last) else "")
                                  + ("; without a control that learned, the budget may be what failed"
                                     if any(controls.get(o.config.variant) is None
                                            or controls[o.config.variant].above_chance is not True for o in rows)
                                     else ""),
                          "steps": steps, "decided_by": None, "match": _match(state)})
    else:
        out.items.append({"key": "arjovsky_copy", "source": "Arjovsky, Shah & Bengio 2016 (copy task)", "ref": "arjovsky",
                          "published": "an LSTM or RNN stays at the memoryless baseline at long delays",
                          "ours": "not in this build", "decided_by": None, "match": "not measured"})
    return out
