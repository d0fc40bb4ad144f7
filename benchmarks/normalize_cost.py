"""Normalisation cost: milliseconds per 1000 characters, and its share of first-chunk time.

Two tables. (1) Per language, a markdown-heavy LLM reply full of numbers, and the plain
agent replies (nothing to rewrite): normalised whole, and pushed in two-word pieces as an
LLM streams it (the streaming path re-checks its safe points on every piece); the English
reply again with a pronunciation dictionary of 1,000 entries (a few of them in the text).
(2) On the
``full`` synthetic bundle (the real model's compute), a reply streamed in two-word pieces:
time to the first chunk with normalisation on and off, and the normaliser's own time for
the text that arrives before that chunk is released.

    uv run python benchmarks/normalize_cost.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time

from common import REPLIES, synthetic_bundle, two_word_pieces
from supertonic_core import Engine
from supertonic_core.bundle import verify_bundle
from supertonic_core.chunking import IncrementalSplitter
from supertonic_core.normalize import StreamNormalizer
from supertonic_core.pronunciation import PronunciationDictionary, Pronunciations
from supertonic_core.runtime import RuntimeOptions

#: A reply in each language with markdown, amounts, dates, times, units and a link.
RICH = {
    "en": "## Your trip\n\n- **Flight** leaves at 7:45 am on 2026-12-01 from gate 12.\n"
    "- Tickets cost $1,249.50, about 15% less than last year.\n"
    "- Call +1 415 555 0100 or see [the guide](https://example.com/guide).\n\n"
    "The hotel is 3.5 km away; check-in is 2-4 pm. Dr. Lee wrote 3 notes, e.g. bring 2 IDs.",
    "de": "## Ihre Reise\n\n- **Flug** um 7:45 am 01.12.2026 von Gate 12.\n"
    "- Tickets kosten 1.249,50 €, etwa 15 % weniger als letztes Jahr.\n"
    "- Rufen Sie +49 30 1234 5678 an oder lesen Sie [den Leitfaden](https://example.com).\n\n"
    "Das Hotel ist 3,5 km entfernt; Check-in 14-16 Uhr, z.B. mit 2 Ausweisen.",
    "fr": "## Votre voyage\n\n- **Vol** à 7:45 le 2026-12-01, porte 12.\n"
    "- Billets à 1 249,50 €, environ 15 % de moins que l'an dernier.\n"
    "- Appelez le +33 1 23 45 67 89 ou lisez [le guide](https://example.com).\n\n"
    "L'hôtel est à 3,5 km ; arrivée de 14-16 h, le 1er jour.",
    "ru": "## Поездка\n\n- **Рейс** в 7:45, 2026-12-01, выход 12.\n"
    "- Билеты стоят 1 249,50 €, примерно на 15 % дешевле.\n"
    "- Звоните +7 495 123 45 67 или читайте [справку](https://example.com).\n\n"
    "Отель в 3,5 км; заезд 14-16, т.е. после обеда, 1-я линия.",
    "ko": "## 여행 안내\n\n- **항공편**은 2026-12-01 7:45에 12번 게이트에서 출발합니다.\n"
    "- 표 가격은 $1,249.50이며 작년보다 15% 저렴합니다.\n"
    "- +82 2 1234 5678로 전화하거나 [안내서](https://example.com)를 보세요.\n\n"
    "호텔은 3.5km 떨어져 있고 체크인은 3시입니다. 가방 2개를 챙기세요.",
    "ja": "## 旅行案内\n\n- **便**は2026-12-01の7:45に12番ゲートから出発します。\n"
    "- 料金は$1,249.50で、昨年より15%安いです。\n"
    "- +81 3 1234 5678に電話するか[案内](https://example.com)を見てください。\n\n"
    "ホテルは3.5km先です。チェックインは15:00です。荷物は2個までです。",
}
PLAIN = " ".join(REPLIES)
#: A dictionary of 1,000 entries, three of which the English reply holds.
WORDS = {f"Brand{i}": f"brand {i}" for i in range(997)} | {
    "Flight": "Flyte",
    "Dr. Lee": "Doctor Lee",
    "IDs": "eye dees",
}


def per_1000(
    text: str, lang: str, streamed: bool, repeats: int, words: Pronunciations | None = None
) -> float:
    """Median milliseconds to normalise ``text``, per 1000 characters."""
    pieces = two_word_pieces(text) if streamed else [text]
    times = []
    for _ in range(repeats):
        normalizer = StreamNormalizer(lang, pronunciations=words)
        started = time.perf_counter()
        for piece in pieces:
            normalizer.push(piece)
        normalizer.flush()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000 * 1000 / len(text)


def before_first_chunk(text: str, lang: str, repeats: int) -> float:
    """Median ms the normaliser spends on the pieces that arrive before the splitter
    releases the first chunk (what normalisation adds to the first chunk's wait)."""
    times = []
    for _ in range(repeats):
        normalizer, splitter = (
            StreamNormalizer(lang),
            IncrementalSplitter(lang, first_chunk_chars=50),
        )
        spent = 0.0
        for piece in two_word_pieces(text):
            started = time.perf_counter()
            spoken = normalizer.push(piece)
            spent += time.perf_counter() - started
            if any(splitter.push(s) for s in spoken if isinstance(s, str)):
                break
        times.append(spent)
    return statistics.median(times) * 1000


async def first_chunk_ms(engine: Engine, text: str, normalize: bool) -> float:
    stream = engine.open_stream(engine.options(seed=0, normalize=normalize))
    started = time.perf_counter()
    for piece in two_word_pieces(text):
        stream.add_text(piece)
    stream.end()
    async with stream:
        async for _ in stream:
            return (time.perf_counter() - started) * 1000
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="normaliser runs per cell")
    parser.add_argument("--engine-repeats", type=int, default=5, help="streams per mode")
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}")
    print("\n| text | chars | whole, ms / 1000 chars | streamed, ms / 1000 chars |")
    print("|---|---|---|---|")
    for lang, text in [*RICH.items(), ("en (plain replies)", PLAIN)]:
        code = lang.split()[0]
        whole = per_1000(text, code, False, args.repeats)
        streamed = per_1000(text, code, True, args.repeats)
        print(f"| {lang} | {len(text)} | {whole:.2f} | {streamed:.2f} |")
    words = Pronunciations([PronunciationDictionary.from_mapping("bench", WORDS)])
    whole = per_1000(RICH["en"], "en", False, args.repeats, words)
    streamed = per_1000(RICH["en"], "en", True, args.repeats, words)
    print(f"| en, 1,000-entry dictionary | {len(RICH['en'])} | {whole:.2f} | {streamed:.2f} |")

    engine = Engine(verify_bundle(synthetic_bundle("full")), runtime=RuntimeOptions(device="cpu"))
    engine.warmup()
    text = RICH["en"]
    on, off = [], []
    for _ in range(args.engine_repeats):  # alternate, so load drifts hit both alike
        on.append(asyncio.run(first_chunk_ms(engine, text, True)))
        off.append(asyncio.run(first_chunk_ms(engine, text, False)))
    engine.close()
    norm = before_first_chunk(text, "en", args.repeats)
    first_on, first_off = statistics.median(on), statistics.median(off)
    print("\n| first chunk (full bundle, en reply in two-word pieces) | ms |")
    print("|---|---|")
    print(f"| normalisation on, median of {args.engine_repeats} | {first_on:.0f} |")
    print(f"| normalisation off, median of {args.engine_repeats} | {first_off:.0f} |")
    print(f"| normaliser's own time before the first chunk | {norm:.3f} |")
    print(f"| its share of the first-chunk time | {100 * norm / first_on:.3f} % |")


if __name__ == "__main__":
    main()
