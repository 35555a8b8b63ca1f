"""Window reading benchmark: find_windows on a 5,000-character announcement, parse_window alone.

    python bench/windows.py [--quick]      # --quick: fewer repetitions

The text is a realistic launch announcement in English and Indonesian, cut to exactly 5,000
characters: model names with numbers ("GPT-4 Turbo", "Gemini 1.5", "70B"), past dates, an
abandoned plan and a dozen real promises in each of its paragraphs. Times are the median of
many runs, in CPU time of this process (time.process_time), so that other work on a busy
machine does not count.
Prints one final JSON line: {"bench": "windows", "find_windows_5k_ms", "parse_window_us",
"windows_found", "text_chars"}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.windows import MAX_TEXT_LENGTH, find_windows, parse_window  # noqa: E402

ANNOUNCED = dt.date(2025, 2, 3)

PARAGRAPHS = (
    "Today we are sharing an update on our model roadmap. Grok 3 launched in May 2023 as a "
    "preview and reached general availability a few weeks later, after training on 100k H100s. "
    "We had hoped to ship the next model in March, but it will now arrive in the summer, with "
    "a 200k context window and a 70B parameter variant for researchers.",
    "The small model will be available in a couple of weeks and the full one later this year. "
    "Enterprise customers get early access in the first three months of 2026, and the API "
    "follows shortly after. Pricing stays at $20 a month for the Pro plan, as it has been "
    "since GPT-4 Turbo and Gemini 1.5 set the bar.",
    "Android 15 and Phi-3 support is ready today; 4K video understanding arrives in Q3 2025 or "
    "later, and the on-device model roughly by the end of the year. The mobile app was "
    "originally planned for Q2, but we now expect it in the autumn, but not September.",
    "Model baru akan dirilis dalam beberapa minggu lagi, dan versi lengkapnya diperkirakan "
    "pada akhir tahun depan. Fitur suara menyusul tiga bulan pertama 2027, kemungkinan besar "
    "sebelum Natal. Nantikan kabar selanjutnya.",
    "Our research preview opens in early March and general availability comes soon after. "
    "Developers who joined last year keep their quota. More details to come, and we will "
    "publish a technical report within 6 weeks, if all goes well.",
)


def announcement(length: int = MAX_TEXT_LENGTH) -> str:
    """The paragraphs repeated and cut to ``length`` characters at a word boundary."""
    text = ""
    while len(text) < length:
        text += "\n".join(PARAGRAPHS) + "\n"
    cut = text[:length]
    return cut[: cut.rfind(" ")].ljust(length, ".")


def median_seconds(run: object, repeat: int) -> float:
    assert callable(run)
    samples = []
    for _ in range(repeat):
        begin = time.process_time()
        run()
        samples.append(time.process_time() - begin)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    repeat = 20 if args.quick else 200

    text = announcement()
    assert len(text) == MAX_TEXT_LENGTH
    found = find_windows(text, ANNOUNCED)
    find_s = median_seconds(lambda: find_windows(text, ANNOUNCED), repeat)

    phrases = ["end of next year", "Q3 2025", "akhir tahun depan", "in 6 weeks", "mid-March"]
    parse_s = median_seconds(
        lambda: [parse_window(phrase, ANNOUNCED) for phrase in phrases], repeat * 10
    ) / len(phrases)

    print(
        json.dumps(
            {
                "bench": "windows",
                "find_windows_5k_ms": round(find_s * 1000, 3),
                "parse_window_us": round(parse_s * 1e6, 2),
                "windows_found": len(found),
                "text_chars": len(text),
            }
        )
    )


if __name__ == "__main__":
    main()
