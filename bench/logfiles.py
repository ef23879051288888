"""Log-file collector throughput and memory, side by side with a jq pipeline computing the same sums.

Generates an archive of realistic invocation log records (Bedrock's S3 layout, gzipped JSON Lines, with
request and response bodies as text delivery logs them) in a temporary folder, then times
`collect_logfiles` over half and over all of it, each in a fresh process so peak RSS is its own.
Size: BENCH_LOGFILES_MB (default 220 MB uncompressed). Not a test.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import random
import resource
import shutil
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MODELS = [
    "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "global.anthropic.claude-opus-4-6-v1",
    "anthropic.claude-3-haiku-20240307-v1:0",
    "us.amazon.nova-lite-v1:0",
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/82ey7vcct4m3",
    "meta.llama3-3-70b-instruct-v1:0",
]
CALLERS = [f"arn:aws:sts::123456789012:assumed-role/Team{i}Role/session-{i}" for i in range(12)]
WORDS = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "bedrock", "counts"]
START = datetime(2026, 11, 1, tzinfo=UTC)
RECORDS_PER_FILE = 2000


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _record(rng: random.Random, moment: datetime) -> dict[str, Any]:
    model = rng.choice(MODELS)
    stream = rng.random() < 0.3
    inp = rng.randint(50, 4000)
    out = rng.randint(10, 1500)
    prompt = _text(rng, rng.randint(20, 400))
    answer = _text(rng, rng.randint(10, 200))
    body_out: Any
    if stream:
        chunks: list[dict[str, Any]] = [{"messageStart": {"role": "assistant"}}]
        chunks += [
            {"contentBlockDelta": {"delta": {"text": w}, "contentBlockIndex": 0}} for w in answer.split()[:40]
        ]
        chunks.append(
            {
                "metadata": {
                    "usage": {"inputTokens": inp, "outputTokens": out},
                    "metrics": {"latencyMs": rng.randint(300, 9000)},
                }
            }
        )
        body_out = chunks
    else:
        body_out = {
            "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": inp, "outputTokens": out},
            "metrics": {"latencyMs": rng.randint(300, 9000)},
        }
    rec: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accountId": "123456789012",
        "identity": {"arn": rng.choice(CALLERS)},
        "region": "us-east-1",
        "requestId": f"{rng.getrandbits(128):032x}",
        "operation": "ConverseStream" if stream else "Converse",
        "modelId": model,
        "input": {
            "inputContentType": "application/json",
            "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": prompt}]}]},
            "inputTokenCount": inp,
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": body_out,
            "outputTokenCount": out,
        },
    }
    if rng.random() < 0.5:
        rec["input"]["cacheReadInputTokenCount"] = rng.randint(0, 20000)
        rec["input"]["cacheWriteInputTokenCount"] = rng.randint(0, 2000)
    return rec


def generate(root: Path, target_bytes: int, seed: int = 7) -> tuple[int, int, list[Path]]:
    """Write gz files until `target_bytes` of JSON lines are written; returns (bytes, records, files).

    Records come from a pool of 500 random ones with fresh timestamps, so generation stays fast.
    """
    rng = random.Random(seed)
    pool = []
    for _ in range(500):
        head, tail = json.dumps(_record(rng, START), separators=(",", ":")).split(
            START.strftime("%Y-%m-%dT%H:%M:%SZ"), 1
        )
        pool.append((head, tail))
    written = records = 0
    files: list[Path] = []
    moment = START
    while written < target_bytes:
        folder = root / f"AWSLogs/123456789012/BedrockModelInvocationLogs/us-east-1/{moment:%Y/%m/%d/%H}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{moment:%Y%m%dT%H%M%S}000Z_{len(files):08x}.json.gz"
        lines = []
        for i in range(RECORDS_PER_FILE):
            head, tail = pool[rng.randrange(len(pool))]
            lines.append(f"{head}{moment + timedelta(seconds=i):%Y-%m-%dT%H:%M:%SZ}{tail}")
        blob = ("\n".join(lines) + "\n").encode()
        path.write_bytes(gzip.compress(blob, compresslevel=6))
        written += len(blob)
        records += len(lines)
        files.append(path)
        moment += timedelta(hours=1)
    return written, records, files


def _collect_in_child(source: str, start: str, end: str, queue: Any) -> None:
    from bedrock_usage.collect.logfiles import collect_logfiles
    from bedrock_usage.model import Window

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began = time.perf_counter()
    usage = collect_logfiles(source, Window(datetime.fromisoformat(start), datetime.fromisoformat(end)))
    elapsed = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    sums = {m: (c.invocations, c.input_tokens, c.output_tokens) for m, c in usage.by_model.items()}
    queue.put((elapsed, baseline, peak, sums, usage.skipped_records))


def measure(source: Path, end: datetime) -> tuple[float, int, int, dict[str, tuple[int, int, int]]]:
    """(seconds, baseline KiB, peak KiB, per-model sums) for one collection in a fresh process."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(
        target=_collect_in_child, args=(str(source), START.isoformat(), end.isoformat(), queue)
    )
    child.start()
    elapsed, baseline, peak, sums, skipped = queue.get()
    child.join()
    assert skipped == 0, f"{skipped} records skipped in a generated archive"
    return elapsed, baseline, peak, sums


