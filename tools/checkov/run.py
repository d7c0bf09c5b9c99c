"""checkov over every synthesized stack: zero failed checks, every skip from tools/checkov/skips.yaml.

Usage (mk/policy.mk runs it after `make synth`, with the checkov venv's python):
    .local/checkov-venv/bin/python tools/checkov/run.py [cdktf.out]

checkov runs once per stack over `cdktf.out/stacks/<stack>/cdk.tf.json` with the `terraform_json` framework (the
`terraform` framework ignores cdktf's .tf.json), offline (`--skip-download`, no platform mapping). It runs the full
check set and this script applies the skip file itself, because checkov drops `--skip-check` ids without counting
them: that way each stack reports how many results each skip covers, and a skip that no longer matches anything in
any stack fails the run (stale skips hide regressions). A skip of one cloud's checks (CKV_AWS_*, CKV_AZURE_*, ...)
is only held to that when some stack has resources of that cloud: a fork without Azure environments keeps the Azure
skips for the day it adds one. A failed check, a parsing error, a stack where checkov ran no
check, or an unused skip exits non-zero.

It also prints the policy pack's warnings and suppressions (stacks/policy) from cdktf.out/manifest.json, since
`node main.ts` does not print annotations the way `cdktf synth` does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
SKIPS_FILE = HERE / "skips.yaml"


def load_skips() -> dict[str, str]:
    entries = (yaml.safe_load(SKIPS_FILE.read_text()) or {}).get("skips") or []
    skips: dict[str, str] = {}
    for entry in entries:
        check_id, reason = entry.get("id"), (entry.get("reason") or "").strip()
        if not check_id or len(reason) < 20:
            sys.exit(f"{SKIPS_FILE}: every skip needs an id and a reason (got {entry!r})")
        if check_id in skips:
            sys.exit(f"{SKIPS_FILE}: {check_id} is listed twice")
        skips[check_id] = reason
    return skips


CLOUD_OF_CHECK = {"AWS": "aws_", "AZURE": "azurerm_"}


def check_cloud(check_id: str) -> str | None:
    """The resource type prefix a cloud-specific check reads (CKV_AWS_18 -> "aws_"), or None for the others."""
    parts = check_id.split("_")
    return CLOUD_OF_CHECK.get(parts[1]) if len(parts) > 2 else None


def resource_types(stack_dirs: list[Path]) -> set[str]:
    types: set[str] = set()
    for stack_dir in stack_dirs:
        types.update((json.loads((stack_dir / "cdk.tf.json").read_text()).get("resource") or {}).keys())
    return types


def scannable_copy(stack_dir: Path, into: Path) -> Path:
    """The stack's cdk.tf.json without `terraform.required_version`, in a folder named like the stack.

    checkov 3.3.30's terraform_json parser fails on that string ("this method receives only dicts"), reports a parsing
    error and runs no check at all; no check reads the terraform block, so dropping it changes no result.
    """
    stack = json.loads((stack_dir / "cdk.tf.json").read_text())
    stack.get("terraform", {}).pop("required_version", None)
    copy = into / stack_dir.name
    copy.mkdir(parents=True)
    (copy / "cdk.tf.json").write_text(json.dumps(stack))
    return copy


def run_checkov(stack_dir: Path) -> dict:
    checkov = Path(sys.executable).with_name("checkov")
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_OUTPUT_COLOR": "1", "LOG_LEVEL": "WARNING"}
    with tempfile.TemporaryDirectory(prefix="checkov-") as tmp:
        proc = subprocess.run(
            [
                str(checkov),
                "-d",
                str(scannable_copy(stack_dir, Path(tmp))),
                "--framework",
                "terraform_json",
                "--skip-download",
                "-o",
                "json",
                "--compact",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-4000:])
        sys.exit(f"checkov produced no JSON report for {stack_dir} (exit {proc.returncode})")
    # One framework gives one report object; be lenient about a list.
    return report[0] if isinstance(report, list) else report


def policy_annotations(out_dir: Path) -> dict[str, list[dict]]:
    manifest = out_dir / "manifest.json"
    if not manifest.exists():
        return {}
    stacks = json.loads(manifest.read_text()).get("stacks", {})
    return {name: stack.get("annotations") or [] for name, stack in stacks.items()}


def main() -> int:
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "cdktf.out")
    stack_dirs = sorted(p.parent for p in (out_dir / "stacks").glob("*/cdk.tf.json"))
    if not stack_dirs:
        sys.exit(f"no synthesized stacks under {out_dir}/stacks (run `make synth` first)")
    skips = load_skips()
    used: set[str] = set()
    annotations = policy_annotations(out_dir)
    failed_total = 0
    version = "?"

    for stack_dir in stack_dirs:
        report = run_checkov(stack_dir)
        summary = report.get("summary", {})
        version = summary.get("checkov_version", version)
        results = report.get("results", {})
        passed = results.get("passed_checks", [])
        failed, skipped = [], []
        for check in results.get("failed_checks", []):
            (skipped if check["check_id"] in skips else failed).append(check)
        skipped += results.get("skipped_checks", [])
        used.update(c["check_id"] for c in skipped)
        problems = []
        if summary.get("parsing_errors"):
            problems.append(f"{summary['parsing_errors']} parsing error(s)")
        if not passed and not failed and not skipped:
            problems.append("checkov ran no check (wrong framework or empty stack?)")
        print(
            f"checkov {stack_dir.name}: passed {len(passed)}, failed {len(failed)}, skipped {len(skipped)}"
            + (f" -- {'; '.join(problems)}" if problems else "")
        )
        for check in failed:
            print(f"  FAILED {check['check_id']} {check['resource']}: {check['check_name']}")
        for check in skipped:
            print(f"  skipped {check['check_id']} {check['resource']}")
        for note in annotations.get(stack_dir.name, []):
            print(f"  policy {note['level'].split('/')[-1]}: [{note['constructPath']}] {note['message']}")
        failed_total += len(failed) + len(problems)

    types = resource_types(stack_dirs)

    def applies(check_id: str) -> bool:
        prefix = check_cloud(check_id)
        return prefix is None or any(t.startswith(prefix) for t in types)

    unused = sorted(c for c in set(skips) - used if applies(c))
    for check_id in unused:
        print(f"stale skip {check_id} in {SKIPS_FILE.name}: no stack fails it any more; remove the entry")
    for check_id in sorted(c for c in skips if not applies(c)):
        print(f"skip {check_id} not checked: no stack has resources of its cloud")
    print(f"checkov {version}: {len(stack_dirs)} stack(s), {failed_total} failure(s), {len(skips)} skip(s) in {SKIPS_FILE.name}")
    return 1 if failed_total or unused else 0


if __name__ == "__main__":
    sys.exit(main())
