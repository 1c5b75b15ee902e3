#!/usr/bin/env python3
"""
memcheck.py — the black-box API suite (tests/api/run.py) with every server it starts running under
valgrind's memcheck (through the harness's DEPOT_WRAPPER), then every server's valgrind log read
back: any memory error or definitely lost block fails the run.

    python3 tests/soak/memcheck.py            # the whole suite (what make soak runs)
    python3 tests/soak/memcheck.py --subset   # the representative subset below, for a quick look
    python3 tests/soak/memcheck.py native.test_reads hex.test_api   # these patterns

valgrind runs with --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite and one
log per server process; a server that was SIGKILLed by its test leaves a log without a summary,
which is counted and shown but is not a failure. The admin CLI (`depot user add`, fsck, backup)
runs without valgrind. Exit 0 when the suite passed and no log reports an error.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RUN = os.path.join(HERE, "..", "api", "run.py")

# Every front's publish and read paths, the HTTP edge cases, credentials and the operations
# commands: the code a request runs through, without the suite's slowest classes.
SUBSET = [
    "core.test_http", "core.test_auth", "core.test_tokens",
    "native.test_publish", "native.test_reads", "native.test_yank_owners",
    "hex.test_publish", "hex.test_repository",
    "npm.test_publish", "npm.test_reads",
    "pub.test_flow", "pub.test_publish",
    "ops.test_backup_fsck",
]

VALGRIND = ["valgrind", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite", "--num-callers=30"]

SUMMARY = re.compile(r"ERROR SUMMARY: (\d+) errors")
LOST = re.compile(r"definitely lost: ([\d,]+) bytes")


def read_logs(logdir):
    """[(path, errors or None, definitely lost bytes or None)] of every log."""
    out = []
    for path in sorted(glob.glob(os.path.join(logdir, "vg.*.log"))):
        with open(path, errors="replace") as f:
            text = f.read()
        m = SUMMARY.search(text)
        lost = LOST.search(text)
        out.append((path, int(m.group(1)) if m else None,
                    int(lost.group(1).replace(",", "")) if lost else None))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subset", action="store_true", help="the representative subset, not the whole suite")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--keep", action="store_true", help="keep the logs even when clean")
    ap.add_argument("patterns", nargs="*")
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        sys.stderr.write("memcheck: valgrind is not installed (scripts/install-deps test)\n")
        return 2
    patterns = args.patterns or (SUBSET if args.subset else [])
    logdir = tempfile.mkdtemp(prefix="depot-memcheck-")
    env = dict(os.environ)
    # A copy of the binary: a rebuild during the long run (the linker rewriting it) would make
    # servers started then fail with "Permission denied".
    binary = os.path.join(logdir, "depot")
    shutil.copy2(os.environ.get("DEPOT_BIN") or os.path.join(HERE, "..", "..", "build", "depot"),
                 binary)
    env["DEPOT_BIN"] = binary
    env["DEPOT_WRAPPER"] = " ".join(VALGRIND + ["--log-file=%s/vg.%%p.log" % logdir])
    # The first server generates the Hex key under valgrind; later ones reuse it (harness).
    env["DEPOT_TEST_HEX_KEY_CACHE"] = os.path.join(logdir, "hex_repo_key.pem")
    env.setdefault("API_CLASS_TIMEOUT", "1800")
    t0 = time.monotonic()
    print("memcheck: %s under valgrind, logs in %s" % (
        "the whole suite" if not patterns else " ".join(patterns), logdir), flush=True)
    rc = subprocess.call([sys.executable, RUN, "-j", str(args.jobs)] + patterns, env=env)
    logs = read_logs(logdir)
    bad = [(p, n, lost) for p, n, lost in logs if n]
    unfinished = [p for p, n, _ in logs if n is None]
    for p, n, lost in bad:
        print("\n" + "=" * 78 + "\n%s: %d errors, %s bytes definitely lost\n" % (
            os.path.basename(p), n, lost) + "-" * 78)
        with open(p, errors="replace") as f:
            sys.stdout.write(f.read())
    print("\nmemcheck: %d servers under valgrind in %.0fs: %d with errors (%d errors in all), "
          "%d killed before valgrind's summary; suite exit %d"
          % (len(logs), time.monotonic() - t0, len(bad), sum(n for _, n, _ in bad),
             len(unfinished), rc))
    failed = rc != 0 or bad or not logs
    if failed or args.keep:
        print("memcheck: logs kept in %s" % logdir)
    else:
        shutil.rmtree(logdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
