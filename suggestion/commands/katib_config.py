"""``katib-suggest katib-config [FILE]``: merge our suggestion entries into an existing katib-config."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from typing import Any

import yaml
from katib_suggestion import __version__
from katib_suggestion.commands import command
from katib_suggestion.deploy.early_stopping import (
    EarlyStoppingRouteError,
    default_selection,
    early_stopping_names,
    merge_early_stoppings,
)
from katib_suggestion.deploy.entries import ALL_BACKENDS, EntryOptions, NoImage
from katib_suggestion.deploy.katib_config import Change, KatibConfigError, diff, merge, read, render
from katib_suggestion.deploy.routes import UPSTREAM, RouteError, routes, unrouted_plugins
from katib_suggestion.images import REGISTRY
from katib_validators.catalog import registered
from katib_validators.katib_config import check_katib_config

CHANGES, UNUSABLE = 1, 2  # --diff exits 1 when something would change, as diff does


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = textwrap.fill(
        "Read a katib-config (the ConfigMap as `kubectl get configmap katib-config -n kubeflow -o yaml` "
        "prints it, or a KatibConfig file) and write it back with katib-suggest's suggestion and "
        "early-stopping entries merged in: an entry for a routed name is replaced where it stands, a new "
        "name is appended, everything else (init, metrics collectors, other entries) is kept. "
        "Running it again changes nothing.")
    parser.epilog = ("install:  kubectl get configmap katib-config -n kubeflow -o yaml | katib-suggest "
                     "katib-config --save-original katib-config.orig.yaml | kubectl apply -f -\n"
                     "rollback: kubectl apply -f katib-config.orig.yaml")
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("file", nargs="?", default="-", help="the katib-config to read (default: stdin)")
    parser.add_argument("--algorithms", default=UPSTREAM, metavar="SELECTION",
                        help="'upstream' (default: every name katib-suggest's own backends serve, upstream's "
                             "included: drop-in), 'prefixed' (only optuna-tpe, hyperopt-tpe, ...: upstream's entries "
                             "stay), or a list of these and names such as tpe,cmaes,optuna-tpe (NAME=BACKEND picks "
                             "a backend); a plugin's names are added only when listed, e.g. upstream,nevergrad-de")
    parser.add_argument("--early-stopping", metavar="SELECTION",
                        help="earlyStoppings entries: 'all' (upstream's medianstop routed to our early-stopping "
                             "image, plus percentile and asha; the default with --algorithms upstream), 'new' "
                             "(only percentile and asha: upstream's medianstop stays; the default otherwise), "
                             "'none', or a list such as medianstop,asha")
    parser.add_argument("--registry", default=REGISTRY,
                        help=f"registry and path holding katib-suggest's own images (default {REGISTRY})")
    parser.add_argument("--tag", default=__version__, help=f"tag of katib-suggest's own images (default "
                                                           f"{__version__})")
    parser.add_argument("--image", action="append", default=[], metavar="BACKEND=IMAGE",
                        help="the image of one backend, e.g. nevergrad=ghcr.io/you/katib-suggest-nevergrad (without "
                             "a tag: the backend's version); a plugin's default is the image its declaration names, "
                             "tagged with the plugin's version; repeatable")
    parser.add_argument("--image-pull-policy", default="IfNotPresent",
                        choices=("IfNotPresent", "Always", "Never"))
    parser.add_argument("--service-account", metavar="NAME",
                        help="serviceAccountName of our suggestion pods (it must exist in every namespace "
                             "that runs Experiments), e.g. one with imagePullSecrets for a private registry")
    parser.add_argument("--resources", action="append", default=[], metavar="[BACKEND=]PATCH",
                        help="JSON/YAML merge patch on our entries' resources, e.g. "
                             "'skopt={limits: {memory: 512Mi}}' (null removes a key); repeatable")
    parser.add_argument("--security-context", action="append", default=[], metavar="[BACKEND=]PATCH",
                        help="merge patch on our entries' securityContext, e.g. '{runAsUser: null, "
                             "runAsGroup: null}' where the platform assigns user ids (OpenShift)")
    parser.add_argument("--diff", action="store_true", help="print what would change instead of the result; exit "
                                                            "1 when something would change, 0 when nothing would, "
                                                            "as diff does")
    parser.add_argument("--save-original", metavar="PATH",
                        help="also write the input, re-appliable (no server fields), for a rollback")
    parser.add_argument("-o", "--output", metavar="PATH", help="write the result here instead of stdout")
    parser.add_argument("--force", action="store_true", help="overwrite the file of -o or --save-original if it "
                                                             "exists")


@command("katib-config", "merge katib-suggest's entries into an existing katib-config (install, --diff)",
         _arguments)
def run(args: argparse.Namespace) -> int:
    try:
        _refuse_overwrites(args)
        document = read(_input(args.file))
        options = EntryOptions(args.registry, args.tag, _images(args.image), args.image_pull_policy,
                               args.service_account, _patches(args.resources, "--resources"),
                               _patches(args.security_context, "--security-context"))
        chosen = routes(args.algorithms)
        config, changes = merge(document.config, chosen, options)
        config, stopping_changes = merge_early_stoppings(config, early_stopping_names(
            args.early_stopping or default_selection(args.algorithms)), options)
        changes += stopping_changes
    except (KatibConfigError, RouteError, NoImage, EarlyStoppingRouteError) as error:
        print(f"katib-suggest katib-config: {error}", file=sys.stderr)
        return UNUSABLE
    for note in unrouted_plugins(chosen):
        print(f"katib-suggest katib-config: note: {note}", file=sys.stderr)
    problems = check_katib_config(config)
    if problems:
        for problem in problems:
            print(f"katib-suggest katib-config: {problem}", file=sys.stderr)
        return UNUSABLE
    if args.save_original:
        _write(args.save_original, render(document, document.config))
    print(_summary(changes), file=sys.stderr)
    if args.diff:
        sys.stdout.write(diff(document.config, config))
        return CHANGES if changes else 0
    _write(args.output, render(document, config))
    return 0


def _refuse_overwrites(args: argparse.Namespace) -> None:
    """As init does: a file is replaced only with --force (a second --save-original would lose the original)."""
    for flag, path in (("-o", args.output), ("--save-original", args.save_original)):
        if path and os.path.exists(path) and not args.force:
            raise KatibConfigError(f"{flag}: {path} exists; choose another file, or add --force to overwrite it")


def _images(values: list[str]) -> tuple[tuple[str, str], ...]:
    """``BACKEND=IMAGE`` arguments -> (backend, image) pairs; KatibConfigError names a bad one."""
    images = []
    for value in values:
        backend, equals, image = (word.strip() for word in value.partition("="))
        if not equals or not image or backend not in registered():
            raise KatibConfigError(f"--image {value!r}: write BACKEND=IMAGE with BACKEND one of "
                                   f"{', '.join(registered())}, e.g. nevergrad=ghcr.io/you/katib-suggest-nevergrad")
        images.append((backend, image))
    return tuple(images)


def _input(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as stream:
        return stream.read()


def _write(path: str | None, text: str) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    with open(path, "w", encoding="utf-8") as stream:
        stream.write(text)


def _patches(values: list[str], flag: str) -> tuple[tuple[str, dict[str, Any]], ...]:
    """``[BACKEND=]PATCH`` arguments -> (backend or ALL_BACKENDS, patch) pairs, in order."""
    patches = []
    for value in values:
        head, sep, tail = value.partition("=")
        backend, text = (head.strip(), tail) if sep and "{" not in head else (ALL_BACKENDS, value)
        try:
            patch = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise KatibConfigError(f"{flag} {value!r}: not valid YAML ({' '.join(str(error).split())})") from error
        if not isinstance(patch, dict):
            raise KatibConfigError(f"{flag} {value!r}: give a mapping, e.g. '{{limits: {{memory: 512Mi}}}}'")
        patches.append((backend, patch))
    return tuple(patches)


def _summary(changes: list[Change]) -> str:
    if not changes:
        return "katib-config: nothing to change (katib-suggest's entries are already in place)"
    replaced = [c.name for c in changes if c.before is not None]
    added = [c.name for c in changes if c.before is None]
    parts = [f"{len(replaced)} entr{'y' if len(replaced) == 1 else 'ies'} replaced ({', '.join(replaced)})"
             if replaced else "", f"{len(added)} added ({', '.join(added)})" if added else ""]
    return f"katib-config: {'; '.join(p for p in parts if p)}; every other setting kept"
