"""Log-file collector throughput and memory, side by side with a jq pipeline computing the same sums.

Generates an archive of realistic invocation log records (Bedrock's S3 layout, gzipped JSON Lines, with
request and response bodies as text delivery logs them) in a temporary folder, then times
`collect_logfiles` over half and over all of it (with orjson when installed, then with the standard
library's json), each in a fresh process so peak RSS is its own, and `zcat | jq` computing the same sums.
Flat memory shows as the same peak RSS for half and all. Size: BENCH_LOGFILES_MB (default 220 MB
uncompressed), fastest of BENCH_LOGFILES_REPEAT runs (default 2); `--quick`: 1 MB, one run. Not a test.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import multiprocessing
import os
import random
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
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


def _peak_rss_kib() -> int:
    """This process's peak RSS in KiB: VmHWM, which exec resets (ru_maxrss keeps the parent's peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _collect_in_child(source: str, start: str, end: str, stdlib: bool, queue: Any) -> None:
    from bedrock_usage.collect import logfile_parse, logfiles
    from bedrock_usage.model import Window

    if stdlib:
        logfile_parse.msgspec = None  # the standard library's json, for comparison
    baseline = _peak_rss_kib()
    cpu = _cpu_seconds(resource.RUSAGE_SELF)
    began = time.perf_counter()
    window = Window(datetime.fromisoformat(start), datetime.fromisoformat(end))
    usage = logfiles.collect_logfiles(source, window)
    elapsed = time.perf_counter() - began
    cpu = _cpu_seconds(resource.RUSAGE_SELF) - cpu  # every thread of the process
    peak = _peak_rss_kib()
    sums = {m: (c.invocations, c.input_tokens, c.output_tokens) for m, c in usage.by_model.items()}
    queue.put(Run(elapsed, cpu, baseline, peak, sums, usage.skipped_records))


@dataclass
class Run:
    """One timed read: wall and CPU seconds, RSS after imports and at peak (KiB), per-model sums."""

    seconds: float
    cpu: float
    baseline_kib: int
    peak_kib: int
    sums: dict[str, tuple[int, int, int]]
    skipped: int = 0


def measure(source: Path, end: datetime, stdlib: bool = False, repeat: int = 1) -> Run:
    """The fastest of `repeat` collections, each in a fresh process so its peak RSS is its own."""
    runs = [_measure_once(source, end, stdlib) for _ in range(repeat)]
    return min(runs, key=lambda run: run.seconds)


def _measure_once(source: Path, end: datetime, stdlib: bool) -> Run:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    args = (str(source), START.isoformat(), end.isoformat(), stdlib, queue)
    child = ctx.Process(target=_collect_in_child, args=args)
    child.start()
    run: Run = queue.get()
    child.join()
    assert run.skipped == 0, f"{run.skipped} records skipped in a generated archive"
    return run


def jq_sums(files: list[Path], repeat: int = 1) -> Run | None:
    """zcat | jq reduce: the same per-model sums, fastest of `repeat`; None when jq is not installed."""
    if shutil.which("jq") is None:
        return None
    return min((_jq_once(files) for _ in range(repeat)), key=lambda run: run.seconds)


