"""`bedrock-usage doctor`: on a real deploy, check what the emulator could not (README: Check a deploy).

This module stays light (the CLI imports it to build its parser); the checks load when `run` is called.
Modules: core (rows, stack, fail-soft guard), logging_checks (1-3), metric_checks (4, 7, 9),
delivery_checks (5, 6, --send-test), cost_checks (8), command (order, table, JSON, exit status).
"""

from __future__ import annotations

import argparse
from typing import Any

DEFAULT_STACK = "bedrock-usage-monitor"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `bedrock-usage doctor`."""
    parser.add_argument("--stack", default=DEFAULT_STACK, help=f"the stack's name (default {DEFAULT_STACK})")
    parser.add_argument("--region", help="the stack's Region (default: your AWS configuration's)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--send-test",
        action="store_true",
        help="also send one test digest and one test alarm email (marked TEST) through the real paths",
    )


def run(args: argparse.Namespace, **kwargs: Any) -> int:
    """Run the doctor for parsed arguments; see command.run."""
    from bedrock_usage.doctor.command import run as run_command

    return run_command(args, **kwargs)
