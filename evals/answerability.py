"""Which answerability signals pay for one model: replayed over an open run's rows.

    python -m evals answerability REPORT.json [REPORT.json ...] [--floors 0,0.3,0.4]
                                  [--judge 0,0.3,0.5] [--verify 0,0.5] [--sure 0,0.7]

REPORT is the JSON of a `python -m evals answers` run with the gate open and no checks
(`--answer '{"answer_above": 0, "nothing_below": 0, "checks": [], "judge_below": 0,
"verify_below": 0, "sure_below": 0}'`; with `--reuse-generations`, "sure_below" makes texts
stored without their token margins be generated afresh): every question was answered, and
each row keeps its evidence score, the judge's P(yes), the check's P(yes), the model's
certainty and its own text. Five signals can turn a reply into "not answered" (a near miss
or no match) before it is shown:
- the evidence floor: evidence below it (a clear miss: nothing generated);
- the judge: P(yes) that the excerpts answer below a threshold (chat.judge);
- the check: the mean of the judge's P(yes) and the check's (that the excerpts state the
  written answer) below a threshold, as the pipeline decides (chat.judge.confidence);
- the certainty: the mean of the judge's P(yes) and the model's certainty over its answer's
  first tokens (chat.judge.certainty) below a threshold;
- the model's own abstention ("I don't know", "the excerpts do not say"; always on).
For each combination it counts, over the answerable questions, the replies shown that hold a
gold answer (right) and those that do not (wrong), and over each unanswerable group the share
given no unmarked answer; and, against abstention alone, the right answers each combination
removes and the wrong ones. Choose on a tune run; report the choice on another.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
from pathlib import Path

from chat.judge import confidence
from chat.pipeline import MODEL_ABSTAINS  # the pipeline's reading of "found no answer"


def abstains(text: str) -> bool:
    return not text.strip() or bool(MODEL_ABSTAINS.search(text))


def shown(row: dict, floor: float, judge: float, verify: float = 0.0, sure: float = 0.0
          ) -> bool:
    """Whether the reply would be shown as an answer with these thresholds."""
    if row["evidence"] is not None and row["evidence"] < floor:
        return False
    if row["judged"] is not None and row["judged"] < judge:
        return False
    if abstains(row["generated"] or ""):
        return False
    unsure = confidence(row["judged"], row.get("certainty"))  # (an older run: the judge's)
    if unsure is not None and unsure < sure:
        return False
    if row.get("verified") is None:  # not checked (an older run): the check removes nothing
        return True
    return confidence(row["judged"], row["verified"]) >= verify


def tally(rows: dict[str, list[dict]], floor: float, judge: float, verify: float = 0.0,
          sure: float = 0.0) -> dict:
    answerable = rows["answerable"]
    right = sum(shown(r, floor, judge, verify, sure) and r["contains_own"] for r in answerable)
    wrong = sum(shown(r, floor, judge, verify, sure) and not r["contains_own"] for r in answerable)
    out = {"floor": floor, "judge": judge, "verify": verify, "sure": sure,
           "answered": round((right + wrong) / len(answerable), 3),
           "right": right, "wrong": wrong}
    for group, items in rows.items():
        if group != "answerable":
            answered = sum(shown(r, floor, judge, verify, sure) for r in items)
            out[group] = round(1 - answered / len(items), 3)
            out[f"{group}_answered"] = answered
    return out


def table(rows: dict[str, list[dict]], floors: list[float], judges: list[float],
          verifies: list[float] = (0.0,), sures: list[float] = (0.0,)) -> list[dict]:
    base = tally(rows, 0.0, 0.0)
    groups = [g for g in rows if g != "answerable"]
    out = []
    for floor, judge, verify, sure in itertools.product(floors, judges, verifies, sures):
        t = tally(rows, floor, judge, verify, sure)
        t["right_removed"] = base["right"] - t["right"]
        t["wrong_removed"] = (base["wrong"] - t["wrong"]) + sum(
            base[f"{g}_answered"] - t[f"{g}_answered"] for g in groups)
        out.append(t)
    return out


def merged(paths: list[Path]) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {}
    for path in paths:
        for group, items in json.loads(path.read_text())["rows"].items():
            rows.setdefault(group, []).extend(items)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals answerability", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("reports", type=Path, nargs="+")
    parser.add_argument("--floors", default="0,0.2,0.3,0.35,0.4,0.45,0.5")
    parser.add_argument("--judge", default="0,0.1,0.2,0.3,0.4,0.5,0.6,0.7")
    parser.add_argument("--verify", default="0")
    parser.add_argument("--sure", default="0")
    args = parser.parse_args(argv)
    numbers = lambda s: [float(x) for x in re.split(r"[,\s]+", s.strip()) if x]
    rows = merged(args.reports)
    if any(numbers(args.sure)):
        blind = sum(r.get("certainty") is None and bool(r["generated"])
                    for items in rows.values() for r in items)
        if blind:
            print(f"Note: {blind} generated replies have no certainty; --sure weighs their "
                  "judge alone.")
    result = table(rows, numbers(args.floors), numbers(args.judge), numbers(args.verify),
                   numbers(args.sure))
    keys = list(result[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + " --- |" * len(keys))
    for t in result:
        print("| " + " | ".join(str(t[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
