"""Digest rendering: HTML size (against Gmail's 102 KB clip) and render time, small to very large accounts."""

from __future__ import annotations

import statistics
import time

from bedrock_usage.digest import GMAIL_CLIP_BYTES, render_digest

from scripts.sample_report import sample_report

CASES = [(1, 1), (6, 6), (20, 100), (100, 500), (500, 2000)]
REPEAT = 5


def measure(models: int, callers: int, repeat: int = REPEAT) -> dict[str, float]:
    report = sample_report(models=models, callers=callers)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        digest = render_digest(report, dashboard_url="https://console.aws.amazon.com/cloudwatch/")
        times.append(time.perf_counter() - started)
    return {
        "html_kb": digest.html_bytes / 1024,
        "text_kb": len(digest.text.encode()) / 1024,
        "ms": statistics.median(times) * 1000,
        "headroom": 1 - digest.html_bytes / GMAIL_CLIP_BYTES,
    }


def main(quick: bool = False) -> None:
    render_digest(sample_report())  # compile the templates once, as a warm Lambda would have
    repeat = 1 if quick else REPEAT
    print(f"digest render, median of {repeat}; Gmail clips HTML over {GMAIL_CLIP_BYTES / 1024:.0f} KB")
    print(f"{'models':>7} {'callers':>8} {'HTML KB':>8} {'text KB':>8} {'render ms':>10} {'headroom':>9}")
    for models, callers in CASES[:2] if quick else CASES:
        r = measure(models, callers, repeat)
        print(
            f"{models:>7} {callers:>8} {r['html_kb']:>8.1f} {r['text_kb']:>8.1f} {r['ms']:>10.1f} "
            f"{r['headroom']:>8.0%}"
        )


if __name__ == "__main__":
    main()
