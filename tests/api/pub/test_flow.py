"""The publish flow step by step, below the client: versions/new's form (an absolute url, string
fields carrying the upload id), the multipart POST in every shape a client or tool may send
(package:http's exact bytes, the file first, capitalized part headers, a quoted boundary, extra
and non-ASCII fields, a raw octet-stream body), the POST answering 303 with an absolute Location
even for a broken upload (the reason is told at finalize), both steps idempotent, uploads bound
to the user who started them, and every URL built from --base-url whatever the Host header."""

import json
import urllib.parse

from pub.dartpub import DartPub, package
from pub.pubtest import PubTestCase


def multipart(parts, boundary="dart-http-boundary-abc", quoted=False, caps=False):
    out = []
    for name, data, filename in parts:
        cd = "Content-Disposition" if caps else "content-disposition"
        head = '%s: form-data; name="%s"' % (cd, name)
        if filename is not None:
            head += '; filename="%s"' % filename
            head = ("%s: application/octet-stream\r\n" % ("Content-Type" if caps else "content-type")) + head
        data = data.encode() if isinstance(data, str) else data
        out.append(("--%s\r\n%s\r\n\r\n" % (boundary, head)).encode() + data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    ct = "multipart/form-data; boundary=%s" % ('"%s"' % boundary if quoted else boundary)
    return b"".join(out), ct


class Flow(PubTestCase):

    def setUp(self):
        super().setUp()
        self.user, self.token = self.pub_user()
        self.auth = "Bearer " + self.token

    def new(self, auth=None):
        r = self.pub("GET", "/api/packages/versions/new", auth=auth or self.auth,
                     headers={"Accept": "application/vnd.pub.v2+json"})
        self.assertStatus(r, 200)
        self.assertIn("charset=utf-8", r.headers["Content-Type"])
        form = r.json()
        self.assertEqual(set(form), {"url", "fields"})
        self.assertEqual(form["url"], self.depot.url + "/pub/api/packages/versions/newUpload")
        self.assertEqual(list(form["fields"]), ["upload_id"])
        self.assertIsInstance(form["fields"]["upload_id"], str)
        self.assertRegex(form["fields"]["upload_id"], r"^[A-Za-z0-9_-]{16,}$")
        return form

    def post(self, body, ctype, auth=None, query=""):
        r = self.pub("POST", "/api/packages/versions/newUpload" + query, body=body,
                     headers={"Content-Type": ctype}, auth=auth or self.auth)
        return r

    def location(self, r):
        self.assertStatus(r, 303)
        loc = r.headers["Location"]
        u = urllib.parse.urlsplit(loc)
        self.assertEqual("%s://%s" % (u.scheme, u.netloc), self.depot.url, loc)
        self.assertEqual(u.path, "/pub/api/packages/versions/newUploadFinish")
        return u.path + "?" + u.query

    def finalize(self, path, auth=None):
        return self.depot.request("GET", path, auth=auth or self.auth,
                                  headers={"Accept": "application/vnd.pub.v2+json"})

    def ok(self, r, name, version="1.0.0"):
        self.assertStatus(r, 200)
        self.assertEqual(r.json(), {"success": {"message": r.json()["success"]["message"]}})
        self.assertIn("%s %s" % (name, version), r.json()["success"]["message"])

    # ---- shapes --------------------------------------------------------------------------------

    def test_exact_client_bytes_and_idempotence(self):
        name = self.uniq("flow_")
        form = self.new()
        c = DartPub(self.depot, self.hosted, self.token)
        b = c.boundary()
        self.assertEqual(len(b), 70)
        body = c.multipart(list(form["fields"].items()), package(name), b)
        r = self.post(body, "multipart/form-data; boundary=" + b)
        fin = self.location(r)
        self.ok(self.finalize(fin), name)
        # a retried finalize (answer lost) succeeds again, it does not say "already exists"
        self.ok(self.finalize(fin), name)
        # a retried POST after success redirects to the same answer
        fin2 = self.location(self.post(body, "multipart/form-data; boundary=" + b))
        self.assertEqual(fin2, fin)
        self.ok(self.finalize(fin2), name)

    def test_concurrent_finalize(self):
        """Several finalizes of one upload at once (retries racing): one publishes, every one
        answers success."""
        import threading
        name = self.uniq("race_")
        uid = self.new()["fields"]["upload_id"]
        body, ct = multipart([("upload_id", uid, None), ("file", package(name), "p.tgz")])
        fin = self.location(self.post(body, ct))
        results = []

        def go():
            results.append(self.finalize(fin))
        threads = [threading.Thread(target=go) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            self.ok(r, name)

    def test_retried_post_before_finalize(self):
        name = self.uniq("retry_")
        form = self.new()
        uid = form["fields"]["upload_id"]
        body, ct = multipart([("upload_id", uid, None), ("file", b"garbage first", "package.tar.gz")])
        self.location(self.post(body, ct))
        body, ct = multipart([("upload_id", uid, None), ("file", package(name), "package.tar.gz")])
        fin = self.location(self.post(body, ct))
        self.ok(self.finalize(fin), name)

    def test_part_order_case_and_quoting(self):
        for i, kw in enumerate([dict(), dict(caps=True), dict(quoted=True)]):
            name = self.uniq("shape%d_" % i)
            uid = self.new()["fields"]["upload_id"]
            # the file first, then the id and an unknown field
            body, ct = multipart([("file", package(name), "x.tgz"), ("upload_id", uid, None),
                                  ("extra", "ignored", None)], **kw)
            self.ok(self.finalize(self.location(self.post(body, ct))), name)

    def test_non_ascii_field(self):
        name = self.uniq("na_")
        uid = self.new()["fields"]["upload_id"]
        c = DartPub(self.depot, self.hosted, self.token)
        b = c.boundary()
        body = c.multipart([("upload_id", uid), ("note", "caf\u00e9 \u2603")], package(name), b)
        self.assertIn(b"content-transfer-encoding: binary", body)
        self.ok(self.finalize(self.location(self.post(body, "multipart/form-data; boundary=" + b))),
                name)

    def test_raw_body(self):
        name = self.uniq("raw_")
        uid = self.new()["fields"]["upload_id"]
        r = self.post(package(name), "application/octet-stream", query="?upload_id=" + uid)
        self.ok(self.finalize(self.location(r)), name)
        # without an id a raw upload starts its own
        name2 = self.uniq("raw2_")
        r = self.post(package(name2), "application/octet-stream")
        self.ok(self.finalize(self.location(r)), name2)

    # ---- the POST never rejects; finalize says why --------------------------------------------

    def test_post_defers_every_rejection(self):
        cases = [
            (lambda uid: multipart([("upload_id", uid, None)]), "no part named 'file'"),
            (lambda uid: multipart([("upload_id", uid, None), ("file", "text", None)]),
             "must be a file"),
            (lambda uid: multipart([("upload_id", uid, None), ("file", b"", "p.tgz")]), "empty"),
            (lambda uid: (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
             "not valid multipart"),
            (lambda uid: multipart([("file", b"\x1f\x8bnot really", "p.tgz")]), "archive:"),
        ]
        for make, words in cases:
            with self.subTest(words=words):
                uid = self.new()["fields"]["upload_id"]
                body, ct = make(uid)
                r = self.post(body, ct, query="?upload_id=" + uid)
                fin = self.location(r)
                f = self.finalize(fin)
                self.assertPubError(f, 400, words)
                # the failure is remembered: finalize again says the same
                self.assertEqual(self.finalize(fin).json(), f.json())

    def test_unknown_upload(self):
        body, ct = multipart([("upload_id", "nosuchupload0000", None),
                              ("file", package(self.uniq("unk_")), "p.tgz")])
        fin = self.location(self.post(body, ct))
        self.assertPubError(self.finalize(fin), 400, "unknown or has expired")
        self.assertPubError(self.finalize("/pub/api/packages/versions/newUploadFinish"), 400,
                            "upload_id")

    def test_upload_belongs_to_its_user(self):
        name = self.uniq("mine_")
        uid = self.new()["fields"]["upload_id"]
        _, other = self.pub_user()
        body, ct = multipart([("upload_id", uid, None), ("file", package(name), "p.tgz")])
        self.assertPubError(self.post(body, ct, auth="Bearer " + other), 403, "another user")
        fin = self.location(self.post(body, ct))
        self.assertPubError(self.finalize(fin, auth="Bearer " + other), 403, "another user")
        self.ok(self.finalize(fin), name)

    def test_steps_need_a_credential(self):
        for method, path in (("GET", "/api/packages/versions/new"),
                             ("POST", "/api/packages/versions/newUpload"),
                             ("GET", "/api/packages/versions/newUploadFinish?upload_id=x")):
            r = self.pub(method, path)
            self.assertPubError(r, 401, "credential")


class BaseURL(PubTestCase):
    """Behind a reverse proxy: every absolute URL from --base-url, never from Host."""
    depot_args = ("--base-url", "https://registry.example.com/depot")

    def test_urls_from_base(self):
        _, tok = self.pub_user()
        auth = "Bearer " + tok
        h = {"Host": "evil.example.net:8080", "Accept": "application/vnd.pub.v2+json"}
        r = self.pub("GET", "/api/packages/versions/new", auth=auth, headers=h)
        self.assertEqual(r.json()["url"],
                         "https://registry.example.com/depot/pub/api/packages/versions/newUpload")
        name = self.uniq("proxy_")
        body, ct = multipart([("upload_id", r.json()["fields"]["upload_id"], None),
                              ("file", package(name, "1.0.0+7"), "p.tgz")])
        r = self.pub("POST", "/api/packages/versions/newUpload", body=body, auth=auth,
                     headers={"Content-Type": ct, "Host": "evil.example.net"})
        self.assertStatus(r, 303)
        loc = r.headers["Location"]
        self.assertTrue(loc.startswith("https://registry.example.com/depot/pub/api/packages/"
                                       "versions/newUploadFinish?upload_id="), loc)
        u = urllib.parse.urlsplit(loc)
        f = self.depot.request("GET", "/pub/api/packages/versions/newUploadFinish?" + u.query,
                               auth=auth, headers=h)
        self.assertStatus(f, 200)
        doc = self.pub("GET", "/api/packages/" + name, headers=h).json()
        self.assertEqual(doc["versions"][0]["archive_url"],
                         "https://registry.example.com/depot/pub/packages/%s/versions/1.0.0%%2B7.tar.gz"
                         % name)
        # the client, configured with the public hosted URL, works through the "proxy"
        c = DartPub(self.depot, "https://registry.example.com/depot/pub", token=tok,
                    proxy_strip="/depot")
        self.assertEqual(c.listing(name)["latest"]["version"], "1.0.0+7")
        c.download(name, "1.0.0+7")
        self.assertTrue(any(k.lower() == "authorization" for k, _ in c.requests[-1][2]),
                        "the archive URL is under the hosted URL, so the token goes with it")
