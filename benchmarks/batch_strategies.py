"""Measure batch strategies: our backends in-process vs the libraries used directly, same driver loop.

python benchmarks/batch_strategies.py ARM ALGO PROBLEM PARALLEL SEEDS [k=v settings]
ARM: ours (the backend in-process) or ref (the library used directly, stateful, told only
finished trials, asked for the whole batch at once). FINISH=one: one trial finishes between
calls (as issue 12's measurement). WORKERS=N processes (default 2). Prints one JSON line;
median_raw is the median simple regret in the problem's units. The strategies compared in
the code comments were switched by editing the backends (KS_* variables are recorded only).
"""
import json
import os
import statistics
import sys
import time
from multiprocessing import get_context

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from katib_api import api_pb2  # noqa: E402
from katib_suggestion.local.driver import Condition, ExperimentDriver  # noqa: E402
from katib_suggestion.quality import runner  # noqa: E402
from katib_suggestion.quality.problems import PROBLEMS  # noqa: E402
from katib_suggestion.quality.scoring import regret_curve  # noqa: E402
from katib_suggestion.wire import experiment_message  # noqa: E402

BACKEND_OF = {"bayesianoptimization": "skopt", "tpe": "optuna", "multivariate-tpe": "optuna",
              "hyperopt-tpe": "hyperopt", "random": "optuna"}


class OursStub:
    def __init__(self, backend):
        from katib_suggestion.pipeline import Suggester
        from katib_suggestion.registry import load_backend
        self.suggester = Suggester(backend, load_backend(backend))
        self.fallbacks = 0
        self.degraded = 0

    def GetSuggestions(self, request, timeout=None):
        facts = {}
        reply = self.suggester.suggest(request, facts)
        self.fallbacks += facts.get("fallback", 0)
        self.degraded += sum(1 for a in reply.parameter_assignments if "katib-suggest/degraded" in a.labels)
        return reply


def _key(assignments):
    return tuple(sorted((a.name, a.value) for a in assignments))


