"""Adding a finding is a one-folder change (docs/findings.md): a copy of the project gets one more
folder, vgreport/findings/x9_probe/, and nothing else; the registry, the example-world tests, the prose
tests, the exercise tests, findings.json and the rendered report all pick the new finding up."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import vgreport

ROOT = Path(vgreport.__file__).resolve().parent.parent
COPIED = ("vgreport", "templates", "experiments", "tests", "pyproject.toml")

FOLDER = {
    "__init__.py": '"""X9: a throwaway finding (tests/test_new_finding.py)."""\n',
    "finding.py": '''"""Finding X9: the tanh RNN's gradient at initialisation shrinks with distance."""
from __future__ import annotations

from dataclasses import dataclass

from ..base import Context, Outcome, Part, Spec, num
from ..stats import below
from ..tables import at_longest, rates

SPEC = Spec(id="X9", kind="finding", title="The tanh RNN's gradient shrinks with distance",
            claim="At initialisation the tanh RNN's gradient shrinks with the distance in time.",
            criterion="The 95% interval of the tanh RNN's per-step rate in 'architecture' lies below 0.",
            needs={"architecture": ("rnn_tanh", "gru")})


@dataclass
class Numbers:
    rate: object = None
    length: int = 0


def decide(ctx: Context) -> Outcome:
    ctx.require(["architecture"])
    length, by_variant = at_longest(rates(ctx, "architecture"))
    rate, gru = by_variant["rnn_tanh"]["rate"], by_variant["gru"]["rate"]
    parts = [Part("shrinks", "the tanh RNN's gradient shrinks with distance", below(rate, 0.0), training=False,
                  detail=f"rate {num(rate.mean)} per step at length {length}"),
             Part("gru", "the GRU's gradient shrinks with distance too", below(gru, 0.0), training=False,
                  core=False, detail=f"rate {num(gru.mean)} per step")]
    return Outcome(parts, Numbers(rate, length), f"The tanh RNN's rate is {num(rate.mean)} per step",
                   parts[0].detail, ["architecture"])
''',
    "prose.html.j2": '''{% from "macros.html.j2" import say, say_verdict, questions %}
<p>At length {{ n.length }} the tanh RNN's gradient at initialisation changes by {{ n.rate.mean | fmt }} per step:
{% call say(f, 'shrinks', 'holds') %}it shrinks with the distance.{% endcall %}
{% call say(f, 'shrinks', 'refuted') %}it grows with the distance.{% endcall %}
{% call say(f, 'shrinks', 'undetermined') %}whether it shrinks is not decided.{% endcall %}
The GRU's gradient {% call say(f, 'gru', 'holds') %}shrinks too.{% endcall %}
{% call say(f, 'gru', 'refuted') %}does not shrink.{% endcall %}
{% call say(f, 'gru', 'undetermined') %}may or may not shrink.{% endcall %}</p>
<div class="takeaway"><h3>What to take away</h3><p>{% call say_verdict(f, 'supported') %}The probe finds the
decay.{% endcall %}
{% call say_verdict(f, 'supported so far', 'partly refuted', 'refuted', 'inconclusive') %}The probe does not find
it here.{% endcall %}</p></div>
{% call(i) questions(f) %}Expect the rate to stay below 0 ({{ n.rate.mean | fmt }} in this build).{% endcall %}
''',
    "examples.py": '''"""X9's example worlds."""
from __future__ import annotations

from ..synthetic import Example

EXAMPLES = [
    Example("supporting", "supported"),
    Example("refuting", "refuted", {"architecture": {"rates": {"rnn_tanh": 0.3}}}, {"shrinks": False, "gru": True}),
    Example("open", "inconclusive", {"architecture": {"rates": {"rnn_tanh": 0.001}}}, {"shrinks": None}),
]
''',
    "exercises.py": '''"""X9's questions."""
from __future__ import annotations

from ..base import Exercise

EXERCISES = (
    Exercise(question="With twice the width, will the tanh RNN's gradient still shrink?", experiment="architecture",
             sets=("model.hidden=128",), field="model.hidden", compare="decay_rate_init of the tanh RNN",
             arms=("variant=rnn_tanh", "variant=transformer"), metric="decay_rate_init", expect="<="),
    Exercise(question="At length 20, will it shrink more slowly per step?", experiment="architecture",
             sets=("task.length=20",), field="task.length", compare="decay_rate_init of the tanh RNN",
             arms=("variant=rnn_tanh", "variant=transformer"), metric="decay_rate_init", expect="<="),
)
''',
}

# Besides every test whose id names X9: the tests that check every registered result as a whole.
WHOLE = ("discovery_finds_every_folder or every_result_has_refuting or every_declared_experiment or "
         "every_finding_has_an_exercise or every_exercise_command_is_accepted")

SHOWS = '''
import json, sys
import vgreport
from vgreport.findings import FINDINGS, evaluate, synthetic
from vgreport.report import document
sys.path.insert(0, "tests")
import helpers
assert vgreport.__file__.startswith(sys.argv[1]), vgreport.__file__
evaluation = evaluate(synthetic.world(), None, with_figures=False)
payload = json.loads(json.dumps(evaluation.to_json(), default=str))
print("findings.json:", [f["id"] for f in payload["findings"]], [f["verdict"] for f in payload["findings"] if f["id"] == "X9"])
page = document.render_html(evaluation, helpers.report_context("instructor"))
print("section:", helpers.section(page, "X9").count("it shrinks with the distance"))
print("summary:", page.count('href="#X9"'), "command:", page.count("vgreport run architecture --profile quick --set model.hidden=128"))
'''


def _copy(to: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, to / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, to / name)


def test_a_new_finding_folder_is_all_a_finding_needs(tmp_path):
    _copy(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    folder = tmp_path / "vgreport" / "findings" / "x9_probe"
    folder.mkdir()
    for name, text in FOLDER.items():
        (folder / name).write_text(text)
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert set(after) - set(before) == {Path("vgreport/findings/x9_probe") / name for name in FOLDER}
    assert set(before) <= set(after)  # nothing else edited, nothing removed

    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    tests = [f"tests/{name}" for name in ("test_findings.py", "test_prose.py", "test_exercises.py")]
    run = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-rN", *tests,
                          "-k", f"X9 or {WHOLE}"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    x9 = [line for line in run.stdout.splitlines() if "X9" in line and "PASSED" in line]
    # its 3 example worlds; one seed; the prose tests on 4 worlds; two exercise commands
    assert len(x9) >= 3 + 1 + 4 + 2, run.stdout[-3000:]
    assert re.search(r"test_discovery_finds_every_folder_in_report_order PASSED", run.stdout)

    shown = subprocess.run([sys.executable, "-c", SHOWS, str(tmp_path)], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300)
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "'X9']" in shown.stdout and "['supported']" in shown.stdout, shown.stdout
    assert "section: 1" in shown.stdout, shown.stdout
    assert re.search(r"summary: [1-9]\d* command: 1", shown.stdout), shown.stdout
