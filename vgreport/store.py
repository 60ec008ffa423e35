"""Stage 6a: storage. Atomic writes, staging folders, the cell cache, the report cache, and the
manifest of every file and folder vgreport created in the cache, so `clean` removes exactly those.

A cell's result is stored under the SHA-256 of everything that determines it: the cell spec,
the source of the code that computes its records (sources.training_code: training.py and every
module it imports, found from the code) and the versions of the libraries that change numbers. Writes are atomic (temporary file + os.replace), so an
interrupted build never leaves a half-written result behind; each entry also carries the SHA-256
of its records, checked on every read. This module imports neither torch nor numpy: versions come
from the installed packages' metadata, so listing, rendering and cleaning never load torch.
"""
from __future__ import annotations

import errno
import fcntl
import hashlib
import importlib.metadata
import json
import math
import os
import re
import secrets
import shutil
import stat
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Iterator

from .schema import RECORD_COLUMNS
from .sources import training_code
from .specs import CellSpec
from .verdicts import REPORT_VERDICTS

__all__ = ["UnsafePathError", "layout_problem", "read_regular", "write_atomic", "staging", "output_lock", "move_into",
           "remove_stale_staging", "file_sha256", "library_versions", "cell_key", "records_sha256", "Cache", "ReportCache",
           "Manifest", "clean_cache"]

_STALE_SECONDS = 3600  # where a folder cannot be locked (some network file systems): stale after an hour
# The largest cache entry vgreport reads: a standard cell's records are a few MB; anything larger
# (or not a plain file at all) is damaged, never read into memory.
MAX_ENTRY_BYTES = 256 << 20


class UnsafePathError(Exception):
    """A path vgreport would write, replace or delete is a symbolic link or leads through one (or
    is not a plain file or folder): refused, so nothing outside the folders it owns is touched."""


def read_regular(path: Path | str, max_bytes: int = MAX_ENTRY_BYTES) -> bytes:
    """The bytes of a regular file of at most max_bytes, opened without following a final
    symbolic link and without blocking: a FIFO, a device, a socket, a link (to /dev/zero, say) or
    an oversized file raises OSError (whose strerror says which) instead of hanging or filling memory."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "a symbolic link, not a file", str(path)) from None
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"not a regular file ({_kind(info.st_mode)})", str(path))
        if info.st_size > max_bytes:
            raise OSError(errno.EFBIG, f"{info.st_size:,} bytes, over the limit of {max_bytes:,}", str(path))
        chunks, left = [], max_bytes + 1
        while left > 0:  # the size may change while reading: never read more than the limit
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        if left <= 0:
            raise OSError(errno.EFBIG, f"over the limit of {max_bytes:,} bytes", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "a special file"


def check_inside(root: Path | str, relative: str, leaf: str = "any") -> Path:
    """root/relative, after checking that no part of it below root is a symbolic link and every
    folder on the way is a real folder; the last part, when it exists, must be a regular file
    (leaf="file"), a real folder ("folder") or either ("any"). UnsafePathError otherwise. The root
    itself is the user's choice (a cache may be a link to a larger disk) and is not checked."""
    root = Path(root)
    parts = PurePosixPath(relative).parts if relative not in ("", ".") else ()
    path = root
    for n, part in enumerate(parts):
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            return root.joinpath(*parts)  # nothing below a missing part can be a link
        last = n == len(parts) - 1
        if stat.S_ISLNK(mode):
            raise UnsafePathError(f"{path}: a symbolic link inside a folder vgreport writes; vgreport never "
                                  f"writes or deletes through a link (remove the link, then run again)")
        wanted = ("folder",) if not last else {"file": ("file",), "folder": ("folder",)}.get(leaf, ("file", "folder"))
        if not (("folder" in wanted and stat.S_ISDIR(mode)) or ("file" in wanted and stat.S_ISREG(mode))):
            raise UnsafePathError(f"{path}: {_kind(mode)} where vgreport expects its own "
                                  f"{'folder' if wanted == ('folder',) else 'file'}; remove it, then run again")
    return path


