"""`fleet` entry point: builds the argument parser from the command modules and runs one.

Each command module exposes `register(subparsers)`, which adds its parser and sets
`func(args) -> int` as the default. Exit codes are shared by every command:
0 success, 1 the operation failed, 2 usage or configuration error, 3 refused by pre-flight,
141 (as for SIGPIPE) the reader of the output went away (`fleet scan | head -2`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence

from fleet import __version__
from fleet.errors import ConfigError, FleetError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_PIPE = 128 + 13  # stdout closed by its reader (SIGPIPE)

# Modules that each add one command (or a group of subcommands).
COMMAND_MODULES: tuple[str, ...] = (
    "fleet.cli.scan", "fleet.cli.deploy", "fleet.cli.sim", "fleet.cli.model", "fleet.cli.monitor", "fleet.cli.replay",
    "fleet.cli.tui", "fleet.cli.bench",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fleet",
        description="Manage fleets of TinyML boards on serial links: discover, deploy models, watch live telemetry.",
    )
    parser.add_argument("--version", action="version", version=f"fleet {__version__}")
    parser.add_argument(
        "--config", metavar="FILE", help="devices.toml to use (default: $FLEET_CONFIG, ./devices.toml, built-in)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code (see the module doc)."""
    try:
        try:
            return _run(argv)
        finally:
            sys.stdout.flush()  # here, not at exit, so a closed pipe is caught below
    except BrokenPipeError:
        # `fleet scan | head -2`: the reader is gone. Stop quietly, as Unix tools do, with
        # the shell's code for death by SIGPIPE; the interpreter's last flush of what is
        # still buffered must not fail again, so stdout now goes nowhere.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv and sys.stdin.isatty() and sys.stdout.isatty():
        argv = ["tui"]  # plain `fleet` in a terminal opens the live console
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_OK
    try:
        return func(args)
    except ConfigError as exc:
        report(exc)
        return EXIT_USAGE
    except FleetError as exc:
        report(exc)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def report(exc: FleetError) -> None:
    """Print an error and its hint the way every command does."""
    print(f"fleet: error: {exc}", file=sys.stderr)
    if exc.hint:
        print(f"fleet: hint: {exc.hint}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
