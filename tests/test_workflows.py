"""GitHub workflows: the tests run on every push and pull request; a release builds only a tested commit."""

from __future__ import annotations

from pathlib import Path

import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads a bare `on` key as true
    return workflow


def needs(job: dict) -> set[str]:
    value = job.get("needs", [])
    return {value} if isinstance(value, str) else set(value)


def test_ci_runs_the_ci_script_on_pushes_pull_requests_and_for_the_release():
    ci = load("ci.yml")
    assert {"push", "pull_request", "workflow_call"} <= set(ci["on"])
    assert ci["on"]["push"] == {"branches": ["**"]}  # every branch; tags are tested by the release itself
    runs = [step.get("run", "") for job in ci["jobs"].values() for step in job["steps"]]
    assert "bash .ci/run" in runs


def test_release_builds_images_only_after_the_tests_passed_on_the_same_commit():
    release = load("release.yml")
    jobs = release["jobs"]
    assert jobs["test"]["uses"] == "./.github/workflows/ci.yml"

    def depends_on_test(name: str) -> bool:
        return name == "test" or any(depends_on_test(n) for n in needs(jobs[name]))

    for name, job in jobs.items():
        steps = job.get("steps", [])
        builds = any("docker/build-push-action" in step.get("uses", "") or "pip wheel" in step.get("run", "")
                     for step in steps)
        if builds:
            assert any(depends_on_test(n) for n in needs(job)), f"{name} builds before the tests passed"
        for step in steps:
            if step.get("uses", "").startswith("actions/checkout"):
                assert step.get("with", {}).get("ref") == "${{ github.sha }}", f"{name}: check out the tested commit"
    assert any("docker/build-push-action" in s.get("uses", "") for s in jobs["image"]["steps"])
    assert "test" in needs(jobs["image"])


def test_release_checks_each_image_as_it_ships_before_pushing_it():
    steps = load("release.yml")["jobs"]["image"]["steps"]
    check = next(i for i, step in enumerate(steps) if "katib_suggestion.image_check" in step.get("run", ""))
    push = next(i for i, step in enumerate(steps) if "docker/build-push-action" in step.get("uses", ""))
    assert check < push and "matrix.backend" in steps[check]["run"]


def test_release_pushes_every_image_katib_config_names_the_early_stopping_one_too():
    steps = load("release.yml")["jobs"]["plan"]["steps"]
    plan = next(step["run"] for step in steps if "image_for" in step.get("run", ""))
    assert "from katib_suggestion.served import SERVED" in plan and "for b in SERVED]" in plan


def test_ci_checks_the_images_after_the_test_suite():
    script = (WORKFLOWS.parents[1] / ".ci" / "run").read_text()
    assert script.index("pytest") < script.index("python -m katib_suggestion.image_check")
    assert "podman runc debootstrap" in script  # what a machine without docker gets from Debian
