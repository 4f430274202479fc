"""``katib-suggest init``: a complete, valid Experiment YAML from a few inputs (flags, a spec file or prompts)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from katib_suggestion.commands import command

BAD_INPUT, INTERRUPTED = 2, 130
EXAMPLE = ("katib-suggest init --name mnist --image ghcr.io/you/mnist:1 --command 'python3 train.py' "
           "--param lr=double:1e-5:1e-1:log --param batch=discrete:16,32,64 --maximize accuracy -o mnist.yaml")


def _arguments(parser: argparse.ArgumentParser) -> None:
    from katib_suggestion.authoring.params import FORM
    from katib_suggestion.authoring.trial import COLLECTORS, TRIAL_KINDS

    parser.description = (
        "Write a Katib Experiment (kubeflow.org/v1beta1) that katib-suggest validate and Katib accept, from the "
        "few things you know; the same inputs can come from a YAML spec file (--from; keys as the flags, e.g. "
        "max-trials: 20, parameters: {lr: double:1e-5:1e-1:log}, maximize: accuracy), and on a terminal you "
        f"are asked for whatever required input is missing. Example: {EXAMPLE}")
    io = parser.add_argument_group("input and output")
    io.add_argument("--from", dest="spec", type=Path, metavar="SPEC", help="read the inputs from this YAML file; "
                                                                           "flags override it")
    io.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the Experiment here (default: stdout)")
    io.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    io.add_argument("--no-input", action="store_true", help="never prompt, even on a terminal")
    what = parser.add_argument_group("the Experiment (required: name, image, command, a parameter, an objective)")
    what.add_argument("--name", help="Experiment name; an invalid one is refused with a valid suggestion")
    what.add_argument("-n", "--namespace", help="namespace (default: kubectl's current one)")
    what.add_argument("--image", help="training container image")
    what.add_argument("--command", dest="train_command", metavar="COMMAND",
                      help="training command; each ${trialParameters.NAME} gets the trial's value, parameters not "
                           "placed so are appended as --NAME=VALUE")
    what.add_argument("--param", action="append", metavar="NAME=FORM", help=f"a parameter to tune: {FORM}")
    objective = what.add_mutually_exclusive_group()
    objective.add_argument("--maximize", metavar="METRIC", help="the objective metric, to maximise")
    objective.add_argument("--minimize", metavar="METRIC", help="the objective metric, to minimise")
    what.add_argument("--goal", type=float, help="stop once a trial reaches this value of the objective")
    what.add_argument("--metric", action="append", metavar="NAME", help="another metric to record (repeatable)")
    what.add_argument("--algorithm", help="algorithmName (default tpe): " + _algorithms())
    what.add_argument("--setting", action="append", metavar="NAME=VALUE", help="an algorithm setting (repeatable)")
    what.add_argument("--parallel", type=int, help="trials at once (default 3, at most --max-trials)")
    what.add_argument("--max-trials", type=int, help="trials in all (default 12)")
    what.add_argument("--max-failed", type=int, help="failed trials that fail the Experiment (default 3)")
    what.add_argument("--early-stopping", metavar="ALGORITHM",
                      help="stop poor trials early: medianstop (upstream's), percentile or asha")
    what.add_argument("--early-stopping-setting", action="append", metavar="NAME=VALUE",
                      help="an early-stopping setting (repeatable), e.g. start_step=5")
    pods = parser.add_argument_group("the trial's pods")
    pods.add_argument("--kind", choices=TRIAL_KINDS, help="; ".join(f"{k}: {v.summary}" for k, v in
                                                                    TRIAL_KINDS.items()) + " (default Job)")
    pods.add_argument("--workers", type=int, help="PyTorchJob/TFJob workers besides the first pod (default 0)")
    pods.add_argument("--gpus", type=int, help="GPUs per pod (nvidia.com/gpu)")
    pods.add_argument("--cpu", help="CPU per pod, e.g. 2 or 500m")
    pods.add_argument("--memory", help="memory per pod, e.g. 4Gi")
    pods.add_argument("--collector", choices=COLLECTORS, help="how Katib reads metrics (default StdOut: "
                                                              "NAME=VALUE lines the training prints)")
    pods.add_argument("--metrics-path", help="the File collector's file or the TensorFlowEvent directory")


def _algorithms() -> str:
    from katib_validators.catalog import BACKENDS, served_by

    return ", ".join(dict.fromkeys(name for backend in BACKENDS for name in served_by(backend)))


@command("init", "write a complete, valid Experiment YAML from a few inputs (flags, --from FILE or prompts)",
         _arguments)
def run(args: argparse.Namespace) -> int:
    from katib_suggestion.authoring import document, prompts
    from katib_suggestion.authoring import inputs as given
    from katib_suggestion.authoring.early_stopping import add_early_stopping
    from katib_suggestion.authoring.render import to_yaml

    inputs = given.Inputs()
    problems = _read_spec(args.spec, inputs) if args.spec else []
    problems += given.from_flags(args, inputs)
    problems += given.check_form(inputs)
    if problems:
        return _fail("these inputs cannot make an Experiment", problems)
    if inputs.missing():
        if args.no_input or not sys.stdin.isatty():
            return _fail("missing inputs (give them as flags or in --from SPEC, or run on a terminal to be asked)",
                         [f"{given.FLAGS[name]}: required" for name in inputs.missing()])
        try:
            prompts.ask_missing(inputs, prompts.Asker(input, _prompt))
        except prompts.Aborted as aborted:
            return _fail("input ended before every answer was given; nothing written", [f"no answer to: {aborted}"])
        except KeyboardInterrupt:
            print("\nkatib-suggest init: interrupted; nothing written", file=sys.stderr)
            return INTERRUPTED
    try:
        doc = document.build(inputs)
    except ValueError as error:
        return _fail("these inputs cannot make an Experiment", [f"--command: {error}"])
    problems = document.problems_of(doc, inputs)
    problems += add_early_stopping(doc, args.early_stopping, args.early_stopping_setting)
    if problems:
        return _fail("the Experiment would not be valid", problems)
    return _write(to_yaml(doc, str(args.output or f"{inputs.name}.yaml")), args.output, args.force)


def _read_spec(path: Path, inputs) -> list[str]:
    import yaml
    from katib_suggestion.authoring.inputs import from_spec

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        return [f"--from {path}: cannot read: {getattr(error, 'strerror', None) or error}"]
    except yaml.YAMLError as error:
        return [f"--from {path}: not valid YAML: {' '.join(str(error).split())}"]
    return [f"--from {path}: {problem}" for problem in from_spec(raw, inputs)]


def _write(text: str, output: Path | None, force: bool) -> int:
    if output is None:
        sys.stdout.write(text)
        return 0
    if output.exists() and not force:
        return _fail(f"{output} exists", ["-o: choose another file, or add --force to overwrite it"])
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        return _fail(f"cannot write {output}", [error.strerror or str(error)])
    print(f"wrote {output}; check it: katib-suggest validate {output}; run it here: katib-suggest run {output}",
          file=sys.stderr)
    return 0


def _prompt(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def _fail(headline: str, problems: list[str]) -> int:
    print(f"katib-suggest init: {headline}:", file=sys.stderr)
    for problem in problems:
        print(f"  {problem}", file=sys.stderr)
    return BAD_INPUT