def jq_sums(files: list[Path]) -> tuple[float, dict[str, tuple[int, int, int]]] | None:
    """zcat | jq reduce: the same per-model sums; None when jq is not installed."""
    jq = shutil.which("jq")
    if jq is None:
        return None
    program = (
        "reduce inputs as $r ({}; .[$r.modelId] |= "
        "{n: ((.n // 0) + 1), i: ((.i // 0) + ($r.input.inputTokenCount // 0)), "
        "o: ((.o // 0) + ($r.output.outputTokenCount // 0))})"
    )
    began = time.perf_counter()
    with subprocess.Popen(["zcat", *map(str, files)], stdout=subprocess.PIPE) as cat:
        result = subprocess.run([jq, "-c", "-n", program], stdin=cat.stdout, capture_output=True, check=True)
    elapsed = time.perf_counter() - began
    data = json.loads(result.stdout)
    return elapsed, {m: (v["n"], v["i"], v["o"]) for m, v in data.items()}


def main() -> None:
    target = int(float(os.environ.get("BENCH_LOGFILES_MB", "220")) * 1_000_000)
    with tempfile.TemporaryDirectory(prefix="bench-logfiles-") as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        size, records, files = generate(root, target)
        gz_size = sum(f.stat().st_size for f in files)
        print(
            f"archive: {len(files)} files, {records:,} records, {size / 1e6:,.0f} MB JSON "
            f"({gz_size / 1e6:,.0f} MB gzipped), generated in {time.perf_counter() - began:.0f} s"
        )
        end_all = START + timedelta(hours=len(files) + 1)
        end_half = START + timedelta(hours=len(files) // 2)
        rows = []
        half_t, half_base, half_peak, _ = measure(root, end_half)
        full_t, full_base, full_peak, sums = measure(root, end_all)
        for label, t, base, peak, share in (
            ("collect_logfiles, half", half_t, half_base, half_peak, (len(files) // 2) / len(files)),
            ("collect_logfiles, all", full_t, full_base, full_peak, 1.0),
        ):
            rows.append(
                (
                    label,
                    f"{size * share / 1e6:,.0f}",
                    f"{t:.1f}",
                    f"{size * share / 1e6 / t:,.1f}",
                    f"{records * share / t:,.0f}",
                    f"{peak / 1024:,.0f} (after imports {base / 1024:,.0f})",
                )
            )
        jq = jq_sums(files)
        if jq is not None:
            jq_t, jq_result = jq
            agree = "same sums" if jq_result == sums else "SUMS DIFFER"
            rows.append(
                (
                    "zcat | jq reduce (" + agree + ")",
                    f"{size / 1e6:,.0f}",
                    f"{jq_t:.1f}",
                    f"{size / 1e6 / jq_t:,.1f}",
                    f"{records / jq_t:,.0f}",
                    "-",
                )
            )
        else:
            rows.append(("jq not installed", "-", "-", "-", "-", "-"))
        headers = ("reader", "MB JSON", "seconds", "MB/s", "records/s", "peak RSS MiB")
        widths = [max(len(str(r[i])) for r in (headers, *rows)) for i in range(len(headers))]
        for row in (headers, *rows):
            print(
                "  ".join(
                    str(c).ljust(w) if i == 0 else str(c).rjust(w)
                    for i, (c, w) in enumerate(zip(row, widths, strict=True))
                )
            )


if __name__ == "__main__":
    main()
