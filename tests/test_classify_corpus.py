"""The labelled corpus: its shape, and the dev-split quality gate (no timing here)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

# bench/ is a top-level folder of the repo, not an installed package.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.quality import (  # noqa: E402
    CLASSES,
    DEFAULT_CORPUS,
    DEFAULT_FILMS,
    load_corpus,
    load_films,
    run,
)
from bot.types import LABELS  # noqa: E402

FIELDS = {"id", "title", "summary", "published", "link", "film", "status", "hard", "split"}


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return load_corpus(DEFAULT_CORPUS)


@pytest.fixture(scope="module")
def results() -> dict:
    return run(timing=False)


def test_corpus_shape(corpus: list[dict]) -> None:
    film_ids = {f.id for f in load_films(DEFAULT_FILMS)}
    assert len(corpus) >= 300
    assert len({i["id"] for i in corpus}) == len(corpus)
    for item in corpus:
        assert FIELDS <= item.keys(), item["id"]
        assert item["split"] in {"dev", "heldout"}
        assert item["status"] is None or item["status"] in LABELS
        assert item["film"] is None or item["film"] in film_ids
        assert (item["film"] is None) == (item["status"] is None), item["id"]
        assert item["published"].endswith("Z") and item["link"].startswith("https://")
        for extra in item.get("also", ()):
            assert extra["film"] in film_ids and extra["status"] in LABELS


def test_corpus_balance(corpus: list[dict]) -> None:
    statuses = Counter(i["status"] or "none" for i in corpus)
    assert set(statuses) == set(CLASSES)
    assert sum(bool(i["hard"]) for i in corpus) / len(corpus) >= 0.4
    # Blind batches (B…, C…) are written after the rules and always join heldout, so its
    # share grows with each batch; dev must stay large enough to gate on.
    heldout = sum(i["split"] == "heldout" for i in corpus) / len(corpus)
    assert 0.25 <= heldout <= 0.5
    assert any(i.get("also") for i in corpus)


def test_films_file_is_valid_json_list() -> None:
    raw = json.loads(Path(DEFAULT_FILMS).read_text(encoding="utf-8"))
    assert 15 <= len(raw) <= 25
    assert all({"id", "title", "aliases", "originals"} <= f.keys() for f in raw)


def test_dev_quality_gate(results: dict) -> None:
    dev = results["splits"]["dev"]["classifier"]
    assert dev["macro_f1"] >= 0.92
    assert dev["hard_accuracy"] >= 0.88
    assert dev["film_accuracy"] >= 0.97
    assert dev["overclaims"] == 0


def test_classifier_beats_keyword_baseline(results: dict) -> None:
    for split in ("dev", "heldout"):
        ours = results["splits"][split]["classifier"]
        baseline = results["splits"][split]["baseline"]
        assert ours["macro_f1"] > baseline["macro_f1"]
        assert ours["overclaims"] <= baseline["overclaims"]


def test_bench_json_output(tmp_path: Path) -> None:
    from bench.quality import main

    out = tmp_path / "q.json"
    assert main(["--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["items_per_second"] > 0
    assert set(data["splits"]) == {"dev", "heldout"}
