"""The store and the runner: content-hash keys, atomic cache writes, damaged entries, hits and misses,
the process pool."""
from __future__ import annotations

import math
import stat
import typing

import pytest
from pydantic import ValidationError

from vgreport import store
from vgreport.runner import MissingResults, execute
from vgreport.schema import RECORD_COLUMNS
from vgreport.specs import CellSpec
from vgreport.store import Cache, ReportCache, cell_key
from vgreport.verdicts import VERDICTS

TIMING = {"steps_per_second", "wall_seconds"}
SECTIONS = ("model", "task", "train", "probe")


def _files(root) -> list:
    """Files under root, without the manifest that records them for `clean`."""
    own = {store.Manifest.NAME, store.Manifest.LOCK}
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name not in own)


def _records(*values: float) -> list[dict]:
    """Records of the documented shape, one per value."""
    return [{**{c: "" for c in RECORD_COLUMNS}, "metric": "m", "value": v} for v in values]


def _values(records) -> list[tuple]:
    """Everything but the cost of the cell."""
    return _exact([r for r in records if r["metric"] not in TIMING])


def _exact(records) -> list[tuple]:
    """All values, timing included, with NaN made comparable (NaN != NaN)."""
    return [tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in r.values()) for r in records]


def _candidates(value, annotation) -> list:
    """Other values a field could take: its other literals, or nearby numbers (and None if optional)."""
    if typing.get_origin(annotation) is typing.Literal:
        return [v for v in typing.get_args(annotation) if v != value]
    if isinstance(value, str):  # model.arch: another registered architecture
        from vgreport.architectures import ARCHITECTURES
        return [v for v in ARCHITECTURES if v != value]
    numbers = [value + 1, value * 2, value / 2] if value is not None else [1, 1.0]  # an int or a float field
    numbers = list(dict.fromkeys(numbers))
    return numbers + ([None] if type(None) in typing.get_args(annotation) and value is not None else [])


def _variations(cell: CellSpec):
    """(label, a valid cell differing from `cell` in one field) for every valid other value of every field."""
    base = cell.model_dump()
    for section in SECTIONS:
        for field, info in type(getattr(cell, section)).model_fields.items():
            found = 0
            for candidate in _candidates(base[section][field], info.annotation):
                try:
                    changed = CellSpec(**{**base, section: {**base[section], field: candidate}})
                except ValidationError:
                    continue
                if getattr(getattr(changed, section), field) != base[section][field]:
                    found += 1
                    yield f"{section}.{field}={candidate!r}", changed
            assert found, f"found no valid other value for {section}.{field}"
    yield "seed", CellSpec(**{**base, "seed": cell.seed + 1})


def test_cell_key_changes_when_any_spec_field_changes(tiny_cell):
    """Changing any one field of model/task/train/probe, or the seed, gives a new key."""
    cell = tiny_cell()
    keys = {"base": cell_key(cell)}
    for name, changed in _variations(cell):
        keys[name] = cell_key(changed)
    assert len(keys) > 40 and "train.clip=None" in keys
    assert len(set(keys.values())) == len(keys), "two configurations share a key"


def test_cell_key_is_stable_for_the_same_configuration(tiny_cell):
    """Rebuilding a cell, spelling out defaults or renaming its experiment/variant keeps the key."""
    cell = tiny_cell()
    key = cell_key(cell)
    assert cell_key(CellSpec(**cell.model_dump())) == key
    assert cell_key(CellSpec(**{**cell.model_dump(), "experiment": "other", "variant": "x",
                                "sweep_value": 6.0})) == key
    explicit = tiny_cell(model={"arch": "rnn", "activation": "tanh", "init": "default", "gain": 1.0})
    assert cell_key(explicit) == key
    assert len(key) == 64 and int(key, 16) >= 0


def test_cell_key_changes_with_the_code_and_the_device(tiny_cell, monkeypatch):
    """Another experiment-code version or device gives a new key."""
    cell = tiny_cell()
    key = cell_key(cell)
    assert cell_key(cell, device="cuda") != key
    monkeypatch.setattr(store, "training_code", lambda: "edited")
    assert cell_key(cell) != key


def test_cache_put_writes_one_readable_file_and_no_temporary(tmp_path, tiny_cell):
    """put stores the records under root/ab/<key>.json, world-readable, leaving no temporary file."""
    cache, cell = Cache(tmp_path), tiny_cell()
    records = _records(1.5)
    stamp = cache.put("abcdef", cell, records)
    assert _files(tmp_path) == [tmp_path / "ab" / "abcdef.json"]
    assert stat.S_IMODE((tmp_path / "ab" / "abcdef.json").stat().st_mode) == 0o644
    entry = cache.entry("abcdef")
    assert entry["records"] == records
    assert (entry["computed_at"], entry["sha256"]) == (stamp["computed_at"], stamp["sha256"])
    assert CellSpec(**entry["cell"]) == cell
    assert cache.get("abcdef") == records and cache.get("abcdeg") is None


