"""Imported first by the local process pool's fork server (multiprocessing's forkserver preload).

The fork server, whose parent is the build, dies with it (prctl PR_SET_PDEATHSIG on Linux), and
each worker dies with the fork server (runner._init_worker). Without this they outlive a killed
build: every worker holds the fork server's "alive" pipe open, so neither notices, and they
finish cells nobody will read while multiprocessing's resource tracker keeps their /dev/shm
semaphores until they exit. Importing the training code here also means each worker is forked
with torch already imported instead of importing it again (seconds per worker)."""
from .runner import die_with_parent

die_with_parent()  # first: the build may be killed while torch is being imported below

from . import training  # noqa: E402,F401 (preloaded for the workers)
