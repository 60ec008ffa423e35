"""The body of the issue the report workflow opens (or comments on): a diff's markdown, cut below
GitHub's limit with a pointer to the whole of it, then the run's link and what to do.

    python3 tools/issue_body.py DIFF.md RUN_URL ARTIFACT "WHAT TO DO" > body.md

GitHub refuses an issue body or comment over 65,536 characters (`gh issue create` fails and no
issue is opened), so a longer diff is cut at a line break and says where the rest is: the
ARTIFACT artifact of the run. The diff's own text comes from `vgreport diff --md`, which
neutralises what it quotes from an edition (mentions, #references, links). Standard library only:
it runs on the runner's python3.
"""
from __future__ import annotations

import sys
from pathlib import Path

GITHUB_LIMIT = 65_536  # characters in an issue body or comment
BUDGET = 60_000  # for the diff: room left for the notes below it


def issue_body(markdown: str, run_url: str, artifact: str, todo: str, budget: int = BUDGET) -> str:
    tail = f"\n\nRun: {run_url}. {todo}\n"
    if len(markdown) > budget:
        cut = markdown.rfind("\n", 0, budget)
        kept = markdown[: cut if cut > 0 else budget]
        markdown = (f"{kept}\n\n**The diff is cut here**: it has {len(markdown):,} characters, more than an issue "
                    f"holds. The whole of it is in the run's `{artifact}` artifact ({run_url}#artifacts).")
    body = markdown.rstrip("\n") + tail
    assert len(body) < GITHUB_LIMIT, len(body)
    return body


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    diff, run_url, artifact, todo = argv
    sys.stdout.write(issue_body(Path(diff).read_text(encoding="utf-8", errors="replace"), run_url, artifact, todo))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
