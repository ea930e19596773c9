"""Score `crimestats check` against a folder of hand-labelled stories.

    PYTHONPATH=src python tools/score_check.py tests/stories/heldout --db /tmp/review.duckdb [--data DIR] [-v]

Each story FILE.txt|.md|.html has a sidecar FILE.json in the format of tests/stories/*.json:
{"claims": [{"text", "measure", "verdict", "reason"?, "figure"?: {"release", "table", "area", "heading",
"places"?, "value"?}, "judgement"?, "note"?}], "not_claims"?: [text, ...]}.
Labels are listed in the order of the text; a label's words are looked for after the previous label's start,
as tests/test_check.py does. A labelled claim is *found* when a claim's span overlaps its words.

Prints per story and in total: recall (labelled claims found), precision (claims that overlap a labelled claim),
verdict agreement on found claims (also without the labels marked "judgement"), measure agreement, figure agreement
(the claim's `actual` against the workbook cell at the label's precision), and every miss, extra claim and
disagreement. Claims over a `not_claims` phrase are listed separately: `cannot check` there is tolerated (the
checker says it is not about recorded crime) but still counts against precision.

The checker is run through its CLI (`crimestats check FILE --format json`), as a user would run it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

RELEASES = {
    "2018-03": "policeforceareatablesyearendingmarch2018v2.xlsx",
    "2018-06": "policeforceareadatatablesyearendingjune2018corrected.xlsx",
    "2018-09": "policeforceareatablesyearendingsep18corrected.xlsx",
    "2018-12": "policeforceareatablesyearendingdecember2018.xlsx",
    "2019-03": "policeforceareatablesyeendingmarch2019.xlsx",
    "2019-06": "policeforceareatablesyearendingjune2019.xlsx",
    "2019-09": "policeforceareatablesyearendingseptember2019.xlsx",
    "2019-12": "pfatablesdec19.xlsx",
}
_tables: dict[tuple[str, str], Any] = {}


def ons_round(value: float, places: int) -> float:
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def official(figure: dict[str, Any], data: Path) -> float | None:
    """The published cell for a label's figure (rounded as quoted), or the label's own value for other tables."""
    if "value" in figure:
        return float(figure["value"])
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    from official import read_table  # the tests' independent openpyxl reader

    key = (figure["release"], figure["table"])
    if key not in _tables:
        _tables[key] = read_table(data / "ons-pfa-tables" / RELEASES[figure["release"]], figure["table"])
    cell = _tables[key].cells.get((figure["area"], figure["heading"]))
    if not isinstance(cell, (int, float)):
        return None
    return ons_round(cell, figure["places"]) if "places" in figure else float(cell)


def run_check(story: Path, db: str | None) -> dict[str, Any]:
    cmd = ["crimestats"]
    if db:
        cmd += ["--db", db]
    out = subprocess.run(cmd + ["check", str(story), "--format", "json"], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{story}: crimestats check failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout)


def story_text(story: Path) -> str:
    if story.suffix == ".html":
        from crimestats.check import read_story

        return read_story(story)
    return story.read_text(encoding="utf-8")


def spans(text: str, phrases: list[str], ordered: bool = True) -> list[tuple[int, int]]:
    result, after = [], 0
    for phrase in phrases:
        start = text.index(phrase, after if ordered else 0)
        if ordered:
            after = start + 1
        result.append((start, start + len(phrase)))
    return result


def overlaps(a: tuple[int, int], b: list[int] | tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def score(story: Path, db: str | None, data: Path) -> dict[str, Any]:
    spec = json.loads(story.with_suffix(".json").read_text(encoding="utf-8"))
    labels, not_claims = spec["claims"], spec.get("not_claims", [])
    text = story_text(story)
    doc = run_check(story, db)
    claims = doc["claims"]
    label_spans = spans(text, [lab["text"] for lab in labels])
    other_spans = [(p, s) for p in not_claims for s in _all(text, p)]
    rows, problems = [], []
    used: set[int] = set()
    for lab, span in zip(labels, label_spans):
        found = [i for i, c in enumerate(claims) if overlaps(span, c["span"]) and i not in used]
        if not found:
            rows.append({"label": lab, "found": False})
            problems.append(f"MISS      {lab['text']!r} ({lab['measure']}, expected {lab['verdict']}){_ctx(text, span)}")
            continue
        claim = claims[found[0]]
        used.add(found[0])
        verdict_ok = claim["verdict"] == lab["verdict"]
        measure_ok = claim.get("measure") == lab["measure"]
        figure_ok = None
        if "figure" in lab and lab["verdict"] in ("correct", "incorrect", "needs context"):
            expected = official(lab["figure"], data)
            figure_ok = expected is not None and claim.get("actual") is not None and float(claim["actual"]) == expected
            if not figure_ok:
                problems.append(f"FIGURE    {lab['text']!r}: actual {claim.get('actual')} expected {expected}")
        reason_ok = lab.get("reason", "").lower() in (claim.get("explanation") or "").lower()
        rows.append({"label": lab, "found": True, "verdict_ok": verdict_ok, "measure_ok": measure_ok,
                     "figure_ok": figure_ok, "reason_ok": reason_ok})
        if not verdict_ok:
            problems.append(f"VERDICT   {lab['text']!r}: got {claim['verdict']!r}, expected {lab['verdict']!r}"
                            f"{' (judgement call)' if lab.get('judgement') else ''} -- {claim.get('explanation')}")
        if not measure_ok:
            problems.append(f"MEASURE   {lab['text']!r}: got {claim.get('measure')!r}, expected {lab['measure']!r}")
        if verdict_ok and not reason_ok:
            problems.append(f"REASON    {lab['text']!r}: explanation lacks {lab['reason']!r} -- {claim.get('explanation')}")
    extra = [c for c in claims if not any(overlaps(s, c["span"]) for s in label_spans)]
    for c in extra:
        over = [p for p, s in other_spans if overlaps(s, c["span"])]
        kind = "NONCLAIM " if over else "EXTRA    "
        tolerated = " (tolerated)" if over and c["verdict"] == "cannot check" else ""
        problems.append(f"{kind} {c['text']!r} -> {c['verdict']}{tolerated}: {c.get('explanation')}")
    return {"story": story.name, "labels": len(labels), "claims": len(claims), "rows": rows, "extra": extra,
            "problems": problems, "summary": doc.get("summary")}


def _all(text: str, phrase: str) -> list[tuple[int, int]]:
    out, i = [], text.find(phrase)
    while i >= 0:
        out.append((i, i + len(phrase)))
        i = text.find(phrase, i + 1)
    return out


def _ctx(text: str, span: tuple[int, int]) -> str:
    start = text.rfind("\n", 0, span[0]) + 1
    end = text.find("\n", span[1])
    return f"\n            in: {text[start:end if end >= 0 else None].strip()[:200]}"


def pct(a: int, b: int) -> str:
    return f"{a}/{b} = {a / b:.0%}" if b else "0/0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--db", default=None)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("CRIMESTATS_TEST_DATA", "../shared/data")))
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss and disagreement")
    args = parser.parse_args()
    stories = sorted(p for p in args.folder.iterdir()
                     if p.suffix in (".txt", ".md", ".html") and p.with_suffix(".json").exists())
    totals = dict(labels=0, found=0, claims=0, on_label=0, verdict=0, verdict_nj=0, found_nj=0, measure=0,
                  figures=0, figure_ok=0)
    print(f"{'story':34} {'recall':>13} {'precision':>13} {'verdict':>13} {'verdict (no judgement)':>22}")
    results = [score(p, args.db, args.data) for p in stories]
    for r in results:
        found = [x for x in r["rows"] if x["found"]]
        nj = [x for x in found if not x["label"].get("judgement")]
        on_label = r["claims"] - len(r["extra"])
        t = dict(labels=r["labels"], found=len(found), claims=r["claims"], on_label=on_label,
                 verdict=sum(x["verdict_ok"] for x in found), verdict_nj=sum(x["verdict_ok"] for x in nj),
                 found_nj=len(nj), measure=sum(x["measure_ok"] for x in found),
                 figures=sum(x["figure_ok"] is not None for x in found),
                 figure_ok=sum(bool(x["figure_ok"]) for x in found))
        for k, v in t.items():
            totals[k] += v
        print(f"{r['story'][:34]:34} {pct(t['found'], t['labels']):>13} {pct(on_label, r['claims']):>13} "
              f"{pct(t['verdict'], t['found']):>13} {pct(t['verdict_nj'], t['found_nj']):>22}")
    t = totals
    print(f"{'TOTAL':34} {pct(t['found'], t['labels']):>13} {pct(t['on_label'], t['claims']):>13} "
          f"{pct(t['verdict'], t['found']):>13} {pct(t['verdict_nj'], t['found_nj']):>22}")
    print(f"measure agreement on found claims: {pct(t['measure'], t['found'])}; "
          f"figure agreement (actual = workbook cell): {pct(t['figure_ok'], t['figures'])}")
    if args.verbose:
        for r in results:
            if r["problems"]:
                print(f"\n## {r['story']}  summary={r['summary']}")
                for line in r["problems"]:
                    print("  " + line)


if __name__ == "__main__":
    main()