def write_atomic(path: Path, write: Callable[[Path], object]) -> None:
    """Call write(temporary path) in the target's folder, then rename over the target, so a
    crash or an error never leaves a half-written file (cache entries, tables, reports)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        # The name is chosen before the file exists (tempfile.mkstemp would return it only after
        # creating it), so a Ctrl-C at any moment leaves nothing behind: the handler removes it.
        while tmp is None:
            tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
            try:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644))
            except FileExistsError:  # another writer's (48 random bits: practically never)
                tmp = None
        write(tmp)
        os.chmod(tmp, 0o644)  # whatever the umask made of it: outputs are meant to be read
        os.replace(tmp, path)
    except BaseException:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
        raise


def file_sha256(path: Path, max_bytes: int = 1 << 30) -> str:
    """SHA-256 of a regular file (a link, a FIFO or a device raises OSError, see read_regular)."""
    return hashlib.sha256(read_regular(path, max_bytes)).hexdigest()


def _lock(fd: int) -> bool | None:
    """Take an exclusive flock without waiting: True, False when another process holds it, None
    when this file system has no flock (then callers fall back to the folder's age)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    except OSError:
        return None


def layout_problem(out: Path | str, cache: Path | str) -> str | None:
    """Why --out and --cache cannot be used together, or None. The outputs and the cache each
    keep a manifest of what vgreport wrote there, and `clean --keep-cache` removes the outputs'
    names only: in one shared folder the two manifests are one file, so the cache's entries would
    go with the outputs. The cache inside --out is supported as OUT/cache (the default) only, a name
    `clean` knows; --out inside the cache is refused (it would sit among the cache's shards)."""
    o, c = Path(out).resolve(), Path(cache).resolve()
    why = "keep them apart, or leave --cache out to use OUT/cache"
    if o == c:
        return f"--out {out} and --cache {cache} are the same folder; {why}"
    if o.is_relative_to(c):
        return f"--out {out} is inside --cache {cache}; {why}"
    if c.is_relative_to(o) and c != o / "cache":
        return f"--cache {cache} is inside --out {out} but is not OUT/cache; {why}"
    return None


def remove_stale_staging(out: Path) -> list[Path]:
    """Remove the `.staging-*` folders in out that no running build holds (a build killed while
    rendering leaves one): each live one is flock-ed by its build, and the kernel drops the lock
    when that process dies, however it dies. Returns the folders removed."""
    removed = []
    for folder in Path(out).glob(".staging-*"):
        try:  # a link named .staging-* is not a build's folder: never followed, never removed
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:
            continue  # not a folder, or just removed by its build
        try:
            locked = _lock(fd)
            if locked is None:
                locked = time.time() - os.fstat(fd).st_mtime > _STALE_SECONDS
            if locked:
                shutil.rmtree(folder, ignore_errors=True)  # rmtree never follows links inside it
                if not os.path.lexists(folder):
                    removed.append(folder)  # only what is really gone is reported
        finally:
            os.close(fd)
    return removed


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A fresh folder inside out for outputs that must appear together (see move_into), held
    locked while in use and removed on exit; stale ones from killed builds are removed first."""
    out = Path(out)
    Manifest(out).make_folders(".")
    remove_stale_staging(out)
    # Created under another prefix and locked before it is renamed to .staging-*, so a build
    # sweeping stale folders never sees it unlocked.
    fresh = Path(tempfile.mkdtemp(dir=out, prefix=".new-staging-"))
    fd = os.open(fresh, os.O_RDONLY | os.O_DIRECTORY)
    folder = fresh
    try:
        _lock(fd)
        folder = out / fresh.name.replace(".new-staging-", ".staging-", 1)
        os.rename(fresh, folder)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.close(fd)


OUTPUT_LOCK = ".vgreport-output.lock"


def _open_lock_file(path: Path) -> int:
    """A descriptor of the lock file at path, created if needed; never through a link, never a FIFO."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePathError(f"{path}: a symbolic link where vgreport keeps its lock file; vgreport never "
                                  f"writes through a link (remove it, then run again)") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnsafePathError(f"{path}: not a regular file where vgreport keeps its lock file (remove it, "
                              f"then run again)")
    return fd


