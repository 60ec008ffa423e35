"""Tiny batteries for the tests that build, run or parse: the profiles and the experiment every such
test starts from, written once here, and the comparison of records that ignores what a cell cost."""
from __future__ import annotations

import math
from pathlib import Path

# Metrics that measure the machine, not the network: they differ between two runs of the same cell.
TIMING = {"steps_per_second", "wall_seconds"}


def comparable(records, timing: bool = False) -> list[tuple]:
    """Each record's values as a tuple, NaN made comparable (NaN != NaN); without the timing
    metrics unless `timing`."""
    return [tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in r.values())
            for r in records if timing or r["metric"] not in TIMING]


def profiles(**entries: int | str) -> str:
    """profiles.yaml with the four profiles a battery needs, one seed each unless given: an int is
    a seed count, a string the profile's whole flow mapping ("{seeds: 2, training_seeds: [2, 3]}")."""
    entries = {"smoke": 1, "quick": 1, "standard": 1, "full": 1, **entries}
    return "".join(f"{name}: {value if isinstance(value, str) else '{seeds: %d}' % value}\n"
                   for name, value in entries.items())


TANH_AND_LSTM = {"tanh": "{}", "lstm": "{model: {arch: lstm}}"}


def experiment(name: str = "tiny", title: str = "A tiny RNN", *, hidden: int = 4, length: int = 5,
               train: str = "{steps: 4, eval_every: 2, log_every: 2, eval_size: 16}",
               probe: str | None = "{batch: 4, jacobian_samples: 1}",
               variants: dict[str, str] | None = TANH_AND_LSTM, extra: str = "") -> str:
    """One experiment of an experiments file (a list item), a plain tanh RNN on 3-class recall;
    `extra` adds lines at the end of it (a sweep, profiles)."""
    lines = [f"  - name: {name}", f'    title: "{title}"',
             f"    model: {{arch: rnn, activation: tanh, hidden: {hidden}}}",
             f"    task: {{name: recall, length: {length}, classes: 3}}", f"    train: {train}"]
    if probe is not None:
        lines.append(f"    probe: {probe}")
    if variants:
        lines.append("    variants:")
        lines += [f"      {variant}: {override}" for variant, override in variants.items()]
    return "\n".join(lines) + "\n" + extra


def experiments(*items: str) -> str:
    """An experiments file holding these experiments (default: the tiny one)."""
    return "experiments:\n" + "".join(items or (experiment(),))


# Spec tests spoil this text by replacing parts of it: a battery that parses and builds in seconds.
SPEC_PROFILES = profiles(smoke="{seeds: 1, steps_scale: 0.5, length_cap: 6, set: {model: {hidden: 4}}}",
                         quick=2, standard=3, full=4)
SPEC_EXPERIMENT = experiments(experiment(hidden=8, length=10, train="{steps: 40, eval_every: 10, log_every: 4}",
                                         probe=None))


def write(folder: Path, experiments_file: str | None = None, profiles_file: str | None = None,
          file: str = "length.yaml") -> Path:
    """The battery folder: profiles.yaml and one experiments file (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "profiles.yaml").write_text(profiles() if profiles_file is None else profiles_file)
    (folder / file).write_text(experiments() if experiments_file is None else experiments_file)
    return folder


def one_line(result, code: int) -> str:
    """The single non-blank line a CLI run printed, after checking its exit status and that no
    traceback leaked (the one-line-error rule every refusal follows)."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]
