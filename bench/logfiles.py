"""Log-file scan throughput and memory, side by side with a jq pipeline computing the same sums.

Generates an archive of realistic invocation log records (Bedrock's S3 layout, gzipped JSON Lines, with
request and response bodies as text delivery logs them) in a temporary folder. Each round then reads it
with `zcat | jq`, with `collect_logfiles` (fast engine) over all and over half of it, and with the standard
library's json, each collection in a fresh process so its peak RSS is its own; rounds alternate their
order. The table gives each reader's best (least) CPU and wall time of BENCH_LOGFILES_REPEAT rounds
(default 5), and the ratio of the bests; each round's own ratio is printed too. Flat memory shows as the
same peak RSS for half and all. Then the scan's stages, one engine at a time, on the same archive
(bench/_scan_engines.py). Size: BENCH_LOGFILES_MB (default 220 MB uncompressed); `--quick`: 1 MB, one
round. Not a test.
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


@dataclass
class Run:
    """One timed read: wall and CPU seconds, RSS after imports and at peak (KiB), per-model sums."""

    seconds: float
    cpu: float
    baseline_kib: int
    peak_kib: int
    sums: dict[str, tuple[int, int, int]]
    skipped: int = 0


@dataclass
class Reader:
    """One way of reading the archive, and its runs (one a round)."""

    label: str
    share: float  # of the archive read
    runs: list[Run]

    @property
    def cpu(self) -> float:
        return min(run.cpu for run in self.runs)

    @property
    def seconds(self) -> float:
        return min(run.seconds for run in self.runs)

    @property
    def peak_kib(self) -> int:
        return max(run.peak_kib for run in self.runs)

    @property
    def baseline_kib(self) -> int:
        return max(run.baseline_kib for run in self.runs)


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


def collect_once(source: Path, end: datetime, stdlib: bool = False) -> Run:
    """One collection in a fresh process, so its peak RSS is its own."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    args = (str(source), START.isoformat(), end.isoformat(), stdlib, queue)
    child = ctx.Process(target=_collect_in_child, args=args)
    child.start()
    run: Run = queue.get()
    child.join()
    assert run.skipped == 0, f"{run.skipped} records skipped in a generated archive"
    return run


JQ_PROGRAM = (
    "reduce inputs as $r ({}; .[$r.modelId] |= "
    "{n: ((.n // 0) + 1), i: ((.i // 0) + ($r.input.inputTokenCount // 0)), "
    "o: ((.o // 0) + ($r.output.outputTokenCount // 0))})"
)


