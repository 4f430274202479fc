"""hyperopt loads without networkx, scipy.special and its ATPE module: pinned against what hyperopt uses of them."""

from __future__ import annotations

import ast
import graphlib
import importlib.util
import json
import random
import subprocess
import sys
from pathlib import Path

import networkx
import pytest
from katib_suggestion.backends.hyperopt_lib import DiGraph, hyperopt, topological_sort

HYPEROPT = Path(importlib.util.find_spec("hyperopt").submodule_search_locations[0])


def _tree(module: str) -> ast.Module:
    relative = module.removeprefix("hyperopt").lstrip(".").replace(".", "/")
    path = HYPEROPT / f"{relative}.py" if relative else HYPEROPT / "__init__.py"
    if not path.exists():
        path = HYPEROPT / relative / "__init__.py"
    return ast.parse(path.read_text())


def _imports_of(tree: ast.Module, prefixes: tuple[str, ...]) -> set[tuple[str, tuple[str, ...]]]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {(alias.name, ()) for alias in node.names if alias.name.startswith(prefixes)}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(prefixes):
            found.add((node.module, tuple(alias.name for alias in node.names)))
    return found


LOADED = """
import json, sys
from katib_suggestion.backends import hyperopt_lib
print(json.dumps(sorted(m for m in sys.modules if m.startswith("hyperopt"))))
"""


def test_of_the_hyperopt_modules_we_load_only_two_use_the_replaced_libraries_and_only_what_we_give():
    run = subprocess.run([sys.executable, "-c", LOADED], capture_output=True, text=True, check=True)
    modules = [m for m in json.loads(run.stdout) if m != "hyperopt.atpe"]  # atpe is deferred, never loaded
    uses = {module: _imports_of(_tree(module), ("networkx", "scipy")) for module in modules}
    assert {m: u for m, u in uses.items() if u} == {
        "hyperopt.pyll.base": {("networkx", ())},
        "hyperopt.tpe": {("scipy.special", ("erf",))},
    }


def test_pyll_uses_only_the_graph_operations_we_give():
    tree = _tree("hyperopt.pyll.base")
    used = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "nx"}
    assert used == {"DiGraph", "topological_sort"}
    graphs = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign)
              and isinstance(node.value, ast.Call) and isinstance(node.value.func, ast.Attribute)
              and node.value.func.attr == "DiGraph" for target in node.targets}
    methods = {node.attr for node in ast.walk(tree)
               if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in graphs}
    assert methods == {"add_edges_from"}


@pytest.mark.parametrize("seed", range(30))
def test_our_topological_sort_orders_what_networkx_orders_and_refuses_cycles_too(seed):
    rng = random.Random(seed)
    nodes = list(range(rng.randint(1, 30)))
    edges = [(a, b) for a in nodes for b in nodes if a < b and rng.random() < 0.2]
    cyclic = seed % 3 == 0 and len(edges) > 1
    if cyclic:
        a, b = edges[rng.randrange(len(edges))]
        edges.append((b, a))
    ours, theirs = DiGraph(), networkx.DiGraph()
    ours.add_edges_from(edges)
    theirs.add_edges_from(edges)
    if cyclic:
        with pytest.raises(networkx.NetworkXUnfeasible):
            list(networkx.topological_sort(theirs))
        with pytest.raises(graphlib.CycleError):
            list(topological_sort(ours))
        return
    order = list(topological_sort(ours))
    assert sorted(order) == sorted(networkx.topological_sort(theirs))
    position = {node: index for index, node in enumerate(order)}
    assert all(position[a] < position[b] for a, b in edges)


ISOLATED = """
import json, sys
import numpy as np
from katib_suggestion.backends import hyperopt_lib
import hyperopt.pyll.base, hyperopt.tpe
kept_out = [m for m in ("networkx", "scipy.special", "scipy.stats") if m in sys.modules]
ours = hyperopt.tpe.erf
import networkx, scipy.special
x = np.concatenate([np.linspace(-7, 7, 100001), [0.0, -0.0, 5e-324, np.inf, -np.inf, np.nan]])
print(json.dumps({"kept_out": kept_out, "stand_in": hyperopt.pyll.base.nx is not networkx,
                  "real_networkx": hasattr(networkx, "pagerank"), "real_special": hasattr(scipy.special, "gamma"),
                  "same_erf": bool(np.array_equal(ours(x).view(np.int64), scipy.special.erf(x).view(np.int64)))}))
"""


def test_a_fresh_process_keeps_them_out_and_later_imports_get_the_real_libraries():
    run = subprocess.run([sys.executable, "-c", ISOLATED], capture_output=True, text=True, check=True)
    assert json.loads(run.stdout) == {"kept_out": [], "stand_in": True, "real_networkx": True,
                                      "real_special": True, "same_erf": True}


def test_replayed_documents_are_what_insert_trial_docs_would_store():
    """The replay inserts without hyperopt's per-document check: its documents must pass that check
    unchanged, and inserting them either way must leave the same Trials."""
    from katib_suggestion.backends.hyperopt_lib import Trials
    from katib_suggestion.backends.hyperopt_replay import Replay
    from katib_suggestion.backends.hyperopt_space import SpaceCodec
    from katib_suggestion.testing.requests import Case, scenario

    request = scenario(Case("hyperopt", "tpe"), completed=12, pending=3, failed=2, pruned=2)
    replay = Replay(SpaceCodec(request.experiment.space), request.history, maximize=False)
    replay.add_pending(request.history[0].params)
    checked = Trials()
    for doc in replay.trials._dynamic_trials:
        assert checked.assert_valid_trial(hyperopt.base.SONify(doc)) == doc
    checked.insert_trial_docs([dict(doc) for doc in replay.trials._dynamic_trials])
    checked.refresh()
    assert checked._dynamic_trials == replay.trials._dynamic_trials
    assert checked.trials == replay.trials.trials and checked.tids == replay.trials.tids
