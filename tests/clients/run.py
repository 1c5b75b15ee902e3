#!/usr/bin/env python3
"""
run.py — runs depot's client tests: the real `depot` client commands against the real server
(and against a fake, hostile registry).

    DEPOT_BIN=build/depot python3 tests/clients/run.py [-v] [PATTERN...]

Finds every tests/clients/test_*.py and runs each TestCase class in its own process (a class
starts its own server; its numbered steps share it and run in order), CLIENTS_JOBS or -j classes
at a time. Prints one line per test, the details of each failure, and a last line
`clients: N passed, N failed[, N skipped]`. Exits 1 when any test failed. PATTERNs select tests
whose id (test_depot_client.EndToEnd.test_06_publish) contains one of them.
"""

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import time
import traceback
import unittest
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
MARK = "@@clienttest@@ "


def find_modules():
    return sorted(f[:-3] for f in os.listdir(HERE) if f.startswith("test_") and f.endswith(".py"))


def test_classes(modname):
    mod = importlib.import_module(modname)
    loader = unittest.TestLoader()
    out = []
    for name in sorted(dir(mod)):
        obj = getattr(mod, name)
        if (isinstance(obj, type) and issubclass(obj, unittest.TestCase)
                and obj.__module__ == modname):
            names = loader.getTestCaseNames(obj)
            if names:
                out.append((name, list(names)))
    return out


class _Result(unittest.TestResult):
    """Reports each test as one JSON line on stdout (in the worker)."""

    def __init__(self):
        super().__init__()
        self.t0 = 0.0
        self.rec = None

    def _emit(self, rec):
        sys.stdout.write(MARK + json.dumps(rec) + "\n")
        sys.stdout.flush()

    def startTest(self, test):
        super().startTest(test)
        self.t0 = time.monotonic()
        self.rec = {"id": test.id(), "status": "ok", "detail": ""}

    def _bad(self, test, status, err):
        detail = self._exc_info_to_string(err, test)
        if not isinstance(test, unittest.TestCase):  # setUpClass / tearDownClass
            self._emit({"class_error": str(test), "detail": detail})
            return
        if self.rec["status"] == "ok":
            self.rec["status"] = status
        self.rec["detail"] += detail

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._bad(test, "FAIL", err)

    def addError(self, test, err):
        super().addError(test, err)
        self._bad(test, "ERROR", err)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = "FAIL" if issubclass(err[0], test.failureException) else "ERROR"
            if self.rec["status"] == "ok":
                self.rec["status"] = kind
            self.rec["detail"] += "%s\n%s" % (subtest, self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.rec["status"], self.rec["detail"] = "skip", reason

    def stopTest(self, test):
        super().stopTest(test)
        self.rec["secs"] = round(time.monotonic() - self.t0, 2)
        self._emit(self.rec)


def worker(modname, clsname, patterns):
    sys.path.insert(0, HERE)
    try:
        cls = getattr(importlib.import_module(modname), clsname)
        names = [n for n in unittest.TestLoader().getTestCaseNames(cls)
                 if not patterns or any(p in "%s.%s.%s" % (modname, clsname, n) for p in patterns)]
        suite = unittest.TestSuite(cls(n) for n in names)
    except Exception:  # noqa: BLE001
        sys.stdout.write(MARK + json.dumps({"class_error": "%s.%s (import)" % (modname, clsname),
                                            "detail": traceback.format_exc()}) + "\n")
        return 1
    # a suite, so setUpClass/tearDownClass run around the tests
    unittest.TestSuite([suite]).run(_Result())
    return 0


def run_class(modname, clsname, tests, patterns, timeout):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", modname, clsname] + patterns
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        stdout, stderr = p.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        stdout, stderr = p.communicate()
        timed_out = True
    recs, class_errors = {}, []
    for ln in stdout.splitlines():
        if ln.startswith(MARK):
            rec = json.loads(ln[len(MARK):])
            if "class_error" in rec:
                class_errors.append(rec)
            else:
                recs[rec["id"]] = rec
    results = []
    for t in tests:
        tid = "%s.%s.%s" % (modname, clsname, t)
        if tid in recs:
            results.append(recs[tid])
            continue
        why = ("class setup failed:\n" + "\n".join(e["detail"] for e in class_errors)
               if class_errors else
               "the class did not finish within %ds" % timeout if timed_out else
               "the worker exited %s without reporting this test" % p.returncode)
        results.append({"id": tid, "status": "ERROR", "secs": 0,
                        "detail": why + ("\n--- worker stderr ---\n" + stderr[-4000:]
                                         if stderr.strip() else "")})
    for e in class_errors:
        if "tearDown" in e["class_error"] and all(r["id"] in recs for r in results):
            results.append({"id": "%s.%s.tearDownClass" % (modname, clsname), "status": "ERROR",
                            "detail": e["detail"], "secs": 0})
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-j", "--jobs", type=int,
                    default=int(os.environ.get("CLIENTS_JOBS", "0")) or 4)
    ap.add_argument("--timeout", type=int, default=int(os.environ.get("CLIENTS_TIMEOUT", 300)),
                    help="seconds one class may take")
    ap.add_argument("--worker", nargs=2, metavar=("MODULE", "CLASS"), help=argparse.SUPPRESS)
    ap.add_argument("patterns", nargs="*")
    args = ap.parse_args()
    if args.worker:
        sys.exit(worker(args.worker[0], args.worker[1], args.patterns))

    sys.path.insert(0, HERE)
    if not os.environ.get("DEPOT_BIN"):
        sys.stderr.write("run.py: DEPOT_BIN is not set; using build/depot\n")
    jobs, results = [], []
    for m in find_modules():
        try:
            classes = test_classes(m)
        except Exception:  # noqa: BLE001
            results.append({"id": m, "status": "ERROR", "detail": traceback.format_exc(),
                            "secs": 0})
            continue
        for cname, tests in classes:
            sel = [t for t in tests if not args.patterns
                   or any(p in "%s.%s.%s" % (m, cname, t) for p in args.patterns)]
            if sel:
                jobs.append((m, cname, sel))

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futures = [ex.submit(run_class, m, c, tests, args.patterns, args.timeout)
                   for m, c, tests in jobs]
        for f in futures:
            for r in f.result():
                print("%-5s %s (%.2fs)" % (r["status"], r["id"], r["secs"]), flush=True)
                results.append(r)

    failed = [r for r in results if r["status"] in ("FAIL", "ERROR")]
    skipped = [r for r in results if r["status"] == "skip"]
    passed = sum(1 for r in results if r["status"] == "ok")
    for r in failed:
        print("\n" + "=" * 78)
        print("%s: %s" % (r["status"], r["id"]))
        print("-" * 78)
        print(r["detail"].rstrip())
    for r in skipped:
        print("skipped %s: %s" % (r["id"], r["detail"]))
    print("\n(%d classes in %.1fs)" % (len(jobs), time.monotonic() - t0))
    line = "clients: %d passed, %d failed" % (passed, len(failed))
    if skipped:
        line += ", %d skipped" % len(skipped)
    print(line)
    sys.exit(1 if failed or not results else 0)


if __name__ == "__main__":
    main()
