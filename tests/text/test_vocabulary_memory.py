"""A server reading words it has never met must not grow without end (spaCy keeps every string)."""

from __future__ import annotations

import random
import string

from backtriage.text import pipeline as pipeline_module
from backtriage.text import understand


def test_the_shipped_pipeline_is_rebuilt_once_its_vocabulary_has_grown(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(pipeline_module, "MAX_NEW_STRINGS", 5_000)
    monkeypatch.setattr(pipeline_module, "_shipped", {})
    rng = random.Random(7)
    first = pipeline_module.default_pipeline()
    sizes = []
    for _ in range(8):
        words = " ".join("".join(rng.choices(string.ascii_lowercase, k=9)) for _ in range(2_000))
        understand(words + " numb back")
        sizes.append(len(pipeline_module.default_pipeline().nlp.vocab.strings))
    assert pipeline_module.default_pipeline() is not first
    baseline = len(pipeline_module.TextPipeline.build().nlp.vocab.strings)
    assert max(sizes) <= baseline + 5_000 + 2 * 2_001  # bounded: at most one text over the limit
