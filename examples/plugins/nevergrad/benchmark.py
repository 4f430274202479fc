"""Quality of the plugin's DE against nevergrad used directly and against our random search.

    python benchmark.py [--seeds 5] [--problems branin,training-run]

Prints one Markdown table (normalised regret: 0 is the optimum, 1 a typical random trial).
"""

import argparse

from katib_suggest_nevergrad.reference import DirectDE
from katib_suggestion.quality.problems import PROBLEMS
from katib_suggestion.testing.quality import compare, markdown

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--seeds", type=int, default=5)
parser.add_argument("--problems", default=",".join(PROBLEMS))
args = parser.parse_args()
rows = compare("nevergrad", "de", DirectDE, ("optuna", "random"), problems=args.problems.split(","),
               seeds=range(args.seeds))
print(markdown(rows))
