#!/usr/bin/env python3
"""Runs the `run:` steps of the GitHub Action (action.yml at the repository root) against
fixtures, as the GitHub runner would: each script through `bash --noprofile --norc -eo pipefail`,
with the `${{ ... }}` expressions the action uses replaced by fixture values (an expression this
script does not know fails it, so the action and its test cannot drift apart), `GITHUB_OUTPUT`,
`RUNNER_TEMP` and `GITHUB_ACTION_PATH` set, and the workspace's `cip` build first on PATH.

The fixture is a git repository with two plain manifests: `good.yaml` unchanged since the base
commit and `bad.yaml` changed since then with an error. Checked: only `bad.yaml` is selected; the
annotations step fails naming it in `::error` lines; the SARIF step succeeds and writes SARIF
2.1.0 with its finding (what the `uses: github/codeql-action/upload-sarif` step, not run here,
uploads); the plan step writes the comment body with the plan (offline, from a fixture inventory).
The step posting the comment (`gh pr comment`) talks to GitHub and is not run; its input file is
checked instead. Run by tests/run-all.sh; needs PyYAML and git. Exit status 0 when all hold.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64

MANIFEST = """registries:
- name: gcr.io/k8s-staging-foo
  src: true
- name: us-docker.pkg.dev/k8s-artifacts-prod/images
images:
- name: {image}
  dmap:
    "{digest}": ["1.0"]
"""


def git(repo, *args):
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def fixture(repo: Path) -> str:
    """The repository; returns the base commit."""
    git(repo, "init", "-q", ".")
    git(repo, "config", "user.email", "test@example.invalid")
    git(repo, "config", "user.name", "test")
    (repo / "good.yaml").write_text(MANIFEST.format(image="foo", digest=DIGEST_A))
    (repo / "bad.yaml").write_text(MANIFEST.format(image="bar", digest=DIGEST_B))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    base = git(repo, "rev-parse", "HEAD")
    (repo / "bad.yaml").write_text(MANIFEST.format(image="bar", digest=DIGEST_B).replace("  src: true", "  srcc: true"))
    git(repo, "commit", "-q", "-am", "change")
    inventory = {
        "repositories": {
            "gcr.io/k8s-staging-foo/foo": {DIGEST_A: {"tags": ["1.0"]}},
            "us-docker.pkg.dev/k8s-artifacts-prod/images/foo": {},
        }
    }
    (repo / "inventory.json").write_text(json.dumps(inventory))
    return base


def main() -> int:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite", "the action is a composite action"
    failures = []
    with tempfile.TemporaryDirectory() as work, tempfile.TemporaryDirectory() as temp:
        repo = Path(work)
        base = fixture(repo)
        output = Path(temp) / "github_output"
        inputs = {
            "paths": "good.yaml bad.yaml",
            "base-ref": base,
            "sarif": "true",
            "plan-comment": "true",
            "inventory": "inventory.json",
        }
        outputs = {}
        env = dict(os.environ)
        env.update(
            PATH=f"{TARGET / 'debug'}:{env['PATH']}",
            GITHUB_OUTPUT=str(output),
            RUNNER_TEMP=temp,
            GITHUB_ACTION_PATH=str(ROOT),
        )

        def value(expression: str) -> str:
            expression = expression.strip()
            if expression.startswith("inputs."):
                return inputs[expression[len("inputs."):]]
            match = re.fullmatch(r"steps\.(\w+)\.outputs\.(\w+)", expression)
            if match:
                return outputs[match.group(1)][match.group(2)]
            if expression == "runner.temp":
                return temp
            raise KeyError(f"unknown expression ${{{{ {expression} }}}} in action.yml")

        def substitute(text: str) -> str:
            return re.sub(r"\$\{\{(.*?)\}\}", lambda m: value(m.group(1)), text)

        ran = {}
        for step in action["runs"]["steps"]:
            name = step["name"]
            if "uses" in step:
                continue
            if "gh pr comment" in step["run"]:
                continue  # talks to GitHub; its input file is checked below
            output.write_text("")
            step_env = dict(env)
            step_env.update({k: substitute(str(v)) for k, v in step.get("env", {}).items()})
            result = subprocess.run(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", substitute(step["run"])],
                cwd=repo,
                env=step_env,
                capture_output=True,
                text=True,
            )
            ran[name] = result
            if "id" in step:
                outputs[step["id"]] = dict(
                    line.split("=", 1) for line in output.read_text().splitlines() if "=" in line
                )

        def check(ok, message):
            if not ok:
                failures.append(message)

        check(ran["Install cip"].returncode == 0, f"install: {ran['Install cip'].stderr}")
        check(outputs["changed"]["paths"] == "bad.yaml", f"changed paths: {outputs['changed']}")
        lint = ran["Lint (annotations)"]
        check(lint.returncode == 1, f"annotations step exit {lint.returncode}: {lint.stderr}")
        check(re.search(r"^::error file=bad\.yaml,line=3,col=3,.*title=unknown-key::", lint.stdout, re.M), f"annotations: {lint.stdout}")
        check("good.yaml" not in lint.stdout, f"an unchanged file was linted: {lint.stdout}")
        sarif_step = ran["Lint (SARIF)"]
        check(sarif_step.returncode == 0, f"SARIF step exit {sarif_step.returncode}: {sarif_step.stderr}")
        sarif = json.loads((Path(temp) / "cip.sarif").read_text())
        check(sarif["version"] == "2.1.0", f"SARIF version {sarif.get('version')}")
        rules = [r["ruleId"] for r in sarif["runs"][0]["results"]]
        check("unknown-key" in rules, f"SARIF results: {rules}")
        upload = next(s for s in action["runs"]["steps"] if "upload-sarif" in s.get("uses", ""))
        check(substitute(upload["with"]["sarif_file"]) == str(Path(temp) / "cip.sarif"), "upload path")
        plan = ran["Plan"]
        check(plan.returncode == 0, f"plan step exit {plan.returncode}: {plan.stderr}")
        body = (Path(temp) / "cip-plan.md").read_text()
        check(body.startswith("### cip plan") and body.rstrip().endswith("```"), f"plan comment: {body}")
        check("blocked us-docker.pkg.dev/k8s-artifacts-prod/images/bar@" in body, f"plan comment: {body}")

        for failure in failures:
            print(f"action: FAIL: {failure}")
        print(f"action: {len(ran)} run steps run against fixtures, {len(failures)} failures")
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
