"""The codec benchmark keeps running (its figures are only meaningful when run on purpose)."""

from __future__ import annotations

from benchmarks import protocol_codec


def test_benchmark_runs_and_reports_every_case(capsys):
    protocol_codec.main(["--iterations=1", "--repeats=1", "--batch-bytes=64"])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[0] for line in lines[2:]] == [
        "Produce v8 request decode",
        "Fetch v11 response decode",
        "Fetch v11 response encode",
    ]