@contextmanager
def output_lock(out: Path | str, waiting: Callable[[], object] = lambda: None) -> Iterator[None]:
    """Hold the output folder's lock (an flock on OUT/.vgreport-output.lock) for the block: a
    build holds it from its first write of an output to its last, so two builds into one --out
    publish one after the other and the folder always holds one whole edition. A build that finds
    the lock taken calls waiting() (to say so) and waits; the kernel releases the lock when its
    holder ends, however it ends. On a file system without flock the block runs unlocked."""
    out = Path(out)
    manifest = Manifest(out)
    manifest.make_folders(".")
    path = out / OUTPUT_LOCK
    while True:
        fd = _open_lock_file(path)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                waiting()
                fcntl.flock(fd, fcntl.LOCK_EX)  # a signal still ends the wait (PEP 475 re-raises)
            except OSError:
                break  # no flock on this file system
            # `clean` may have removed (and a build re-created) the file while this one waited:
            # a lock on a file no longer at `path` guards nothing.
            try:
                if os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
                    break
            except FileNotFoundError:
                pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        manifest.add(files=[OUTPUT_LOCK])  # recorded, so `clean` removes it with the outputs
        yield
    finally:
        os.close(fd)  # releases the lock


def move_into(out: Path, staged: dict[str, Path]) -> dict[str, Path]:
    """Rename complete staged files over their targets in out, one right after the other: the
    outputs of a build appear together, never a new metrics.csv beside an old report.pdf. Their
    names are recorded in out's Manifest first, for `clean`."""
    Manifest(out).add(files=[path.name for path in staged.values()])
    moved = {}
    for kind, path in staged.items():
        os.chmod(path, 0o644)
        os.replace(path, out / path.name)
        moved[kind] = out / path.name
    return moved


_NUMERIC_LIBRARIES = ("torch", "numpy")


@lru_cache(maxsize=1)
def library_versions() -> tuple[tuple[str, str], ...]:
    # The installed distributions' versions: the same strings as torch.__version__ and
    # numpy.__version__ (local labels such as +cpu included) without importing either.
    return tuple((name, importlib.metadata.version(name)) for name in _NUMERIC_LIBRARIES)


