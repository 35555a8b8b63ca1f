"""Window reading benchmark: find_windows on a 5,000-character announcement, parse_window alone.

    python bench/windows.py [--quick]      # --quick: fewer repetitions

The text is a realistic launch announcement in English and Indonesian, 5,000 characters that
never repeat (no paragraph is read twice, so no reading is served from an earlier one): model
names with numbers ("GPT-4 Turbo", "Gemini 1.5", "70B"), prices, past dates, abandoned and
excluded plans, and some sixty real promises. find_windows_5k_ms is the median of many runs
on that text in one process (its word tables warm, as in a bot that has read a few texts);
find_windows_5k_first_ms is the median of a few first calls, each in a fresh process, where
every word is new. Times are CPU time of the measuring process (time.process_time), so that
other work on a busy machine does not count.
Prints one final JSON line: {"bench": "windows", "find_windows_5k_ms",
"find_windows_5k_first_ms", "parse_window_us", "windows_found", "text_chars"}."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
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
    "On the hardware side, the 2048-GPU cluster we brought online in November 2024 doubles by "
    "mid-2025, and a second site in Jakarta is slated for H2 2026. Training of the 400B model "
    "took 11 weeks; the distilled 8B and 3B versions should be out by Christmas.",
    "Rollout to the European Union was delayed from Q2 to Q4 2025 while we finish the review "
    "with regulators. Sept. 3rd, 2025 is the date for the Paris developer day, and the Tokyo "
    "event follows on 2025-10-14. Registration closes two weeks before each event.",
    "Tim kami di Indonesia sedang menyiapkan versi Bahasa Indonesia. Rencananya fitur ini "
    "tersedia pada kuartal ketiga tahun depan, paling lambat akhir 2026. Versi beta untuk "
    "mitra dibuka bulan depan, kecuali untuk sektor perbankan yang menyusul pertengahan tahun.",
    "Voice mode, which we demoed at I/O 2024, is still in testing and will not ship in April. "
    "We now target the first half of 2026 for the full release, with a limited alpha in the "
    "coming weeks for Plus subscribers in the US, Canada and the UK.",
    "Sementara itu, integrasi dengan aplikasi kantor diundur. Semula dijadwalkan pada Maret, "
    "kini peluncurannya bergeser ke awal semester kedua 2025. Harga paket bisnis tetap Rp "
    "300.000 per bulan hingga 31/12/2025, setelah itu mengikuti tarif baru.",
    "Looking further out, the agent platform is expected sometime in 2027, and robotics "
    "partners get SDK access no later than the end of Q1 2026. We shipped the o1 reasoning "
    "models in September 2024 and the o3-mini in January; o4 follows in a few months.",
    "For researchers: the safety evaluation suite opens in 3 weeks from now, grants for 2025 "
    "are decided by June 30, and the fellowship cohort starts in the fall of 2025. Papers "
    "from last summer's workshop are online, and the next workshop is planned for winter.",
    "Catatan untuk pengembang: API versi 2 dihentikan dalam enam bulan, dan SDK lama tidak "
    "lagi didukung setelah Juli 2025. Dokumentasi baru terbit minggu depan, sedangkan contoh "
    "kode lengkap menyusul dalam hitungan minggu.",
    "Pricing changes take effect on April 1st, 2025 for new accounts and three months later for "
    "existing ones. The free tier keeps 50 messages a day. Students in Brazil and India get a "
    "discount that runs through the end of March, and teachers until the end of the school year.",
    "Claude-style long context arrives in the next model, due late this year, with 1M tokens. "
    "It was supposed to come in Q1, but evaluation took longer than we thought. We are not "
    "changing the release date of the Llama 3.1 port, still planned for 15 March 2025.",
    "Untuk pelanggan korporat, pusat data Batam mulai beroperasi pada pertengahan 2026 dan "
    "pusat data kedua menyusul tahun 2027. Uji coba model 70B dengan 128 GPU sudah selesai "
    "bulan lalu; hasil lengkapnya kami umumkan dalam dua minggu ke depan.",
    "Finally, the open-weights release: weights for the 7B model land between May and July, "
    "the 34B one in H2, and the tokenizer update over the next month. None of this changes the "
    "roadmap we published in 2023; we will post another update before the summer.",
    "Questions we hear a lot: will the desktop app come to Linux? Yes, in the coming months, "
    "after the macOS redesign ships next week. Will memory come to the EU? It is targeted for "
    "early 2026. Will GPT-5 arrive this quarter? We do not comment on other labs' plans.",
    "Ringkasnya: versi seluler menyusul akhir bulan ini, dukungan suara di musim panas, dan "
    "laporan teknis lengkap sebelum akhir Oktober. Terima kasih kepada 12.000 penguji beta.",
    "Thanks to the 4,000 people who filed bugs during the beta, which ran from 10 June 2024 to "
    "the end of August. The next public beta opens in the spring, and we hope to end it by "
    "2026. See you at the developer summit on Nov 18, 2025.",
)


def announcement(length: int = MAX_TEXT_LENGTH) -> str:
    """The paragraphs, each once, cut to ``length`` characters at a word boundary."""
    text = "\n".join(PARAGRAPHS)
    assert len(text) >= length, "the paragraphs must fill the text without repeating"
    cut = text[:length]
    return cut[: cut.rfind(" ")].ljust(length, ".")


def first_call_ms() -> float:
    """One find_windows call in this (fresh) process, in milliseconds of CPU time."""
    text = announcement()
    begin = time.process_time()
    find_windows(text, ANNOUNCED)
    return (time.process_time() - begin) * 1000


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
    parser.add_argument("--first", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first:
        print(first_call_ms())
        return
    repeat = 20 if args.quick else 200

    text = announcement()
    assert len(text) == MAX_TEXT_LENGTH
    found = find_windows(text, ANNOUNCED)
    find_s = median_seconds(lambda: find_windows(text, ANNOUNCED), repeat)

    first_ms = statistics.median(
        float(
            subprocess.run(
                [sys.executable, __file__, "--first"], check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(3 if args.quick else 7)
    )

    phrases = ["end of next year", "Q3 2025", "akhir tahun depan", "in 6 weeks", "mid-March"]
    parse_s = median_seconds(
        lambda: [parse_window(phrase, ANNOUNCED) for phrase in phrases], repeat * 10
    ) / len(phrases)

    print(
        json.dumps(
            {
                "bench": "windows",
                "find_windows_5k_ms": round(find_s * 1000, 3),
                "find_windows_5k_first_ms": round(first_ms, 3),
                "parse_window_us": round(parse_s * 1e6, 2),
                "windows_found": len(found),
                "text_chars": len(text),
            }
        )
    )


if __name__ == "__main__":
    main()
