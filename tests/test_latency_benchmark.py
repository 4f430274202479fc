"""The latency benchmark keeps working: a tiny run prints its table (numbers, no timing assertions)."""

import re

from katib_suggestion.cli import main


def test_latency_benchmark_prints_a_row_per_algorithm_and_size(capsys):
    assert main(["--log-level", "WARNING", "benchmark", "--latency", "--backend", "optuna",
                 "--algorithms", "random,sobol", "--sizes", "10,30", "--warm-calls", "1"]) == 0
    output = capsys.readouterr().out
    rows = [line for line in output.splitlines() if line.startswith("| optuna |")]
    assert [tuple(r.split("|")[2:4]) for r in rows] == [
        (" random ", " 10 "), (" random ", " 30 "), (" sobol ", " 10 "), (" sobol ", " 30 ")]
    for row in rows:
        startup, cold, warm_median, warm_max, peak = (float(c) for c in row.strip("|").split("|")[3:8])
        assert startup > 0 and cold > 0 and warm_median > 0 and warm_max >= warm_median and peak > 10
    assert re.search(r"\| backend \| algorithm \| history \| start-up s \|", output)
