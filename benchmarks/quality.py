"""The optimisation-quality gate from a source checkout: same as `katib-suggest benchmark [args]`.

    python benchmarks/quality.py --suite quick
    python benchmarks/quality.py --suite full --write-baseline suggestion/quality/baselines/full.json
    python benchmarks/quality.py --address HOST:PORT --algorithm tpe --backend hyperopt --out upstream
    python benchmarks/quality.py --compare upstream/ quality-report/
"""

import sys

from katib_suggestion.cli import main

if __name__ == "__main__":
    sys.exit(main(["benchmark", *sys.argv[1:]]))
