"""How the time ``crimestats check`` takes to find a story's claims grows with the story's length.

A held-out story (tests/stories/heldout) repeated 20 and 160 times: finding the claims in 8 times the text
should take about 8 times as long (linear), not 64 times (quadratic). Reports the medians and the ratio.
"""

from __future__ import annotations

import sys
import time

from _common import REPO_ROOT, machine_info

from crimestats.check import find_claims

STORY = REPO_ROOT / "tests" / "stories" / "heldout" / "avon-somerset-pcc-report.txt"
COPIES = (20, 160)


def seconds(text: str, repeat: int = 3) -> float:
    """The median time to find the claims in ``text``."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        find_claims(text)
        runs.append(time.perf_counter() - start)
    return sorted(runs)[len(runs) // 2]


def main() -> int:
    story = STORY.read_text(encoding="utf-8")
    for line in machine_info("crimestats"):
        print(line)
    short, long = (seconds(story * copies) for copies in COPIES)
    ratio = long / short
    print(f"{COPIES[0]} copies ({len(story) * COPIES[0]:,} characters): {short:.2f} s")
    print(f"{COPIES[1]} copies ({len(story) * COPIES[1]:,} characters): {long:.2f} s")
    print(f"8x the text took {ratio:.1f}x the time (linear: 8; quadratic: 64)")
    return 0 if ratio < 20 else 1


if __name__ == "__main__":
    sys.exit(main())
