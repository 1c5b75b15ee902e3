"""Private mode (--private: every read needs a credential) and the OpenAPI document."""

import re

from native.nativetest import PACKAGES, NativeTestCase, manifest

# The native endpoint table of docs/api.md: (method, path).
NATIVE_TABLE = [
    ("post", "/api/v1/packages"),
    ("get", "/api/v1/packages"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/packages/{name}"),
    ("get", "/api/v1/packages/{name}/versions/{version}"),
    ("get", "/api/v1/packages/{name}/{version}"),
    ("get", "/api/v1/packages/{name}/versions/{version}/download"),
    ("get", "/api/v1/packages/{name}/{version}/download"),
    ("put", "/api/v1/packages/{name}/versions/{version}/yank"),
    ("delete", "/api/v1/packages/{name}/versions/{version}/yank"),
    ("get", "/api/v1/packages/{name}/owners"),
    ("put", "/api/v1/packages/{name}/owners/{username}"),
    ("delete", "/api/v1/packages/{name}/owners/{username}"),
    ("put", "/api/v1/packages/{name}/settings"),
    ("get", "/api/v1/packages/{name}/stats"),
    ("get", "/api/v1/stats"),
    ("post", "/api/v1/resolve"),
    ("get", "/api/v1/users/{username}"),
    ("get", "/api/v1/me/keys"),
    ("post", "/api/v1/me/keys"),
    ("delete", "/api/v1/me/keys/{key_id}"),
    ("get", "/api/v1/openapi.json"),
]


class Private(NativeTestCase):
    depot_args = ("--private",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = cls.register_user(prefix="pv")
        cls.name = cls.uniq("priv")
        d = cls.depot
        r = d.publish(cls.tarball_for(cls.name, "1.0.0"), metadata=manifest(cls.name),
                      auth=cls.owner.bearer)
        assert r.status == 201, r.describe()
        r = d.create_token(cls.owner.bearer, "reader", ["read"])
        assert r.status == 201, r.describe()
        cls.read_token = r.json()["token"]

    def reads(self):
        n = self.name
        return [("GET", "%s/%s" % (PACKAGES, n), None),
                ("GET", "%s/%s/versions/1.0.0" % (PACKAGES, n), None),
                ("GET", "%s/%s/1.0.0" % (PACKAGES, n), None),
                ("GET", "%s/%s/versions/1.0.0/download" % (PACKAGES, n), None),
                ("GET", "%s/%s/1.0.0/download" % (PACKAGES, n), None),
                ("GET", "%s/%s/owners" % (PACKAGES, n), None),
                ("GET", "%s/%s/stats" % (PACKAGES, n), None),
                ("GET", "%s?search=%s" % (PACKAGES, n), None),
                ("GET", "/api/v1/search?q=%s" % n, None),
                ("GET", "/api/search?q=%s" % n, None),
                ("GET", "/api/v1/stats", None),
                ("GET", "/api/v1/users/%s" % self.owner.username, None),
                ("POST", "/api/v1/resolve", {"dependencies": {n: "^1"}})]

    def test_anonymous_reads_are_401(self):
        for method, path, body in self.reads():
            with self.subTest(path=path):
                r = self.depot.request(method, path, json=body)
                self.assertError(r, 401)
                self.assertNotIn(self.name + " package", r.text)

    def test_reads_with_a_read_token(self):
        for auth in ("Bearer " + self.read_token, self.read_token, self.owner.bearer,
                     self.owner.basic):
            for method, path, body in self.reads():
                with self.subTest(path=path, auth=auth[:12]):
                    r = self.depot.request(method, path, json=body, auth=auth)
                    self.assertStatus(r, 200)
        r = self.depot.get("%s/%s" % (PACKAGES, self.name), auth="Bearer " + self.read_token)
        self.assertEqual(r.json()["name"], self.name)
        r = self.depot.get("/api/v1/search?q=" + self.name, auth="Bearer " + self.read_token)
        self.assertEqual([p["name"] for p in r.json()["packages"]], [self.name])

    def test_bad_credential_is_401(self):
        r = self.depot.get("%s/%s" % (PACKAGES, self.name), auth="Bearer dpt_" + "B" * 43)
        self.assertError(r, 401)

    def test_openapi_needs_no_credential(self):
        self.assertJSON(self.depot.get("/api/v1/openapi.json"))


class OpenAPI(NativeTestCase):
    create_admin = False

    def test_document(self):
        r = self.depot.get("/api/v1/openapi.json")
        doc = self.assertJSON(r)
        self.assertRegex(str(doc.get("openapi")), r"^3\.1\.\d+$")
        self.assertIn("title", doc.get("info", {}))
        self.assertIn("version", doc.get("info", {}))
        paths = doc.get("paths")
        self.assertIsInstance(paths, dict)
        missing = [(m, p) for m, p in NATIVE_TABLE
                   if p not in paths or m not in paths[p]]
        self.assertEqual(missing, [], "docs/api.md's native table lists these, the OpenAPI "
                         "document lacks them")
        for p, item in paths.items():
            for m, op in item.items():
                if m in ("get", "put", "post", "delete", "patch", "head", "options"):
                    with self.subTest(op="%s %s" % (m, p)):
                        self.assertIn("responses", op)
                        for name in re.findall(r"\{(\w+)\}", p):
                            params = (op.get("parameters") or []) + \
                                (item.get("parameters") or [])
                            names = [x.get("name") for x in params if isinstance(x, dict)]
                            refs = [x.get("$ref") for x in params if isinstance(x, dict)]
                            self.assertTrue(name in names or refs,
                                            "%s %s does not describe {%s}" % (m, p, name))

    def test_api_alias_and_etag(self):
        a = self.depot.get("/api/v1/openapi.json")
        b = self.depot.get("/api/openapi.json")
        self.assertEqual(self.assertJSON(a), self.assertJSON(b))
        etag = a.headers.get("ETag")
        if etag:
            self.assertStatus(self.depot.get("/api/v1/openapi.json",
                                             headers={"If-None-Match": etag}), 304)

    def test_every_documented_operation_is_routed(self):
        doc = self.assertJSON(self.depot.get("/api/v1/openapi.json"))
        for p, item in doc["paths"].items():
            for m in item:
                if m not in ("get", "put", "post", "delete", "patch"):
                    continue
                path = re.sub(r"\{\w+\}", "zz-nothing", p)
                with self.subTest(op="%s %s" % (m, p)):
                    r = self.depot.request(m.upper(), path)
                    self.assertNotEqual(r.status, 405, r.describe())
                    if r.status == 404:
                        self.assertNotIn("no route", r.json()["error"]["message"],
                                         r.describe())
