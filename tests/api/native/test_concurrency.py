"""Races: many publishes of the same version, many users racing to create the same package.
Exactly one wins; the rest are refused; the stored state matches the winner."""

import threading

from native.nativetest import PACKAGES, NativeTestCase, manifest, sha256_hex


def race(fns, timeout=30):
    """Runs every fn at once (released together by a barrier); returns their results in
    order (an exception is returned as the result)."""
    barrier = threading.Barrier(len(fns))
    out = [None] * len(fns)

    def run(i, fn):
        try:
            barrier.wait(timeout)
            out[i] = fn()
        except Exception as e:  # noqa: BLE001
            out[i] = e

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return out


class Concurrency(NativeTestCase):

    def same_version_race(self, name, version, n=20):
        owner = self.owner
        tarballs = [self.tarball_for(name, version) for _ in range(n)]
        self.assertEqual(len(set(tarballs)), n)

        def one(tb):
            # each call opens its own connection
            return lambda: self.depot.publish(tb, metadata=manifest(name, version),
                                              auth=owner.bearer, timeout=30)

        results = race([one(tb) for tb in tarballs])
        for r in results:
            if isinstance(r, Exception):
                raise r
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses.count(201), 1, "statuses: %s" % statuses)
        self.assertEqual(statuses.count(409), n - 1, "statuses: %s" % statuses)
        for r in results:
            if r.status == 409:
                self.assertError(r, 409)
        win = [(r, tb) for r, tb in zip(results, tarballs) if r.status == 201][0]
        doc = win[0].json()
        self.assertEqual(doc["sha256"], sha256_hex(win[1]))
        return doc, win[1]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="race")

    def test_20_concurrent_publishes_of_a_new_package(self):
        name = self.pkgname("race")
        doc, tb = self.same_version_race(name, "1.0.0")
        pkg = self.package(name)
        self.assertEqual([v["version"] for v in pkg["versions"]], ["1.0.0"])
        self.assertEqual(pkg["versions"][0]["sha256"], doc["sha256"])
        self.assertEqual([o["username"] for o in pkg["owners"]], [self.owner.username])
        dl = self.depot.get("%s/%s/versions/1.0.0/download" % (PACKAGES, name))
        self.assertStatus(dl, 200)
        self.assertEqual(sha256_hex(dl.body), doc["sha256"])
        self.assertEqual(dl.body, tb)

    def test_20_concurrent_publishes_of_a_new_version(self):
        name = self.pkgname("race")
        self.published(self.owner.bearer, name, "1.0.0")
        doc, tb = self.same_version_race(name, "1.1.0")
        pkg = self.package(name)
        self.assertEqual([v["version"] for v in pkg["versions"]], ["1.1.0", "1.0.0"])
        self.assertEqual(pkg["versions"][0]["sha256"], doc["sha256"])
        dl = self.depot.get("%s/%s/1.1.0/download" % (PACKAGES, name))
        self.assertEqual(dl.body, tb)

    def test_10_users_race_to_create_a_package(self):
        name = self.pkgname("first")
        users = [self.new_user(prefix="racer") for _ in range(10)]

        def one(u):
            return lambda: self.publish(u.bearer, name, "1.0.0")[0]

        results = race([one(u) for u in users])
        for r in results:
            if isinstance(r, Exception):
                raise r
        statuses = [r.status for r in results]
        self.assertEqual(statuses.count(201), 1, "statuses: %s" % statuses)
        for r in results:
            if r.status != 201:
                self.assertError(r, (403, 409))
        winner = users[statuses.index(201)]
        self.assertIs(results[statuses.index(201)].json()["created_package"], True)
        owners = self.assertJSON(self.depot.get("%s/%s/owners" % (PACKAGES, name)))["owners"]
        self.assertEqual([o["username"] for o in owners], [winner.username])
        pkg = self.package(name)
        self.assertEqual([v["version"] for v in pkg["versions"]], ["1.0.0"])
        self.assertEqual(pkg["versions"][0]["sha256"], results[statuses.index(201)].json()["sha256"])
        # the losers own nothing
        for u in users:
            prof = self.assertJSON(self.depot.get("/api/v1/users/" + u.username))
            self.assertEqual([p["name"] for p in prof["packages"]],
                             [name] if u is winner else [])

    def test_10_concurrent_versions_of_a_new_package_all_succeed(self):
        # ten different versions racing to create one package: each version is new, so each
        # is a 201 (none may lose to the package's creation)
        name = self.pkgname("multi")
        versions = ["1.%d.0" % i for i in range(10)]
        results = race([(lambda v=v: self.publish(self.owner.bearer, name, v)[0])
                        for v in versions])
        for r in results:
            if isinstance(r, Exception):
                raise r
        self.assertEqual([r.status for r in results], [201] * 10,
                         [r.describe(200) for r in results if r.status != 201])
        self.assertEqual(sum(1 for r in results if r.json()["created_package"]), 1)
        self.assertEqual(sorted(self.versions(name)), sorted(versions))
        self.assertEqual(self.package(name)["latest"], "1.9.0")

    def test_two_owners_removing_each_other_leave_one(self):
        for trial in range(3):
            name = self.pkgname("dueling")
            other = self.new_user(prefix="duel")
            self.published(self.owner.bearer, name, "1.0.0")
            self.assertStatus(self.depot.request(
                "PUT", "%s/%s/owners/%s" % (PACKAGES, name, other.username),
                auth=self.owner.bearer), 200)
            results = race([
                lambda: self.depot.request("DELETE", "%s/%s/owners/%s"
                                           % (PACKAGES, name, other.username),
                                           auth=self.owner.bearer),
                lambda: self.depot.request("DELETE", "%s/%s/owners/%s"
                                           % (PACKAGES, name, self.owner.username),
                                           auth=other.bearer)])
            for r in results:
                if isinstance(r, Exception):
                    raise r
            statuses = sorted(r.status for r in results)
            self.assertEqual(statuses[0], 200, statuses)
            self.assertIn(statuses[1], (403, 409), statuses)
            owners = self.assertJSON(
                self.depot.get("%s/%s/owners" % (PACKAGES, name)))["owners"]
            self.assertEqual(len(owners), 1, "trial %d left owners %s" % (trial, owners))