class RefStub:
    """Stateful library use: tell finished trials once, ask count points."""

    def __init__(self, algo, problem, seed, settings):
        self.params = PROBLEMS[problem].parameters
        self.algo, self.seed, self.settings = algo, seed, settings
        self.handles = {}
        self.told = set()
        self.fallbacks = self.degraded = 0
        getattr(self, f"_init_{BACKEND_OF[algo]}")()

    # ---- skopt
    def _init_skopt(self):
        from skopt import Optimizer
        from skopt.space import Categorical, Integer, Real
        dims = []
        for p in self.params:
            fs, kind = p["feasibleSpace"], p["parameterType"]
            prior = "log-uniform" if fs.get("distribution") == "logUniform" else "uniform"
            if kind == "double":
                dims.append(Real(float(fs["min"]), float(fs["max"]), prior=prior))
            elif kind == "int":
                dims.append(Integer(int(fs["min"]), int(fs["max"]), prior=prior))
            else:
                dims.append(Categorical(fs["list"]))
        s = self.settings
        self.opt = Optimizer(dims, base_estimator=s.get("base_estimator", "GP"),
                             n_initial_points=int(s.get("n_initial_points", 10)),
                             acq_func=s.get("acq_func", "gp_hedge"), acq_optimizer=s.get("acq_optimizer", "auto"),
                             random_state=self.seed)

    def _tell_skopt(self, x, y):
        self.opt.tell(x, 1e10 if y is None else y)  # no failures in these problems

    def _ask_skopt(self, n):
        return self.opt.ask(n_points=n) if n > 1 else [self.opt.ask()]

    def _fmt(self, x):
        out = []
        for p, v in zip(self.params, x, strict=True):
            if p["parameterType"] == "int":
                out.append(str(int(v)))
            elif p["parameterType"] == "double":
                out.append(repr(float(v)))
            else:
                out.append(str(v))
        return out

    # ---- optuna
    def _init_optuna(self):
        import optuna
        from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        s = self.settings
        if self.algo == "random":
            sampler = optuna.samplers.RandomSampler(seed=self.seed)
        else:
            sampler = optuna.samplers.TPESampler(
                n_startup_trials=int(s.get("n_startup_trials", 10)), n_ei_candidates=int(s.get("n_ei_candidates", 24)),
                seed=self.seed, multivariate=self.algo == "multivariate-tpe",
                constant_liar=s.get("constant_liar", "false") == "true")
        self.study = optuna.create_study(sampler=sampler)
        self.dists = {}
        for p in self.params:
            fs, kind = p["feasibleSpace"], p["parameterType"]
            log = fs.get("distribution") == "logUniform"
            if kind == "double":
                self.dists[p["name"]] = FloatDistribution(float(fs["min"]), float(fs["max"]), log=log)
            elif kind == "int":
                self.dists[p["name"]] = IntDistribution(int(fs["min"]), int(fs["max"]), log=log)
            else:
                self.dists[p["name"]] = CategoricalDistribution(fs["list"])
        self.trials = {}

    def _ask_optuna(self, n):
        out = []
        for _ in range(n):
            t = self.study.ask(self.dists)
            x = [t.params[p["name"]] for p in self.params]
            self.trials[tuple(self._fmt(x))] = t
            out.append(x)
        return out

    def _tell_optuna(self, x, y):
        import optuna
        t = self.trials[tuple(self._fmt(x))]
        if y is None:
            self.study.tell(t, state=optuna.trial.TrialState.FAIL)  # noqa
        else:
            self.study.tell(t, y)

    # ---- hyperopt
    def _init_hyperopt(self):
        import numpy as np
        from hyperopt import Domain, Trials, hp
        space = {}
        for p in self.params:
            fs, kind, name = p["feasibleSpace"], p["parameterType"], p["name"]
            log = fs.get("distribution") == "logUniform"
            import math
            if kind == "double":
                lo, hi = float(fs["min"]), float(fs["max"])
                space[name] = hp.loguniform(name, math.log(lo), math.log(hi)) if log else hp.uniform(name, lo, hi)
            elif kind == "int":
                lo, hi = int(fs["min"]), int(fs["max"])
                space[name] = (hp.qloguniform(name, math.log(lo), math.log(hi), 1) if log
                               else hp.quniform(name, lo, hi, 1))
            else:
                space[name] = hp.choice(name, fs["list"])
        self.domain = Domain(None, space)
        self.htrials = Trials()
        self.rstate = np.random.default_rng(self.seed)
        self.docs = {}

    def _ask_hyperopt(self, n):
        from hyperopt import tpe
        from hyperopt.base import JOB_STATE_RUNNING
        out = []
        for _ in range(n):
            tid = len(self.htrials.trials)
            docs = tpe.suggest([tid], self.domain, self.htrials, int(self.rstate.integers(2 ** 31 - 1)))
            doc = docs[0]
            doc["state"] = JOB_STATE_RUNNING
            self.htrials.insert_trial_docs([doc])
            self.htrials.refresh()
            vals = doc["misc"]["vals"]
            x = []
            for p in self.params:
                v = vals[p["name"]][0]
                if p["parameterType"] in ("discrete", "categorical"):
                    v = p["feasibleSpace"]["list"][int(v)]
                x.append(v)
            self.docs[tuple(self._fmt(x))] = tid
            out.append(x)
        return out

    def _tell_hyperopt(self, x, y):
        from hyperopt import STATUS_FAIL, STATUS_OK
        from hyperopt.base import JOB_STATE_DONE
        tid = self.docs[tuple(self._fmt(x))]
        doc = self.htrials._dynamic_trials[tid]
        doc["state"] = JOB_STATE_DONE
        doc["result"] = {"loss": y, "status": STATUS_OK} if y is not None else {"status": STATUS_FAIL}
        self.htrials.refresh()

    def GetSuggestions(self, request, timeout=None):
        backend = BACKEND_OF[self.algo]
        for t in request.trials:
            k = _key(t.spec.parameter_assignments.assignments)
            if k in self.told or t.status.condition not in (Condition.SUCCEEDED, Condition.FAILED):
                continue
            self.told.add(k)
            x = self.handles[k]
            y = float(t.status.observation.metrics[0].value) if t.status.condition == Condition.SUCCEEDED else None
            getattr(self, f"_tell_{backend}")(x, y)
        reply = api_pb2.GetSuggestionsReply()
        xs = getattr(self, f"_ask_{backend}")(request.current_request_number)
        for x in xs:
            values = self._fmt(x)
            assignments = [api_pb2.ParameterAssignment(name=p["name"], value=v)
                           for p, v in zip(self.params, values, strict=True)]
            k = _key(assignments)
            self.handles[k] = x
            reply.parameter_assignments.add(assignments=assignments)
        return reply


