#!/usr/bin/env python3
"""
run.py — runs the npm CLI against depot (tests/clients/npm/test_*.py).

    DEPOT_BIN=build/depot python3 tests/clients/npm/run.py [-v] [PATTERN...]

Each test class starts its own server; its numbered steps share it and run in order. Prints
one line per test, the details of each failure, and a last line
`npm-clients: N passed, N failed[, N skipped]`. Exits 1 when any test failed. Without npm on
the machine every test is skipped (and said so), which is not a failure.
"""

import argparse
import importlib
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


class Result(unittest.TestResult):
    def __init__(self, verbose):
        super().__init__()
        self.verbose = verbose
        self.rows = []
        self.t0 = time.monotonic()

    def startTest(self, test):
        super().startTest(test)
        self.t0 = time.monotonic()

    def _row(self, test, status, detail=""):
        tid = test.id() if isinstance(test, unittest.TestCase) else str(test)
        self.rows.append((status, tid, detail))
        print("%-5s %s (%.2fs)" % (status, tid, time.monotonic() - self.t0), flush=True)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._row(test, "ok")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._row(test, "FAIL", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._row(test, "ERROR", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._row(test, "skip", reason)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("patterns", nargs="*")
    args = ap.parse_args()
    sys.path.insert(0, HERE)
    if not os.environ.get("DEPOT_BIN"):
        sys.stderr.write("run.py: DEPOT_BIN is not set; using build/depot\n")
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for f in sorted(os.listdir(HERE)):
        if f.startswith("test_") and f.endswith(".py"):
            mod = importlib.import_module(f[:-3])
            for t in loader.loadTestsFromModule(mod):
                for case in t:
                    if not args.patterns or any(p in case.id() for p in args.patterns):
                        suite.addTest(case)
    t0 = time.monotonic()
    res = Result(args.verbose)
    suite.run(res)
    failed = [r for r in res.rows if r[0] in ("FAIL", "ERROR")]
    skipped = [r for r in res.rows if r[0] == "skip"]
    passed = sum(1 for r in res.rows if r[0] == "ok")
    for status, tid, detail in failed:
        print("\n" + "=" * 78)
        print("%s: %s" % (status, tid))
        print("-" * 78)
        print(detail.rstrip())
    for _, tid, detail in skipped[:1]:
        print("skipped %s%s: %s" % (tid, " and %d more" % (len(skipped) - 1) if len(skipped) > 1 else "", detail))
    print("\n(%.1fs)" % (time.monotonic() - t0))
    line = "npm-clients: %d passed, %d failed" % (passed, len(failed))
    if skipped:
        line += ", %d skipped" % len(skipped)
    print(line)
    sys.exit(1 if failed or not res.rows else 0)


if __name__ == "__main__":
    main()
