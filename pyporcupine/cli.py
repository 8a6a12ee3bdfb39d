"""`python -m pyporcupine check`: check one history file and say whether it is linearizable.

Exit status: 0 linearizable, 1 not linearizable, 2 unknown (a limit was reached before a
verdict), 3 bad input (an unreadable or malformed history file, or bad arguments).
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from pyporcupine.checker import DEFAULT_MEMORY_LIMIT, CheckResult, check_operations, check_operations_verbose
from pyporcupine.formats import FORMAT_NAMES, MODEL_NAMES, load_history
from pyporcupine.history import MalformedHistory
from pyporcupine.visualization import write_html

EXIT_CODES = {CheckResult.OK: 0, CheckResult.ILLEGAL: 1, CheckResult.UNKNOWN: 2}
EXIT_BAD_INPUT = 3
VERDICTS = {CheckResult.OK: "linearizable", CheckResult.ILLEGAL: "not linearizable", CheckResult.UNKNOWN: "unknown"}


class _Parser(argparse.ArgumentParser):
    """Bad arguments are bad input: exit 3, so that 2 always means "unknown"."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m pyporcupine", description=__doc__,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = commands.add_parser("check", help="check a history file for linearizability", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    check.add_argument("--model", required=True, choices=MODEL_NAMES)
    check.add_argument("--format", required=True, choices=FORMAT_NAMES)
    check.add_argument("file")
    check.add_argument("--timeout", type=_positive, default=None, metavar="S",
                       help="give up with 'unknown' after S seconds (default: no limit)")
    check.add_argument("--memory-limit", type=_positive, default=DEFAULT_MEMORY_LIMIT >> 20, metavar="MB",
                       help="give up with 'unknown' when the search holds this much (default: %(default)s)")
    check.add_argument("--html", metavar="OUT", help="write a visualization of the check to OUT")
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        model, history = load_history(args.file, args.format, args.model)
        memory_limit = int(args.memory_limit * (1 << 20))
        if args.html:
            result, info = check_operations_verbose(model, history, args.timeout, memory_limit)
            write_html(model, result, info, args.html, title=args.file)
        else:
            result = check_operations(model, history, args.timeout, memory_limit)
    except MalformedHistory as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"error: cannot write {args.html}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(VERDICTS[result])
    return EXIT_CODES[result]