def test_failing_cache_write_leaves_nothing_behind(tmp_path, tiny_cell, monkeypatch):
    """If the final rename fails, the temporary file is removed and an existing entry is untouched."""
    cache, cell = Cache(tmp_path), tiny_cell()
    cache.put("abcdef", cell, _records(1.0))

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(store.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        cache.put("abcdef", cell, _records(2.0))
    with pytest.raises(OSError, match="disk full"):
        cache.put("123456", cell, _records(3.0))
    assert _files(tmp_path) == [tmp_path / "ab" / "abcdef.json"]
    assert cache.get("abcdef") == _records(1.0)


def test_ctrl_c_just_after_the_temporary_file_is_created_leaves_nothing_behind(tmp_path, monkeypatch):
    """A KeyboardInterrupt the moment the temporary file exists (before any write: the window that
    tempfile.mkstemp leaves, which a Ctrl-C during a burst of cache writes hit) removes it."""
    real_open = store.os.open

    def open_then_interrupt(*args, **kwargs):
        real_open(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(store.os, "open", open_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        store.write_atomic(tmp_path / "entry.json", lambda tmp: tmp.write_text("{}"))
    assert list(tmp_path.iterdir()) == []


def test_unserialisable_records_leave_nothing_behind(tmp_path, tiny_cell):
    """Records that JSON cannot hold raise before anything is written."""
    with pytest.raises(TypeError):
        Cache(tmp_path).put("abcdef", tiny_cell(), [{**_records(1.0)[0], "value": object()}])
    assert _files(tmp_path) == []


@pytest.mark.parametrize("content", [b"", b'{"cell": {}, "rec', b"[1, 2]", b"null", b'{"records": 3}',
                                     b"\xff\xfe\x00garbage"],
                         ids=["empty", "truncated", "list", "null", "records_not_a_list", "binary"])
def test_damaged_cache_entry_is_a_miss_and_is_recomputed(tmp_path, tiny_cell, content):
    """A damaged entry reads as absent, and execute recomputes and rewrites it."""
    cache, cell = Cache(tmp_path), tiny_cell(train={"steps": 2})
    path = cache.path(cell_key(cell))
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    assert cache.get(cell_key(cell)) is None and cache.entry(cell_key(cell)) is None
    records, summary = execute([cell], cache, progress=False)
    assert (summary.computed, summary.cached) == (1, 0)
    assert _exact(cache.get(cell_key(cell))) == _exact(records)


def test_execute_computes_a_miss_once_then_hits(tmp_path, tiny_cell):
    """A first execute computes every cell; a second returns the same records from the cache."""
    cells = [tiny_cell(train={"steps": 2}), tiny_cell(train={"steps": 2}, seed=1)]
    cache = Cache(tmp_path)
    first, summary = execute(cells, cache, progress=False)
    assert (summary.cells, summary.computed, summary.cached) == (2, 2, 0)
    assert len(_files(tmp_path)) == 2
    second, summary = execute(cells, cache, progress=False)
    assert (summary.cells, summary.computed, summary.cached) == (2, 0, 2)
    assert _exact(second) == _exact(first)
    assert [r["seed"] for r in first] == sorted(r["seed"] for r in first)  # in the order of the cells
    assert summary.measured_at == max(cache.entry(cell_key(c))["computed_at"] for c in cells)


def test_identically_configured_cells_share_one_computation(tmp_path, tiny_cell):
    """Two cells differing only in their labels run once; each gets the records under its own name."""
    cells = [tiny_cell(train={"steps": 2}, experiment="a", variant="x"),
             tiny_cell(train={"steps": 2}, experiment="b", variant="y")]
    records, summary = execute(cells, Cache(tmp_path), progress=False)
    assert (summary.computed, summary.cached) == (1, 0)
    assert {(r["experiment"], r["variant"]) for r in records} == {("a", "x"), ("b", "y")}
    half = len(records) // 2
    assert _values([{**r, "experiment": "", "variant": ""} for r in records[:half]]) == \
        _values([{**r, "experiment": "", "variant": ""} for r in records[half:]])
    _, summary = execute(cells[1:], Cache(tmp_path), progress=False)
    assert (summary.computed, summary.cached) == (0, 1)


def test_cache_only_refuses_missing_cells(tmp_path, tiny_cell):
    """With cache_only, a cell not in the cache raises MissingResults instead of running."""
    with pytest.raises(MissingResults, match="1 of 1 cells"):
        execute([tiny_cell()], Cache(tmp_path), progress=False, cache_only=True)
    assert _files(tmp_path) == []


def test_process_pool_gives_the_same_records_as_one_process(tmp_path, tiny_cell):
    """execute with jobs=2 (forkserver workers) returns the records of jobs=1, in the same order."""
    cells = [tiny_cell(train={"steps": 3}), tiny_cell(model={"arch": "gru"}, train={"steps": 3}, seed=1)]
    serial, _ = execute(cells, Cache(tmp_path / "serial"), jobs=1, progress=False)
    pooled, summary = execute(cells, Cache(tmp_path / "pooled"), jobs=2, progress=False)
    assert summary.computed == 2
    assert _values(pooled) == _values(serial)
    assert len(_files(tmp_path / "pooled")) == 2


def test_report_cache_keeps_the_most_recently_used_entries(tmp_path):
    """put/get round-trips files and verdicts; beyond `keep` entries the least recently used go."""
    import os
    cache = ReportCache(tmp_path / "cache", keep=2)
    out = tmp_path / "out"
    for i, digest in enumerate(("a" * 64, "b" * 64, "c" * 64)):
        source = tmp_path / f"src{i}" / "report.html"
        source.parent.mkdir()
        source.write_text(f"report {i}")
        cache.put(digest, {"html": source}, {"C1": VERDICTS[i]})
        manifest = cache.root / digest / "manifest.json"
        os.utime(manifest, (1000 + i, 1000 + i))  # distinct, ordered use times
        if i == 1:
            assert cache.get("a" * 64) is not None  # using "a" makes "b" the least recently used
    assert cache.get("b" * 64) is None
    manifest = cache.get("a" * 64)
    assert manifest["verdicts"] == {"C1": VERDICTS[0]}
    written = cache.restore(manifest, "a" * 64, out)
    assert written["html"].read_text() == "report 0"
    cache.put("a" * 64, {"html": tmp_path / "src2" / "report.html"}, {"C1": "fail"})  # same digest: replaced
    assert cache.get("a" * 64)["verdicts"] == {"C1": "fail"}
    assert not [p for p in cache.root.iterdir() if p.name.startswith(".")], "a staging folder was left"


def test_record_digests_are_the_sha256_of_the_stored_bytes(tiny_cell, tmp_path):
    """execute names each cell's records by the SHA-256 of its cache file, computed or cached."""
    import hashlib
    cache = Cache(tmp_path)
    cells = [tiny_cell(seed=0), tiny_cell(seed=1)]
    _, computed = execute(cells, cache, progress=False)
    _, cached = execute(cells, cache, progress=False)
    on_disk = [hashlib.sha256(cache.path(cell_key(c)).read_bytes()).hexdigest() for c in cells]
    assert computed.record_digests == cached.record_digests == on_disk


# ------------------------------------------------------------------ the code in the key (issue 28)

@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """A copy of the vgreport package that the cell key reads its code from (sources.PACKAGE); the
    memoised hash is forgotten before and after, so no other test sees the copy's."""
    import shutil

    from vgreport import sources
    copy = tmp_path / "vgreport"
    shutil.copytree(sources.PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(sources, "PACKAGE", copy)
    sources.training_code.cache_clear()
    yield copy
    monkeypatch.undo()
    sources.training_code.cache_clear()


def test_the_key_covers_the_modules_training_imports_found_from_the_code(package_copy):
    """The hashed code is training.py and what it imports, directly or not (what used to be a list
    kept by hand is among them), and not the stages after the records (findings, figures, report)."""
    from vgreport import sources
    names = {p.relative_to(sources.PACKAGE).as_posix() for p in sources.training_modules()}
    assert {"schema.py", "tasks.py", "models.py", "recurrences.py", "probes.py", "training.py"} <= names
    assert "specs.py" in names  # CellSpec, which training reads: not in the old list
    assert not any(n.startswith(("findings/", "figures/", "report/")) for n in names)
    assert not {"api.py", "runner.py", "store.py", "aggregate.py", "__init__.py"} & names
    # an import under `if TYPE_CHECKING:` never runs and does not count; one inside a function does
    copy = package_copy
    (copy / "lazy.py").write_text("X = 1\n")
    (copy / "typing_only.py").write_text("Y = 1\n")
    tasks = copy / "tasks.py"
    tasks.write_text(tasks.read_text() + "\n\ndef _later():\n    from .lazy import X\n    return X\n\n"
                     "if TYPE_CHECKING:\n    from .typing_only import Y\n")
    found = {p.name for p in sources.training_modules()}
    assert "lazy.py" in found and "typing_only.py" not in found


def test_editing_a_training_side_module_outside_the_old_list_recomputes_the_cell(tmp_path, tiny_cell, package_copy):
    """A cell is computed, then read from the cache; after an edit to specs.py or to a new module that
    tasks.py starts importing (neither was in the hand-kept list) it is computed again; after an edit
    to the report's code it is still read from the cache."""
    from vgreport import sources
    from vgreport.runner import execute
    copy = package_copy
    cache, cell = Cache(tmp_path / "cache"), tiny_cell(train={"steps": 2, "eval_every": 1, "log_every": 1})

    def run():
        sources.training_code.cache_clear()
        return execute([cell], cache, jobs=1, progress=False)[1]

    assert run().computed == 1
    assert run().cached == 1
    (copy / "report" / "format.py").write_text((copy / "report" / "format.py").read_text() + "\n# edited\n")
    assert run().cached == 1
    (copy / "specs.py").write_text((copy / "specs.py").read_text() + "\n# edited\n")
    assert run().computed == 1
    (copy / "batches.py").write_text("STEP = 1\n")
    (copy / "tasks.py").write_text((copy / "tasks.py").read_text() + "\nfrom .batches import STEP  # noqa\n")
    assert run().computed == 1
    assert run().cached == 1
    (copy / "batches.py").write_text("STEP = 2\n")  # a module the old list could never have named
    assert run().computed == 1
