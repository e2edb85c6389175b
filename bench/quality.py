"""Quality and speed of the status classifier against the labelled corpus.

    python bench/quality.py [--corpus tests/data/corpus.jsonl] [--films tests/data/films.json]
                            [--json FILE] [--ids PREFIX[,PREFIX…]] [--mistakes]

``--ids B,C`` also scores each named subset on its own: the items whose id starts with that
prefix (e.g. one blind batch), whatever their split. Mistakes are listed only for dev, and
only on request, so a blind batch can be measured without being read.

For the dev and heldout splits separately, and for both the classifier and a keyword baseline
(what a MonitoRSS user could do with a film-alias regex plus keyword lists, most advanced
keyword winning), it prints per-label precision/recall/F1 over nine classes (eight labels and
"none"), macro-F1, accuracy, hard-case accuracy, film-matching accuracy, the confusion matrix,
and the number of negated/hedged items reported as an asserted stage. Then items/s.

Definitions:
* An item's prediction is the classifier's first signal (film, status), or (None, None).
* accuracy / hard accuracy: film *and* status both right.
* film accuracy: predicted film id equals the labelled one (null included).
* overclaims: items tagged negation/hedge/wish/close_to_greenlit/not_dead whose predicted
  status is a stage beyond ``rumored`` and more advanced than the label, or ``cancelled``
  when the label is not — i.e. a negated or hedged stage read as asserted.
* also accuracy: for items naming further films ("also"), the share of those films whose
  signal has the labelled status.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.classify import Classifier  # noqa: E402
from bot.types import LABELS, STAGES, FilmRef, Signal  # noqa: E402

CLASSES: tuple[str, ...] = (*LABELS, "none")
OVERCLAIM_KINDS = frozenset({"negation", "hedge", "wish", "close_to_greenlit", "not_dead"})
DEFAULT_CORPUS = ROOT / "tests" / "data" / "corpus.jsonl"
DEFAULT_FILMS = ROOT / "tests" / "data" / "films.json"

ClassifyFn = Callable[[str, str, datetime | None], list[Signal]]


def load_films(path: Path = DEFAULT_FILMS) -> list[FilmRef]:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return [
        FilmRef(f["id"], f["title"], tuple(f.get("aliases", ())), tuple(f.get("originals", ())))
        for f in raw
    ]


def load_corpus(path: Path = DEFAULT_CORPUS) -> list[dict]:
    paths = [Path(path)] if Path(path).is_file() else sorted(Path(path).glob("corpus*.jsonl"))
    items: list[dict] = []
    for p in paths:
        with p.open(encoding="utf-8") as fh:
            items.extend(json.loads(line) for line in fh if line.strip())
    return items


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- keyword baseline -------------------------------------------------------------------------

_BASELINE_KEYWORDS: dict[str, str] = {
    "rumored": r"rumou?r|reportedly|in (?:early )?talks|could|might|would love|hopes?|speculat",
    "in_development": r"in development|developing|in the works|script|screenplay|writer|"
    r"to write|to direct|director",
    "greenlit": r"green ?lit|green ?light|go-ahead|officially|ordered|confirm",
    "pre_production": r"\bcast\b|casting|joins|start date|pre-production",
    "filming": r"filming|shooting|cameras? roll|principal photography|production (?:began|"
    r"begins|started|starts|underway)|on set",
    "post_production": r"\bwrap|post-production|editing",
    "released": r"in theat(?:er|re)s|now streaming|box office|opening weekend|now playing|"
    r"\breleased|in cinemas",
    "cancelled": r"cancel|scrapped|shelved|\baxed|pulled the plug|\bdead\b",
}


class KeywordBaseline:
    """The strongest plain filter a feed-to-Discord user could configure.

    Film: any title or alias as a whole word, or an original's title next to "sequel"/"2".
    Status: keyword lists per label over title+summary; a cancellation keyword wins, else the
    most advanced stage keyword found.
    """

    def __init__(self, films: Iterable[FilmRef]) -> None:
        self._film_res: list[tuple[str, re.Pattern[str]]] = []
        for f in films:
            names = [re.escape(n) for n in (f.title, *f.aliases)]
            for o in f.originals:
                names.append(re.escape(o) + r"(?:'s)? (?:sequel|2|follow-up)")
                names.append(r"(?:sequel|follow-up) to " + re.escape(o))
            self._film_res.append((f.id, re.compile(r"\b(?:" + "|".join(names) + r")\b", re.I)))
        self._label_res = {k: re.compile(v, re.I) for k, v in _BASELINE_KEYWORDS.items()}

    def classify(self, title: str, summary: str, published: datetime | None = None) -> list[Signal]:
        text = f"{title}. {summary}"
        hits = [(m.start(), fid) for fid, rx in self._film_res if (m := rx.search(text))]
        if not hits:
            return []
        film = min(hits)[1]
        found = {label for label, rx in self._label_res.items() if rx.search(text)}
        if not found:
            return []
        if "cancelled" in found:
            status = "cancelled"
        else:
            status = max(found, key=STAGES.index)
        return [Signal(film, status, title, 0.5)]


# --- scoring ----------------------------------------------------------------------------------


def _rank(status: str | None) -> int:
    return STAGES.index(status) if status in STAGES else -1


def score(items: Sequence[dict], classify: ClassifyFn) -> dict:
    confusion = {g: dict.fromkeys(CLASSES, 0) for g in CLASSES}
    correct = hard_total = hard_correct = film_correct = overclaims = 0
    also_total = also_correct = 0
    mistakes: list[dict] = []
    for item in items:
        signals = classify(item["title"], item["summary"], parse_time(item.get("published")))
        pred_film = signals[0].film if signals else None
        pred_status = signals[0].status if signals else None
        gold_film, gold_status = item.get("film"), item.get("status")
        confusion[gold_status or "none"][pred_status or "none"] += 1
        ok = pred_film == gold_film and pred_status == gold_status
        correct += ok
        film_correct += pred_film == gold_film
        if item.get("hard"):
            hard_total += 1
            hard_correct += ok
        if (
            OVERCLAIM_KINDS & set(item.get("hard", ()))
            and pred_status != gold_status
            and (
                (pred_status == "cancelled")
                or (_rank(pred_status) > max(_rank(gold_status), _rank("rumored")))
            )
        ):
            overclaims += 1
        by_film = {s.film: s.status for s in signals}
        for extra in item.get("also", ()):
            also_total += 1
            also_correct += by_film.get(extra["film"]) == extra["status"]
        if not ok:
            mistakes.append(
                {
                    "id": item["id"],
                    "gold": [gold_film, gold_status],
                    "pred": [pred_film, pred_status],
                }
            )
    per_label: dict[str, dict[str, float]] = {}
    for c in CLASSES:
        tp = confusion[c][c]
        fp = sum(confusion[g][c] for g in CLASSES) - tp
        fn = sum(confusion[c].values()) - tp
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        per_label[c] = {"precision": p, "recall": r, "f1": f1, "support": tp + fn}
    present = [c for c in CLASSES if per_label[c]["support"]]
    n = len(items)
    return {
        "items": n,
        "per_label": per_label,
        "macro_f1": sum(per_label[c]["f1"] for c in present) / len(present) if present else 0.0,
        "accuracy": correct / n if n else 0.0,
        "hard_accuracy": hard_correct / hard_total if hard_total else 0.0,
        "hard_items": hard_total,
        "film_accuracy": film_correct / n if n else 0.0,
        "overclaims": overclaims,
        "also_accuracy": also_correct / also_total if also_total else None,
        "confusion": confusion,
        "mistakes": mistakes,
    }


def speed(classify: ClassifyFn, items: Sequence[dict], calls: int = 4000) -> float:
    """Stories per second on one core (a warm loop over the corpus)."""
    prepared = [(i["title"], i["summary"], parse_time(i.get("published"))) for i in items]
    for title, summary, published in prepared[:50]:
        classify(title, summary, published)
    done = 0
    start = time.perf_counter()
    while done < calls:
        for title, summary, published in prepared:
            classify(title, summary, published)
            done += 1
            if done >= calls:
                break
    return done / (time.perf_counter() - start)


def run(
    corpus: Path = DEFAULT_CORPUS,
    films_path: Path = DEFAULT_FILMS,
    timing: bool = True,
    id_prefixes: Sequence[str] = (),
) -> dict:
    films = load_films(films_path)
    items = load_corpus(corpus)
    systems: dict[str, ClassifyFn] = {
        "classifier": Classifier(films).classify,
        "baseline": KeywordBaseline(films).classify,
    }
    out: dict = {"splits": {}}
    for split in ("dev", "heldout"):
        subset = [i for i in items if i.get("split") == split]
        out["splits"][split] = {name: score(subset, fn) for name, fn in systems.items()}
    if id_prefixes:
        out["subsets"] = {}
        for prefix in id_prefixes:
            subset = [i for i in items if i["id"].startswith(prefix)]
            out["subsets"][prefix] = {name: score(subset, fn) for name, fn in systems.items()}
    if timing:
        out["items_per_second"] = speed(systems["classifier"], items)
    return out


# --- printing ---------------------------------------------------------------------------------


def _short(label: str) -> str:
    return {
        "in_development": "in_dev",
        "pre_production": "pre_prod",
        "post_production": "post_prod",
    }.get(label, label)


def format_report(results: dict) -> str:
    lines: list[str] = []
    sections = [(split, systems) for split, systems in results["splits"].items()]
    sections += [(f"ids {p}*", systems) for p, systems in results.get("subsets", {}).items()]
    for split, systems in sections:
        for name, s in systems.items():
            lines.append(f"== {split} / {name} ({s['items']} items, {s['hard_items']} hard) ==")
            lines.append(f"{'label':<16}{'P':>7}{'R':>7}{'F1':>7}{'n':>5}")
            for c in CLASSES:
                m = s["per_label"][c]
                lines.append(
                    f"{c:<16}{m['precision']:>7.3f}{m['recall']:>7.3f}{m['f1']:>7.3f}"
                    f"{m['support']:>5}"
                )
            also = s["also_accuracy"]
            lines.append(
                f"macro-F1 {s['macro_f1']:.3f}  accuracy {s['accuracy']:.3f}  "
                f"hard-accuracy {s['hard_accuracy']:.3f}  film-accuracy {s['film_accuracy']:.3f}  "
                f"negated/hedged-as-asserted {s['overclaims']}  "
                f"also-accuracy {'n/a' if also is None else f'{also:.3f}'}"
            )
            lines.append("confusion (rows gold, columns predicted):")
            lines.append(" " * 10 + "".join(f"{_short(c)[:9]:>10}" for c in CLASSES))
            for g in CLASSES:
                row = s["confusion"][g]
                lines.append(f"{_short(g)[:9]:<10}" + "".join(f"{row[c]:>10}" for c in CLASSES))
            lines.append("")
    if "items_per_second" in results:
        lines.append(f"classifier speed: {results['items_per_second']:.0f} items/s (one core)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--films", type=Path, default=DEFAULT_FILMS)
    parser.add_argument("--json", type=Path, default=None, help="write the figures to FILE")
    parser.add_argument("--mistakes", action="store_true", help="list dev items got wrong")
    parser.add_argument(
        "--ids",
        default="",
        help="comma-separated id prefixes (e.g. B,C): also score each such subset on its own",
    )
    args = parser.parse_args(argv)
    prefixes = [p.strip() for p in args.ids.split(",") if p.strip()]
    results = run(args.corpus, args.films, id_prefixes=prefixes)
    print(format_report(results))
    if args.mistakes:
        for m in results["splits"]["dev"]["classifier"]["mistakes"]:
            print(m)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
