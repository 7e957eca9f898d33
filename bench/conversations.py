"""Conversation store at scale: 1,000 conversations of 20 turns, then the time to save one more turn,
to load a whole conversation and to list an owner's conversations (median and p95, milliseconds).

    .venv/bin/python -m bench.conversations [--conversations 1000] [--turns 20] [--samples 200]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import machine
from rag.evaluation.metrics import percentile as pct
from rag.conversations import ConversationStore
from rag.types import Answer, Citation, Passage


def _answer(i: int) -> Answer:
    """An answer the size of a real one: two cited passages of about 600 characters, two related."""
    passages = [Passage(f"doc{i % 7}.txt:{k}", f"doc{i % 7}.txt", "vi", ("Campuchia đã bắt giữ 2.141 nghi phạm. " * 16)[:600],
                        k * 600, k * 600 + 600, 0.8) for k in range(2)]
    return Answer(
        question=f"Câu hỏi số {i}?",
        text="Campuchia đã bắt giữ 2.141 nghi phạm [1], Myanmar trao trả hơn 5.500 người [2].",
        language="vi",
        citations=tuple(Citation(k + 1, p.document, p.language, p.text[:40], p.start, p.start + 40, p.score, p)
                        for k, p in enumerate(passages)),
        related=tuple(passages),
    )


def _ms(f) -> float:
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conversations", type=int, default=1000)
    ap.add_argument("--turns", type=int, default=20)
    ap.add_argument("--samples", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = ConversationStore(Path(tmp) / "conversations.sqlite")
        owners = [f"user{k}" for k in range(10)]
        ids = []
        t = time.perf_counter()
        for c in range(args.conversations):
            owner = owners[c % len(owners)]
            info = store.create(owner, "rag_chunks")
            ids.append((info.id, owner))
            for turn in range(args.turns):
                store.add_turn(info.id, owner, f"Câu hỏi số {turn}?", _answer(turn))
        fill_s = time.perf_counter() - t
        rng = random.Random(0)
        picks = [rng.choice(ids) for _ in range(args.samples)]
        save = [_ms(lambda: store.add_turn(cid, owner, "Còn Lào thì sao?", _answer(0))) for cid, owner in picks]
        load = [_ms(lambda: store.get(cid, owner)) for cid, owner in picks]
        listing = [_ms(lambda: store.list(owner)) for _, owner in picks]
        size_mb = (Path(tmp) / "conversations.sqlite").stat().st_size / 2**20
    result = {
        "machine": machine(),
        "conversations": args.conversations, "turns_each": args.turns, "fill_s": round(fill_s, 1),
        "file_mib": round(size_mb, 1),
        **{f"{name}_ms": {"median": round(statistics.median(v), 2), "p95": round(pct(v, 95), 2)}
           for name, v in (("save_turn", save), ("load_conversation", load), ("list_owner", listing))},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
