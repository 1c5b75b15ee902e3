"""
stack.py — the base of the scale tests that run the deployment of several servers: throwaway
services started for the class (PostgreSQL from tests/harness/pg.py, s3rver from s3.py,
redis-server from redis.py), stopped after it, and every front's answers checked by that front's
own rules.

    class T(StackTestCase):
        services = ("pg", "s3", "redis")    # any of them; each class attribute cls.pg / s3 / redis

A service that cannot be had (PostgreSQL or Node.js not installed) fails the class: `make test`
installs them (scripts/install-deps test), and these tests are what prove the README's
"Running several servers".
"""

import os
import sys

from hex.hextest import HexTestCase
from native.nativetest import NativeTestCase
from npm.npmtest import NPM, NpmTestCase
from pub.pubtest import PUB, PubTestCase

HARNESS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "harness")
sys.path.insert(0, os.path.abspath(HARNESS))

import pg as pg_harness  # noqa: E402
import redis as redis_harness  # noqa: E402
import s3 as s3_harness  # noqa: E402

MAKERS = {
    "pg": lambda: pg_harness.Cluster(max_connections=100),
    "s3": s3_harness.S3Server,
    "redis": redis_harness.RedisServer,
}


class StackTestCase(NativeTestCase):
    start_server = False
    create_admin = False
    services = ()

    @staticmethod
    def invariant_problems(r):
        """Each front's answers by its own rules (its tests' base classes)."""
        path = (r.path or "").split("?")[0]
        for prefix, case in (("/hex/", HexTestCase), (NPM + "/", NpmTestCase),
                             (PUB + "/", PubTestCase)):
            if path.startswith(prefix):
                return case.invariant_problems(r)
        return NativeTestCase.invariant_problems(r)

    @classmethod
    def setUpClass(cls):
        cls._started = []
        try:
            for name in ("pg", "s3", "redis"):
                svc = None
                if name in cls.services:
                    svc = MAKERS[name]()
                    cls._started.append(svc)
                    svc.start()
                setattr(cls, name, svc)
            super().setUpClass()
        except BaseException:
            cls.stop_services()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            cls.stop_services()

    @classmethod
    def stop_services(cls):
        for d in getattr(cls, "_depots", []):
            d.close()
        for svc in reversed(cls._started):
            svc.close()
        cls._started = []
