"""`make preview`: render the digest in headless Chromium to build/demo/digest.png.

Uses build/demo/digest.html when `make demo` wrote it, else renders the built-in sample report.
Usage: python -m scripts.preview [--html FILE] [--out PNG] [--width PX]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_HTML = ROOT / "build" / "demo" / "digest.html"
OUT = ROOT / "build" / "demo" / "digest.png"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def sample_html() -> str:
    """The digest of the built-in sample report, as the function would send it."""
    sys.path.insert(0, str(ROOT / "layers" / "common"))  # run from a clean checkout, package not installed
    from bedrock_usage.digest import dashboard_link, insights_link, render_digest

    from scripts.sample_report import sample_report

    report = sample_report()
    return render_digest(
        report,
        dashboard_url=dashboard_link("us-east-1", "BedrockUsageMonitoring"),
        insights_url=insights_link("us-east-1", "/aws/bedrock/modelinvocations", report.window.hours),
    ).html


def chromium(browser: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium once, with everything that could reach the network turned off."""
    with tempfile.TemporaryDirectory(prefix="preview-chromium-") as profile:
        command = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            *args,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"chromium failed ({result.returncode}): {result.stderr.strip()[-800:]}")
    return result


def page_height(browser: str, html: str, width: int) -> int:
    """The rendered page's height at `width`: a copy of the page with a script that reports it.

    Only the measuring copy gets a script; the screenshot is of the email HTML as sent.
    """
    probe = html + "<script>document.title='h='+document.documentElement.scrollHeight</script>"
    with tempfile.TemporaryDirectory(prefix="preview-") as tmp:
        page = Path(tmp) / "probe.html"
        page.write_text(probe, encoding="utf-8")
        dom = chromium(browser, f"--window-size={width},800", "--dump-dom", page.as_uri()).stdout
    match = re.search(r"<title>h=(\d+)</title>", dom)
    return int(match.group(1)) if match else 3000


def screenshot(browser: str, html_file: Path, png: Path, width: int, height: int) -> None:
    png.parent.mkdir(parents=True, exist_ok=True)
    chromium(browser, f"--screenshot={png}", f"--window-size={width},{height}", html_file.resolve().as_uri())
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot to {png}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="digest HTML to render (default: demo output or sample)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"PNG to write (default: {OUT})")
    parser.add_argument("--width", type=int, default=760, help="window width (Chromium's minimum is 500)")
    parser.add_argument("--height", type=int, default=0, help="window height (default: from the HTML length)")
    args = parser.parse_args(argv)

    browser = find_browser()
    if browser is None:
        print(
            "error: Chromium not found; install it (e.g. `sudo apt-get install -y chromium`)", file=sys.stderr
        )
        return 1
    source = args.html or (DEMO_HTML if DEMO_HTML.exists() else None)
    with tempfile.TemporaryDirectory(prefix="preview-") as tmp:
        if source is None:
            html_file = Path(tmp) / "digest.html"
            html_file.write_text(sample_html(), encoding="utf-8")
            label = "the built-in sample report"
        else:
            html_file, label = source, str(source)
        # Headless Chromium cannot size the window to the page: measure it first.
        height = args.height or min(
            12000, page_height(browser, html_file.read_text(encoding="utf-8"), args.width)
        )
        screenshot(browser, html_file, args.out, args.width, height)
    print(f"rendered {label} -> {args.out} ({args.width}x{height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
