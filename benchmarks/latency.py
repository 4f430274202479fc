"""Latency, peak memory and start-up of real servers; same as `katib-suggest benchmark --latency`.

Example (the table in the issue 8 closing note):
    python benchmarks/latency.py --sizes 100,1000,5000 --warm-calls 5
"""

import sys

from katib_suggestion.cli import main

if __name__ == "__main__":
    sys.exit(main(["--log-level", "WARNING", "benchmark", "--latency", *sys.argv[1:]]))