def _jq_once(files: list[Path]) -> Run:
    jq = str(shutil.which("jq"))
    program = (
        "reduce inputs as $r ({}; .[$r.modelId] |= "
        "{n: ((.n // 0) + 1), i: ((.i // 0) + ($r.input.inputTokenCount // 0)), "
        "o: ((.o // 0) + ($r.output.outputTokenCount // 0))})"
    )
    cpu = _cpu_seconds(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    with subprocess.Popen(["zcat", *map(str, files)], stdout=subprocess.PIPE) as cat:
        result = subprocess.run([jq, "-c", "-n", program], stdin=cat.stdout, capture_output=True, check=True)
    elapsed = time.perf_counter() - began
    cpu = _cpu_seconds(resource.RUSAGE_CHILDREN) - cpu  # zcat and jq together
    data = json.loads(result.stdout)
    return Run(elapsed, cpu, 0, 0, {m: (v["n"], v["i"], v["o"]) for m, v in data.items()})


def main(quick: bool = False) -> None:
    megabytes = 1.0 if quick else float(os.environ.get("BENCH_LOGFILES_MB", "220"))
    # Best of N: on a shared machine a neighbour's burst slows one run; the fastest is the code's own pace.
    repeat = 1 if quick else int(os.environ.get("BENCH_LOGFILES_REPEAT", "2"))
    with tempfile.TemporaryDirectory(prefix="bench-logfiles-") as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        size, records, files = generate(root, int(megabytes * 1_000_000))
        gz_size = sum(f.stat().st_size for f in files)
        print(
            f"archive: {len(files)} files, {records:,} records, {size / 1e6:,.0f} MB JSON "
            f"({gz_size / 1e6:,.0f} MB gzipped), generated in {time.perf_counter() - began:.0f} s"
        )
        end_all = START + timedelta(hours=len(files) + 1)
        end_half = START + timedelta(hours=max(1, len(files) // 2))
        half_share = max(1, len(files) // 2) / len(files)
        fast = "msgspec" if importlib.util.find_spec("msgspec") else "json (msgspec not installed)"
        runs = [
            (f"collect_logfiles ({fast}), half", measure(root, end_half, repeat=repeat), half_share),
            (f"collect_logfiles ({fast}), all", measure(root, end_all, repeat=repeat), 1.0),
            ("collect_logfiles (stdlib json), all", measure(root, end_all, True, repeat), 1.0),
        ]
        expected = runs[1][1].sums
        if any(run.sums != expected for _, run, share in runs if share == 1.0):
            raise SystemExit("the two parsers disagree on the archive's sums")
        jq = jq_sums(files, repeat)
    # Throughput of `zcat | jq` over the whole archive, by wall clock and per CPU second: the anchors.
    anchor = (size / jq.seconds, size / jq.cpu) if jq else None
    rows = [_row(label, run, size * share, records * share, anchor) for label, run, share in runs]
    if jq is not None:
        agree = "same sums" if jq.sums == expected else "SUMS DIFFER"
        rows.append(_row(f"zcat | jq reduce ({agree})", jq, size, records, anchor))
    else:
        rows.append(("jq not installed", *["-"] * 7))
    headers = (
        "reader",
        "MB JSON",
        "seconds",
        "MB/s",
        "records/s",
        "CPU s",
        "x jq (wall/CPU)",
        "peak RSS MiB",
    )
    widths = [max(len(str(r[i])) for r in (headers, *rows)) for i in range(len(headers))]
    for row in (headers, *rows):
        print(
            "  ".join(
                str(c).ljust(w) if i == 0 else str(c).rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    if jq is not None:
        whole = runs[1][1]
        ratio = jq.cpu / whole.cpu
        print(
            f"collect_logfiles ({fast}) over the whole archive: {ratio:.1f}x `zcat | jq` in CPU time, "
            f"{jq.seconds / whole.seconds:.1f}x by wall clock; goal 3x in CPU time: "
            + ("met" if ratio >= 3 else "not met")
        )
    print(
        f"fastest of {repeat} run(s) each. x jq: throughput over `zcat | jq`'s on the whole archive (goal\n"
        ">= 3x), by wall clock and per CPU second (every thread; jq's two processes). The CPU ratio is the\n"
        "steadier on a busy machine; the wall ratio counts the inflating thread as jq's counts zcat."
    )


def _row(
    label: str, run: Run, size: float, records: float, anchor: tuple[float, float] | None
) -> tuple[str, ...]:
    mb = size / 1e6
    ratio = (
        "-" if anchor is None else f"{size / run.seconds / anchor[0]:.1f} / {size / run.cpu / anchor[1]:.1f}"
    )
    peak = (
        f"{run.peak_kib / 1024:,.0f} (after imports {run.baseline_kib / 1024:,.0f})" if run.peak_kib else "-"
    )
    return (
        label,
        f"{mb:,.0f}",
        f"{run.seconds:.1f}",
        f"{mb / run.seconds:,.1f}",
        f"{records / run.seconds:,.0f}",
        f"{run.cpu:.1f}",
        ratio,
        peak,
    )


if __name__ == "__main__":
    main()
