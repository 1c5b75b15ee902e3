#!/usr/bin/env python3
"""
crash.py — crash safety: publishes stream in from a client per ecosystem (native, Hex, npm, pub)
while the server is SIGKILLed at a random moment; after each kill the server is started again on
the same data folder and the test checks that

  - every publish that was acknowledged (a 2xx reached the client) is wholly there: in each of
    its front's documents with the tarball's digest, and downloadable with the right SHA-256;
  - every publish whose answer was cut off is wholly there or wholly absent, never half;
  - no publish was refused (any other status fails the run);
  - the blob store's temp folder is empty again after the restart (what the killed server left
    there is counted and shown);
  - PRAGMA integrity_check on the database says ok and `depot fsck` is clean.

At the end every publish of every round is checked once more.

    python3 tests/soak/crash.py [ROUNDS]      (default $ROUNDS or 5)

Knobs (environment): ROUNDS; CRASH_MAX_DELAY (seconds, default 1.5: each kill comes after a
uniformly random 0.05..max); CRASH_PAD (random bytes put in each tarball, default 96 KiB, so a kill
often lands in the middle of an upload); CRASH_SEED (the random seed, printed).
"""

import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak  # noqa: E402


class Attempt:
    def __init__(self, eco, name, version, tarball):
        self.eco, self.name, self.version, self.tarball = eco, name, version, tarball
        self.outcome = "pending"  # acked / cut / refused
        self.detail = ""


def publisher(reg, eco, rnd, pad, stop, log, rng):
    """Publishes new versions of three packages of eco until the server goes away."""
    n = 0
    while not stop.is_set():
        n += 1
        name = soak.names_for(eco, "p%d" % rng.randrange(3))
        version = "%d.%d.0" % (rnd, n)
        wire, tb = soak.build(eco, name, version, pad)
        a = Attempt(eco, name, version, tb)
        log.append(a)
        try:
            st, body = reg.publish(eco, name, version, wire, timeout=20)
        except soak.Cut as e:
            a.outcome, a.detail = "cut", str(e)
            return
        if 200 <= st < 300:
            a.outcome = "acked"
        else:
            a.outcome, a.detail = "refused", "%d %r" % (st, body[:300])
            return


def check(reg, attempts, problems, counts):
    for a in attempts:
        where = "%s %s@%s (%s)" % (a.eco, a.name, a.version, a.outcome)
        if a.outcome == "refused":
            problems.append("%s: refused: %s" % (where, a.detail))
            continue
        state = reg.state(a.eco, a.name, a.version, a.tarball)
        if a.outcome == "acked" and state != "present":
            problems.append("%s: acknowledged but %s" % (where, state))
        elif state not in ("present", "absent"):
            problems.append("%s: %s" % (where, state))
        if a.outcome == "cut" and counts is not None:
            counts["cut_" + state.split(":")[0].replace(" ", "_")] += 1


def main():
    rounds = int(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("ROUNDS", "5"))
    max_delay = float(os.environ.get("CRASH_MAX_DELAY", "1.5"))
    pad = int(os.environ.get("CRASH_PAD", str(96 * 1024)))
    seed = int(os.environ.get("CRASH_SEED", str(int.from_bytes(os.urandom(4), "big"))))
    rng = random.Random(seed)
    print("crash: %d rounds, kills after 0.05..%.2fs, %d-byte pads, seed %d"
          % (rounds, max_delay, pad, seed), flush=True)
    reg = soak.Registry().start()
    reg.setup_account()
    everything, problems = [], []
    counts = {"acked": 0, "cut": 0, "cut_present": 0, "cut_absent": 0, "cut_half_there": 0,
              "left_in_tmp": 0, "rounds_with_tmp_left": 0}
    t0 = time.monotonic()
    ok = False
    try:
        for rnd in range(1, rounds + 1):
            stop = threading.Event()
            logs = {eco: [] for eco in soak.ECOSYSTEMS}
            threads = [threading.Thread(target=publisher, daemon=True,
                                        args=(reg, eco, rnd, pad, stop, logs[eco],
                                              random.Random(rng.random())))
                       for eco in soak.ECOSYSTEMS]
            for t in threads:
                t.start()
            delay = rng.uniform(0.05, max_delay)
            time.sleep(delay)
            reg.depot.stop(sig=signal.SIGKILL)
            stop.set()
            for t in threads:
                t.join(30)
                if t.is_alive():
                    problems.append("round %d: a publisher did not stop after the kill" % rnd)
            left = reg.temp_files()
            counts["left_in_tmp"] += len(left)
            counts["rounds_with_tmp_left"] += bool(left)
            reg.depot.start()
            after = reg.temp_files()
            if after:
                problems.append("round %d: the temp folder still holds %s after the restart "
                                "(the kill left %s)" % (rnd, after, left))
            attempts = [a for eco in soak.ECOSYSTEMS for a in logs[eco]]
            everything.extend(attempts)
            for a in attempts:
                if a.outcome in ("acked", "cut"):
                    counts[a.outcome] += 1
            check(reg, attempts, problems, counts)
            integrity = reg.integrity_check()
            if integrity != "ok":
                problems.append("round %d: PRAGMA integrity_check: %s" % (rnd, integrity))
            fsck_ok, out = reg.fsck()
            if not fsck_ok:
                problems.append("round %d: depot fsck:\n%s" % (rnd, out))
            print("round %3d: killed after %.2fs; %2d acked, %d cut; %d temp files left by the "
                  "kill, %d after restart; integrity %s; fsck %s"
                  % (rnd, delay, sum(a.outcome == "acked" for a in attempts),
                     sum(a.outcome == "cut" for a in attempts), len(left), len(after), integrity,
                     "clean" if fsck_ok else "PROBLEMS"), flush=True)
            if problems:
                break
        if not problems:
            check(reg, everything, problems, None)  # nothing acknowledged got lost later
        ok = not problems
    finally:
        reg.depot.close(keep=not ok)
    print("crash: %d rounds in %.0fs: %d publishes acknowledged and found whole; %d cut off "
          "(%d present, %d absent, %d half); temp files left by kills: %d in %d rounds, all "
          "removed at restart" % (rnd, time.monotonic() - t0, counts["acked"], counts["cut"],
                                  counts["cut_present"], counts["cut_absent"],
                                  counts["cut_half_there"], counts["left_in_tmp"],
                                  counts["rounds_with_tmp_left"]))
    for p in problems:
        print("PROBLEM: " + p)
    print("crash: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