def run(args):
    arm, algo, problem, parallel, seed, settings = args
    runner.PARALLEL = parallel
    backend = BACKEND_OF[algo]
    key = "tpe" if algo == "hyperopt-tpe" else algo
    spec = PROBLEMS[problem]
    task = runner.Task(backend, key, problem, seed, spec.budget,
                       tuple((k, v) for k, v in settings.items() if k != "constant_liar"))
    experiment = experiment_message(runner.experiment_doc(task))
    stub = OursStub(backend) if arm == "ours" else RefStub(algo, problem, seed, settings)
    began = time.perf_counter()
    driver = ExperimentDriver(experiment, lambda: stub, spec.function, seed=seed)
    if os.environ.get("FINISH") == "one":
        def finish_one():
            running = [t for t in driver.report.trials if t.status.condition == Condition.RUNNING]
            if running:
                driver._finish(driver.rng.choice(running))
        driver._finish_some = finish_one
    report = driver.run()
    losses = [float(t.status.observation.metrics[0].value) if t.status.condition == Condition.SUCCEEDED else None
              for t in report.trials]
    keys = [_key(t.spec.parameter_assignments.assignments) for t in report.trials]
    curve = regret_curve(problem, losses, spec.budget)
    return {"seed": seed, "final": curve[-1], "auc": sum(curve) / len(curve), "dups": len(keys) - len(set(keys)),
            "fallbacks": stub.fallbacks, "degraded": stub.degraded, "seconds": time.perf_counter() - began}


def main():
    arm, algo, problem, parallel, seeds = sys.argv[1:6]
    settings = dict(kv.split("=", 1) for kv in sys.argv[6:])
    jobs = [(arm, algo, problem, int(parallel), s, settings) for s in range(int(seeds))]
    workers = int(os.environ.get("WORKERS", "2"))
    with get_context("spawn").Pool(workers) as pool:
        results = pool.map(run, jobs, chunksize=1)
    finals = [r["final"] for r in results]
    aucs = [r["auc"] for r in results]
    variant = {k: v for k, v in os.environ.items() if k.startswith("KS_") or k == "FINISH"}
    span = PROBLEMS[problem].reference - PROBLEMS[problem].optimum
    print(json.dumps({"arm": arm, "algo": algo, "problem": problem, "parallel": int(parallel), "settings": settings,
                      "variant": variant, "median_final": statistics.median(finals),
                      "median_raw": statistics.median(finals) * span, "mean_final": statistics.fmean(finals),
                      "mean_auc": statistics.fmean(aucs), "dups": sum(r["dups"] for r in results),
                      "fallbacks": sum(r["fallbacks"] for r in results),
                      "degraded": sum(r["degraded"] for r in results),
                      "seconds": round(sum(r["seconds"] for r in results)),
                      "finals": [round(f, 6) for f in finals], "aucs": [round(a, 6) for a in aucs]}))


if __name__ == "__main__":
    main()