def cell_key(cell: CellSpec, device: str = "cpu") -> str:
    """Hash of what determines the numbers. Names (experiment, variant) are labels, not inputs:
    two experiments that share a configuration share its cached result."""
    spec = cell.model_dump(mode="json", exclude={"experiment", "variant", "sweep_value"})
    payload = {"cell": spec, "code": training_code(), **dict(library_versions()), "device": device}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def records_sha256(records: list[dict]) -> str:
    """SHA-256 of the records' values (canonical JSON): any changed value changes it."""
    return hashlib.sha256(json.dumps(records, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _relative(name: str) -> str | None:
    """name as a clean relative POSIX path inside a folder, or None (absolute, '..', empty)."""
    if not isinstance(name, str) or not name or "\\" in name or "\0" in name:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or path.as_posix() != name:
        return None
    return name


class Manifest:
    """The files and folders vgreport created under a folder, by relative name, in
    `.vgreport-manifest.json` there: `clean` removes exactly these, so a --cache pointed at a
    folder of one's own loses nothing. Rewritten atomically under an flock (concurrent builds may
    share a cache); a file is recorded before it is written, a folder after vgreport created it
    (a folder that was already there is the user's, and is never recorded)."""

    NAME = ".vgreport-manifest.json"
    LOCK = ".vgreport-manifest.lock"

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.path = self.root / self.NAME

    def read(self) -> dict[str, set[str]]:
        """{"files": set, "folders": set} of relative names; empty when absent or damaged."""
        names = {"files": set(), "folders": set()}
        try:
            data = json.loads(read_regular(self.path, 64 << 20))
        except (OSError, ValueError, RecursionError):
            return names
        if isinstance(data, dict):
            for kind in names:
                entries = data.get(kind)
                if isinstance(entries, list):
                    names[kind] = {n for n in entries if _relative(n) is not None}
        return names

    @contextmanager
    def _locked(self) -> Iterator[dict[str, set[str]]]:
        lock = self.root / self.LOCK
        check_inside(self.root, self.NAME, leaf="file")  # replaced by a rename: a link would be dropped, but say so
        fd = _open_lock_file(lock)  # never through a link: it would create or lock a file outside the folder
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError:
                pass  # no flock here: a concurrent update may drop a name (clean then keeps that file)
            names = self.read()
            before = {k: set(v) for k, v in names.items()}
            yield names
            if names != before:
                data = json.dumps({k: sorted(v) for k, v in names.items()}, indent=0).encode()
                write_atomic(self.path, lambda tmp: tmp.write_bytes(data))
        finally:
            os.close(fd)  # releases the lock

    def add(self, files: Iterable[str] = (), folders: Iterable[str] = ()) -> None:
        with self._locked() as names:
            names["files"].update(files)
            names["folders"].update(folders)

    def discard(self, files: Iterable[str] = (), folders: Iterable[str] = ()) -> None:
        with self._locked() as names:
            names["files"].difference_update(files)
            names["folders"].difference_update(folders)

    def make_folders(self, relative: str) -> None:
        """Create root/relative and any missing parents (the root too), recording those created."""
        created = []
        try:
            self.root.mkdir(parents=True)
            created.append(".")
        except FileExistsError:
            pass
        path = self.root
        for part in PurePosixPath(relative).parts:
            path = path / part
            try:
                path.mkdir()
                created.append(path.relative_to(self.root).as_posix())
            except FileExistsError:  # a link or a file there is refused: never written through
                check_inside(self.root, path.relative_to(self.root).as_posix(), leaf="folder")
        if created:
            self.add(folders=created)

    def remove(self, under: str | None = None) -> list[Path]:
        """Remove the recorded files (and leftovers of their interrupted atomic writes) under the
        relative folder `under` (everything when None), then the recorded folders there, deepest
        first, each only when empty (the root itself is clean_cache's), and forget them all.
        Returns every file and folder removed."""
        def inside(name: str) -> bool:
            return name != "." and (under is None or name == under or name.startswith(under + "/"))

        names = self.read()
        files = sorted(n for n in names["files"] if inside(n))
        folders = sorted((n for n in names["folders"] if inside(n)),
                         key=lambda n: (-len(PurePosixPath(n).parts), n))
        # Every name is checked before anything is removed: one that is a link, or leads through
        # one, refuses the whole clean, so nothing outside the folder is ever deleted.
        for name in files:
            check_inside(self.root, name, leaf="file")
        for name in folders:
            check_inside(self.root, name, leaf="folder")
        removed = []
        for name in files:
            path = self.root / name
            leftovers = sorted(path.parent.glob(f".{_glob_escape(path.name)}.*.tmp")) if path.parent.is_dir() else []
            for candidate in (path, *leftovers):
                if candidate.is_file() and not candidate.is_symlink():
                    candidate.unlink()
                    removed.append(candidate)
        for name in folders:
            try:
                (self.root / name).rmdir()  # only when empty: a user's file inside keeps it
                removed.append(self.root / name)
            except OSError:
                pass
        if files or folders:
            self.discard(files, folders)
        return removed


def clean_cache(root: Path | str) -> list[Path]:
    """Remove what vgreport wrote in a folder (the cache, or --out), by the names its manifest
    recorded, then the manifest, and the folder itself when vgreport created it and it is empty;
    never anything else. Returns every file and folder removed."""
    manifest = Manifest(root)
    if not os.path.lexists(manifest.path):
        return []
    for own in (manifest.NAME, manifest.LOCK):
        check_inside(manifest.root, own, leaf="file")
    created = "." in manifest.read()["folders"]
    removed = manifest.remove()
    for own in (manifest.root / manifest.NAME, manifest.root / manifest.LOCK):
        if own.is_file() and not own.is_symlink():
            own.unlink()
            removed.append(own)
    if created:
        try:
            manifest.root.rmdir()
            removed.append(manifest.root)
        except OSError:  # it still holds files that are not vgreport's: remember it for a later clean
            manifest.add(folders=["."])
    return removed


def _sha256_or_none(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None


def _glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


class Cache:
    """One JSON file per cell under root/ab/abcdef....json: {key, cell, records, records_sha256,
    computed_at}. An entry is used only if it is whole: the right key, records of the documented
    columns, and a records SHA-256 that matches; anything else is damaged and recomputed."""

    def __init__(self, root: Path | str):
        self.root = Path(root)
        self.manifest = Manifest(self.root)
        self.warnings: list[str] = []  # one line per entry that was not a plain file (see entry)

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> list[dict] | None:
        entry = self.entry(key)
        return None if entry is None else entry["records"]

    def entry(self, key: str) -> dict | None:
        """The stored entry plus "sha256" (of the bytes read, so the report cache can name these
        records without reading them again), or None when absent or damaged."""
        path = self.path(key)
        try:
            check_inside(self.root, path.relative_to(self.root).as_posix(), leaf="file")
            raw = read_regular(path)  # never blocks on a FIFO, never reads /dev/zero
        except FileNotFoundError:
            return None
        except (OSError, UnsafePathError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.warnings.append(f"cache entry {path}: {reason}; computing it again")
            return None
        try:
            entry = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON (UnicodeDecodeError is a ValueError)
            return None
        if not _sound_entry(entry, key):
            return None  # a damaged entry is recomputed, never trusted
        return {**entry, "sha256": hashlib.sha256(raw).hexdigest()}

    def check_entries(self, keys: Iterable[str]) -> None:
        """Before training: every entry these cells will store can be stored. A folder where a
        cell's result belongs (os.replace cannot put a file over it, so the cell would be trained,
        fail to store, and be trained again on every build), or a link or file where its shard
        folder belongs, raises UnsafePathError naming it. A FIFO, link or damaged file in an
        entry's place is fine: the new result replaces it."""
        for key in keys:
            check_inside(self.root, key[:2], leaf="folder")
            path = self.path(key)
            try:
                if stat.S_ISDIR(os.lstat(path).st_mode):
                    raise UnsafePathError(f"{path}: a folder where vgreport keeps a cell's result; remove it, "
                                          f"then run again")
            except FileNotFoundError:
                pass

    def put(self, key: str, cell: CellSpec, records: list[dict]) -> dict:
        """Store atomically; returns {"computed_at": UTC time stamp, "sha256": of the bytes written}."""
        path = self.path(key)
        computed_at = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
        data = json.dumps({"key": key, "cell": cell.model_dump(mode="json"), "records": records,
                           "records_sha256": records_sha256(records), "computed_at": computed_at}).encode()
        self.manifest.make_folders(key[:2])
        self.manifest.add(files=[path.relative_to(self.root).as_posix()])
        write_atomic(path, lambda tmp: tmp.write_bytes(data))
        return {"computed_at": computed_at, "sha256": hashlib.sha256(data).hexdigest()}


    def prune(self, keep: set[str]) -> list[Path]:
        """Remove the cell entries vgreport stored here whose key is not in `keep` (and leftovers of
        their interrupted writes); never a file it did not record. Returns the files removed."""
        files = [n for n in self.manifest.read()["files"]
                 if (m := re.fullmatch(r"([0-9a-f]{2})/(\1[0-9a-f]*)\.json", n)) and m.group(2) not in keep]
        for name in files:  # all checked first: a link anywhere refuses the whole prune
            check_inside(self.root, name, leaf="file")
        removed = []
        for name in sorted(files):
            path = self.root / name
            for candidate in (path, *sorted(path.parent.glob(f".{_glob_escape(path.name)}.*.tmp"))):
                if candidate.is_file() and not candidate.is_symlink():
                    candidate.unlink()
                    removed.append(candidate)
        if files:
            self.manifest.discard(files=files)
        return removed


def _sound_entry(entry, key: str) -> bool:
    if not (isinstance(entry, dict) and entry.get("key") == key and isinstance(entry.get("cell"), dict)
            and isinstance(entry.get("computed_at"), str) and isinstance(entry.get("records"), list)
            and entry["records"]):
        return False
    columns = set(RECORD_COLUMNS)
    if not all(isinstance(r, dict) and r.keys() == columns for r in entry["records"]):
        return False
    return entry.get("records_sha256") == records_sha256(entry["records"])


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _sound_report_manifest(manifest) -> bool:
    """A report-cache manifest names plain files with their SHA-256, and verdicts from the
    vocabulary: anything else (an edited verdict, a path outside the entry) is a damaged entry."""
    if not isinstance(manifest, dict):
        return False
    files, verdicts = manifest.get("files"), manifest.get("verdicts")
    if not (isinstance(files, dict) and files and isinstance(verdicts, dict)):
        return False
    for f in files.values():
        if not (isinstance(f, dict) and _relative(f.get("name")) is not None and "/" not in f["name"]
                and f["name"] != "manifest.json" and isinstance(f.get("sha256"), str)
                and _SHA256.fullmatch(f["sha256"])):
            return False
    return all(isinstance(k, str) and v in REPORT_VERDICTS for k, v in verdicts.items())


class ReportCache:
    """Finished outputs (report.html/.pdf, metrics.csv, findings.json) stored under a digest of
    every input of the report stage, so that an unchanged rebuild copies them instead of
    evaluating, drawing and laying out again (WeasyPrint alone takes about 9 s on 2 cores).

    An entry is a folder cache/reports/<digest>/ with the files and manifest.json (each file's
    SHA-256, the verdicts); it is built under a temporary name and renamed into place, and a file
    that no longer matches its hash, or a manifest of the wrong shape, makes the entry a miss. The
    `keep` most recently used entries are kept: one per profile, paper or template set an
    instructor alternates between. Only folders recorded in the cache's Manifest are entries, so
    a user's own `reports/` folder there is never pruned.
    """

    FOLDER = "reports"

    def __init__(self, cache_root: Path | str, keep: int = 4):
        self.cache_root = Path(cache_root)
        self.root = self.cache_root / self.FOLDER
        self.keep = keep
        self.manifest = Manifest(self.cache_root)

    def get(self, digest: str) -> dict | None:
        """The manifest of a sound entry ({"files": {kind: {name, sha256}}, "verdicts": ...}) or None."""
        folder = self.root / digest
        try:
            manifest = json.loads(read_regular(folder / "manifest.json", 16 << 20))
            if not _sound_report_manifest(manifest) or any(
                    file_sha256(folder / f["name"]) != f["sha256"] for f in manifest["files"].values()):
                return None
        except (OSError, ValueError, RecursionError):
            return None  # absent, damaged or not a plain file: render again
        try:
            os.utime(folder / "manifest.json")  # most recently used, for pruning
        except OSError:
            pass  # a read-only cache still serves its entries
        return manifest

    def restore(self, manifest: dict, digest: str, out: Path) -> dict[str, Path]:
        """Copy an entry's files into out, together (a file already identical is left untouched)."""
        out = Path(out)
        with staging(out) as folder:
            staged = {}
            for kind, f in manifest["files"].items():
                target = out / f["name"]
                if not (target.is_file() and not target.is_symlink() and _sha256_or_none(target) == f["sha256"]):
                    staged[kind] = Path(shutil.copyfile(self.root / digest / f["name"], folder / f["name"]))
            move_into(out, staged)
        return {kind: out / f["name"] for kind, f in manifest["files"].items()}

    def _name(self, path: Path) -> str:
        return path.relative_to(self.cache_root).as_posix()

    def put(self, digest: str, files: dict[str, Path], verdicts: dict[str, str]) -> None:
        self.manifest.make_folders(self.FOLDER)
        staged = Path(tempfile.mkdtemp(dir=self.root, prefix=".entry-"))
        folder = self.root / digest
        names = [Path(p).name for p in files.values()] + ["manifest.json"]
        staged_names = [self._name(staged / n) for n in names]
        self.manifest.add(files=staged_names + [self._name(folder / n) for n in names],
                          folders=[self._name(staged), self._name(folder)])
        try:
            manifest = {"files": {}, "verdicts": verdicts}
            for kind, path in files.items():
                shutil.copyfile(path, staged / Path(path).name)
                manifest["files"][kind] = {"name": Path(path).name, "sha256": file_sha256(path)}
            (staged / "manifest.json").write_text(json.dumps(manifest, indent=1))
            if folder.exists():  # a damaged entry of the same digest: replace it
                self.manifest.remove(self._name(folder))
                self.manifest.add(files=[self._name(folder / n) for n in names], folders=[self._name(folder)])
            try:
                os.rename(staged, folder)
            except OSError:
                if not (folder / "manifest.json").is_file():
                    raise  # not a concurrent build that stored the same report first
        finally:
            shutil.rmtree(staged, ignore_errors=True)
            self.manifest.discard(staged_names, [self._name(staged)])
        self._prune()

    def _prune(self) -> None:
        names = self.manifest.read()["folders"]
        entries, stale = [], []
        for name in names:
            parts = PurePosixPath(name).parts
            if len(parts) == 2 and parts[0] == self.FOLDER:
                if _SHA256.fullmatch(parts[1]):
                    entries.append(name)
                elif parts[1].startswith(".entry-"):
                    stale.append(name)  # staging of a killed build, or of one storing right now

        def last_used(name: str) -> float:
            try:
                return (self.cache_root / name / "manifest.json").stat().st_mtime
            except OSError:
                return 0.0

        for name in stale:
            try:
                age = time.time() - (self.cache_root / name).stat().st_mtime
            except OSError:
                age = math.inf  # already gone: forget it
            if age > _STALE_SECONDS:
                self.manifest.remove(name)
        for name in sorted(entries, key=last_used, reverse=True)[self.keep:]:
            self.manifest.remove(name)
