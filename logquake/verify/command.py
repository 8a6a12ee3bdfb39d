"""`logquake verify MATRIX`: run a claims matrix and say, cell by cell, whether each configuration kept its claim.

Exit status: 0 when no claim broke and every cell was decided, 1 when a claim broke (or, with
--fail-on-unshown, a configuration's allowed weakness went unseen), 2 when a cell could not be
decided (a run failed, was interrupted or not run, or its checkers could not tell).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cluster.deploy.node import SYSTEMS
from harness.spec import TestSpec
from logquake.junit import write_junit
from logquake.registry import WORKLOADS, Registry
from logquake.runner import RunOutcome, run
from logquake.verify.execute import RunSpec, verify
from logquake.verify.matrix import BUILT_IN, MatrixError, load
from logquake.verify.outputs import VERIFY_HTML, junit_cases, terminal_matrix, write_outputs

DEFAULT_MATRIX = {"logquake": "quick", "rabbitmq": "rabbitmq"}
"""The built-in matrix `logquake verify` runs for each system when no matrix is named."""


def make_verify_command(workloads: Registry = WORKLOADS, run_spec: RunSpec | None = None) -> click.Command:
    def run_with_registry(spec: TestSpec, store_root: Path) -> RunOutcome:
        return run(spec, store_root, workloads=workloads)

    def verify_matrix(matrix: str | None, system: str | None, store_root: Path, junit: Path | None,
                      fail_on_unshown: bool, dry_run: bool) -> None:
        """Run a claims matrix (quick, full, rabbitmq, or a TOML file) cell by cell and judge each cell against its
        claim."""
        try:
            loaded = load(matrix or DEFAULT_MATRIX[system or "logquake"], workloads)
        except MatrixError as error:
            raise click.UsageError(str(error)) from None
        others = sorted({spec.system for cell in loaded.cells for spec in cell.specs} - {system or ""})
        if system is not None and others:
            raise click.UsageError(f"matrix {loaded.name} deploys {', '.join(others)}, not {system}: "
                                   f"give a matrix of {system} (built in: {DEFAULT_MATRIX[system]})")
        runs = sum(len(cell.specs) for cell in loaded.cells)
        click.echo(f"matrix {loaded.name}: {len(loaded.cells)} cells, {runs} runs", err=True)
        if dry_run:
            for cell in loaded.cells:
                click.echo(f"{cell.name}: {', '.join(spec.name + ' seed ' + str(spec.seed) for spec in cell.specs)}")
            return
        verification = verify(loaded, store_root, run_spec or run_with_registry, fail_on_unshown,
                              written=write_outputs, say=lambda line: click.echo(line, err=True))
        click.echo(terminal_matrix(verification))
        click.echo(f"report: {verification.directory / VERIFY_HTML}")
        if junit is not None:
            click.echo(f"junit: {write_junit(junit, f'logquake verify {loaded.name}', junit_cases(verification))}")
        sys.exit(verification.exit_code)

    params = [
        click.Argument(["matrix"], default=None, required=False),
        click.Option(["--system"], type=click.Choice(SYSTEMS), default=None,
                     help="The system under test: its built-in matrix when MATRIX is not given (logquake: quick, "
                          "rabbitmq: rabbitmq), and a matrix of another system is refused."),
        click.Option(["--store", "store_root"], type=click.Path(file_okay=False, path_type=Path),
                     default=Path("store"), show_default=True),
        click.Option(["--junit"], type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Also write JUnit XML, one test case per cell, to this file (for CI)."),
        click.Option(["--fail-on-unshown"], is_flag=True,
                     help="A cell whose configuration allows anomalies that no run found fails too (exit 1): "
                          "proof that the harness still sees what it should."),
        click.Option(["--dry-run"], is_flag=True, help="List the cells and their runs; run nothing."),
    ]
    return click.Command("verify", callback=verify_matrix, params=params,
                         help=f"{verify_matrix.__doc__} Built in: {', '.join(BUILT_IN)} (default quick, or "
                              f"rabbitmq with --system rabbitmq).")


verify_command = make_verify_command()
