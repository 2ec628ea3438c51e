#!/usr/bin/env python3
"""check_includes_test.py — scripts/check-includes on a planted tree (tests/lint/fixtures/
forbidden): it must fail (exit 1) naming exactly the three forbidden arrows planted there, and
none of the allowed includes beside them (a layer including itself, a service its own folder,
the node the bus and a service, a service the bus).

Usage: check_includes_test.py REPO_ROOT
"""
import os
import subprocess
import sys

EXPECTED = [
    "src/blobs/CMakeLists.txt:2: forbidden arrow blobs -> transport (target hn_transport)",
    'src/bus/x.h:8: forbidden arrow bus -> node ("node/node.h")',
    'src/services/chat/a.cpp:6: forbidden arrow services/chat -> services/file '
    '("services/file/b.h")',
]


def main(repo):
    script = os.path.join(repo, "scripts", "check-includes")
    fixture = os.path.join(repo, "tests", "lint", "fixtures", "forbidden")
    run = subprocess.run([sys.executable, script, fixture], capture_output=True, text=True)
    lines = run.stdout.splitlines()
    failures = []
    if run.returncode != 1:
        failures.append(f"exit code {run.returncode}, want 1")
    for want in EXPECTED:
        if not any(line.startswith(want) for line in lines):
            failures.append(f"missing: {want}")
    if len(lines) != len(EXPECTED):
        failures.append(f"{len(lines)} lines, want {len(EXPECTED)} (an allowed include reported?)")
    if failures:
        print("\n".join(failures))
        print("--- stdout\n" + run.stdout + "--- stderr\n" + run.stderr)
        return 1
    print("check-includes names every planted arrow and nothing else")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
