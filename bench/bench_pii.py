"""Benchmark: the anonymisation guard on 1 KB to 400 KB of text (issue 12).

    .venv/bin/python bench/bench_pii.py [--runs 5]

Prints the CPU time (best of several runs) of ``find_personal_data`` for texts of 1, 10, 100 and 400 KB, for
realistic text (the guard corpus's sentences, with and without personal data, repeated)
and for adversarial text: repeated addresses (the text that took 30 s before), long digit
runs, digits in groups of one, many capitalised words and first names, and one endless
word. Targets: at most 50 ms per 100 KB of realistic text, and a ratio 400 KB / 100 KB of
at most 4.5 (linear growth) for every text. The first call loads the name lexicon; that time is printed apart.
"""

import argparse
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import pii  # noqa: E402

SIZES_KB = (1, 10, 100, 400)
TARGET_MS_PER_100KB = 50.0
TARGET_RATIO = 4.5


def _corpus_text() -> str:
    negatives, positives = [], []
    for folder in (ROOT / "tests" / "pii_corpus", ROOT / "tests" / "pii_corpus" / "round2"):
        for name, into in (("negative.txt", negatives), ("positive.txt", positives)):
            for line in (folder / name).read_text(encoding="utf-8").splitlines():
                if line.strip() and not line.startswith("#"):
                    into.append(line.split("] ", 1)[-1] if line.startswith("[") else line)
    # Mostly ordinary text, as in real notes: about three sentences without personal data
    # to one with.
    return " ".join(negatives + positives[::3]) + " "


REALISTIC = "realistic (corpus sentences)"
TEXTS = {
    REALISTIC: _corpus_text(),
    "repeated addresses": "Hauptstraße 1 ",
    "long digit run": "1234567890",
    "digits in groups of one": "0 6 1 0 4 ",
    "grouped phone numbers": "Tel. 0 69 / 12 34 56, ",
    "spaced digits": "1 2 3 4 5 6 7 8 9 0 ",
    "e-mail markers": "a@",
    "many capitals": "Anna Berta Carl Dora Emil Friedrich Gustav Heinrich Ida Julius ",
    "first-name lists": "Lena, Tim und Mia sowie ",
    "one endless word": "Kinderbetreuungs",
}


def _sized(unit: str, kb: int) -> str:
    target = kb * 1024
    return (unit * (target // len(unit) + 1))[:target]


def _best_ms(texts: dict[int, str], runs: int) -> dict[int, float]:
    """The best of ``runs`` CPU times per size, the sizes taken in turn within each run, so
    that a burst of load on the shared machine does not fall on one size only: the others'
    load only ever adds time."""
    best = {kb: float("inf") for kb in texts}
    for _ in range(runs):
        for kb, text in texts.items():
            t0 = time.process_time()
            pii.find_personal_data(text)
            best[kb] = min(best[kb], (time.process_time() - t0) * 1000)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    t0 = time.perf_counter()
    pii.find_personal_data("Emine Doğan kommt morgen.")
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"first call (loads the lexicon): {(time.perf_counter() - t0) * 1000:.0f} ms\n"
    )

    header = " | ".join(f"{kb:>4} KB" for kb in SIZES_KB)
    print(f"| text | {header} | 400/100 |")
    print("|---|" + "---:|" * (len(SIZES_KB) + 1))
    ok = True
    for label, unit in TEXTS.items():
        best = _best_ms({kb: _sized(unit, kb) for kb in SIZES_KB}, args.runs)
        ratio = best[400] / best[100]
        cells = " | ".join(f"{best[kb]:7.1f}" for kb in SIZES_KB)
        print(f"| {label} | {cells} | {ratio:.2f} |")
        ok = ok and ratio <= TARGET_RATIO and (label != REALISTIC or best[100] <= TARGET_MS_PER_100KB)
    print(
        f"\nCPU times in ms (best of {args.runs} runs); targets: 100 KB <= {TARGET_MS_PER_100KB:.0f} ms, "
        f"400 KB / 100 KB <= {TARGET_RATIO}"
    )
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
