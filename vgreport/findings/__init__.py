"""Stage 8: findings (being rewritten as one module per result; the legacy module serves until then)."""
from .legacy import *  # noqa: F401,F403
from .legacy import CLAIM_IDS, VERDICTS, Figure, Finding, combine, evaluate  # noqa: F401