def jq_once(files: list[Path]) -> Run:
    """`zcat | jq reduce`: the same per-model sums; CPU of both processes."""
    jq = str(shutil.which("jq"))
    cpu = _cpu_seconds(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    with subprocess.Popen(["zcat", *map(str, files)], stdout=subprocess.PIPE) as cat:
        result = subprocess.run(
            [jq, "-c", "-n", JQ_PROGRAM], stdin=cat.stdout, capture_output=True, check=True
        )
    elapsed = time.perf_counter() - began
    cpu = _cpu_seconds(resource.RUSAGE_CHILDREN) - cpu  # zcat and jq together
    data = json.loads(result.stdout)
    return Run(elapsed, cpu, 0, 0, {m: (v["n"], v["i"], v["o"]) for m, v in data.items()})


def compare(root: Path, files: list[Path], rounds: int, engine: str) -> dict[str, Reader]:
    """Every reader once a round, the order reversed every other round (no reader always runs first)."""
    end_all = START + timedelta(hours=len(files) + 1)
    end_half = START + timedelta(hours=max(1, len(files) // 2))
    readers = {
        "half": Reader(f"collect_logfiles ({engine}), half", max(1, len(files) // 2) / len(files), []),
        "all": Reader(f"collect_logfiles ({engine}), all", 1.0, []),
        "stdlib": Reader("collect_logfiles (stdlib json), all", 1.0, []),
    }
    steps = {
        "half": lambda: collect_once(root, end_half),
        "all": lambda: collect_once(root, end_all),
        "stdlib": lambda: collect_once(root, end_all, stdlib=True),
    }
    if shutil.which("jq") is not None:
        readers["jq"] = Reader("zcat | jq reduce", 1.0, [])
        steps["jq"] = lambda: jq_once(files)
    order = ["jq", "all", "half", "stdlib"]
    for n in range(rounds):
        for name in order if n % 2 == 0 else order[::-1]:
            if name in steps:
                readers[name].runs.append(steps[name]())
    return readers


def main(quick: bool = False) -> None:
    from bedrock_usage.collect import logfile_parse

    from bench import _scan_engines

    megabytes = 1.0 if quick else float(os.environ.get("BENCH_LOGFILES_MB", "220"))
    # Several rounds: on a shared machine a neighbour's burst slows one run; the least time is the code's own.
    rounds = 1 if quick else int(os.environ.get("BENCH_LOGFILES_REPEAT", "5"))
    engine = logfile_parse.engine()
    with tempfile.TemporaryDirectory(prefix="bench-logfiles-") as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        size, records, files = generate(root, int(megabytes * 1_000_000))
        gz_size = sum(f.stat().st_size for f in files)
        print(
            f"archive: {len(files)} files, {records:,} records, {size / 1e6:,.0f} MB JSON "
            f"({gz_size / 1e6:,.0f} MB gzipped), generated in {time.perf_counter() - began:.0f} s"
        )
        readers = compare(root, files, rounds, engine)
        whole = readers["all"]
        expected = whole.runs[0].sums
        if any(run.sums != expected for key in ("all", "stdlib") for run in readers[key].runs):
            raise SystemExit("the two engines disagree on the archive's sums")
        jq = readers.get("jq")
        if jq is not None and any(run.sums != expected for run in jq.runs):
            raise SystemExit("collect_logfiles and zcat | jq disagree on the archive's sums")
        _print_table(readers, size, records)
        if logfile_parse.msgspec is None:
            print("msgspec is not installed (`pip install '.[fast]'`, or `make venv`): json read every row")
        if jq is not None:
            ratio = jq.cpu / whole.cpu
            per_round = [j.cpu / a.cpu for j, a in zip(jq.runs, whole.runs, strict=True)]
            print(
                f"collect_logfiles ({engine}) over the whole archive: {ratio:.1f}x `zcat | jq` in CPU time "
                f"(best {whole.cpu:.2f} s against {jq.cpu:.2f} s; each round's own ratio "
                f"{min(per_round):.1f}x to {max(per_round):.1f}x), {jq.seconds / whole.seconds:.1f}x by wall "
                f"clock; goal 3x in CPU time: " + ("met" if ratio >= 3 else "not met")
            )
        print(
            f"best of {rounds} round(s) each. x jq: throughput over `zcat | jq`'s on the whole archive,\n"
            "in CPU time (every thread; jq's two processes) and by wall clock. The CPU ratio is steadier\n"
            "on a busy machine; the wall ratio counts the inflating thread as jq's counts zcat."
        )
        print()
        _scan_engines.main(files, size, records, repeat=1 if quick else 3)


def _print_table(readers: dict[str, Reader], size: int, records: int) -> None:
    jq = readers.get("jq")
    headers = ("reader", "MB JSON", "CPU s", "x jq, CPU", "seconds", "MB/s", "records/s", "x jq, wall")
    headers += ("peak RSS MiB",)
    rows = []
    for reader in readers.values():
        mb, n = size * reader.share / 1e6, records * reader.share
        ratio = (
            ("-", "-")
            if jq is None
            else (
                f"{jq.cpu / (reader.cpu / reader.share):.1f}x",
                f"{jq.seconds / (reader.seconds / reader.share):.1f}x",
            )
        )
        peak = (
            f"{reader.peak_kib / 1024:,.0f} (after imports {reader.baseline_kib / 1024:,.0f})"
            if reader.peak_kib
            else "-"
        )
        rows.append(
            (
                reader.label,
                f"{mb:,.0f}",
                f"{reader.cpu:.2f}",
                ratio[0],
                f"{reader.seconds:.2f}",
                f"{mb / reader.seconds:,.1f}",
                f"{n / reader.seconds:,.0f}",
                ratio[1],
                peak,
            )
        )
    if jq is None:
        rows.append(("jq not installed", *["-"] * 8))
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
