"""Request smuggling, bodies sent before a refusal, and secrets in logs.

Framing (RFC 9112, sections 5 and 6): a request whose length two parsers could read differently
(both Content-Length and Transfer-Encoding, several Content-Length fields, a transfer coding other
than chunked, whitespace before a field's colon, a folded header line) is answered 400 at once,
saying why, and its connection is closed, so nothing after it on the connection is read as a
request. Each shape is sent byte for byte on a raw socket.

Refusal before the body: a route that needs a user refuses an anonymous or bad credential before
its body is read, whether or not the client waits for `100 Continue`: the 401 comes while most of
the body is still unsent, and no upload file is ever made for it.

Secrets: a token named in a path (npm's logout, a secret sent to the wrong route, a refused
logout) never reaches the access log or the audit log. The harness also greps the log and the
audit log of every server of every suite for every secret it handed out (tests/harness/depot.py,
secret_reports); the test here checks on its own, without the harness's help."""

import os
import re
import socket
import time

from apitest import DepotTestCase, basic, bearer
from depot import SECRET

LOGIN = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
BODY = b'{"username":"nobody","password":"x"}'
CHUNKED = b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)
# What a proxy that framed the request the other way would have passed on as a second request.
SMUGGLED = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"

# name -> (request bytes, a word the 400's message must hold; None: libmicrohttpd's own 400)
SHAPES = {
    "content_length_and_chunked": (LOGIN + b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   % len(CHUNKED) + CHUNKED, "both"),
    "chunked_and_content_length": (LOGIN + b"Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
                                   + CHUNKED, "both"),
    "two_content_lengths": (LOGIN + b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n"
                            % (len(BODY), len(BODY) + len(SMUGGLED)) + BODY + SMUGGLED,
                            "one Content-Length"),
    "two_equal_content_lengths": (LOGIN + b"Content-Length: %d\r\nContent-Length: %d\r\n\r\n"
                                  % (len(BODY), len(BODY)) + BODY, "one Content-Length"),
    "content_length_list": (LOGIN + b"Content-Length: %d, %d\r\n\r\n" % (len(BODY), len(BODY))
                            + BODY, None),
    "xchunked": (LOGIN + b"Transfer-Encoding: xchunked\r\n\r\n" + CHUNKED, "chunked"),
    "gzip_chunked": (LOGIN + b"Transfer-Encoding: gzip, chunked\r\n\r\n" + CHUNKED, "chunked"),
    "identity": (LOGIN + b"Transfer-Encoding: identity\r\nContent-Length: %d\r\n\r\n" % len(BODY)
                 + BODY, "both"),
    "two_transfer_encodings": (LOGIN + b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
                               b"\r\n\r\n" + CHUNKED, "chunked"),
    "http10_chunked": (LOGIN.replace(b"HTTP/1.1", b"HTTP/1.0") + b"Transfer-Encoding: chunked\r\n\r\n"
                       + CHUNKED, "HTTP/1.0"),
    "space_before_colon": (LOGIN + b"Transfer-Encoding : chunked\r\n\r\n" + CHUNKED, "whitespace"),
    "tab_before_colon": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Note\t: a\r\n\r\n", "whitespace"),
    "space_before_colon_content_length": (LOGIN + b"Content-Length : %d\r\n\r\n" % len(BODY) + BODY,
                                          "whitespace"),
    "obs_fold": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Note: a\r\n b\r\n\r\n", "folding"),
    "obs_fold_tab": (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Note: a\r\n\tb c\r\n\r\n", None),
    "obs_fold_transfer_encoding": (LOGIN + b"Transfer-Encoding: identity\r\n chunked\r\n\r\n"
                                   + CHUNKED, "folding"),
    "obs_fold_content_length": (LOGIN + b"Content-Length: 4\r\n %d\r\n\r\n" % len(BODY) + BODY,
                                "folding"),
}


def exchange(port, data, timeout=4.0):
    """Sends data and reads until the server closes or timeout passes: (bytes read, closed,
    seconds until the first byte came)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    t0 = time.monotonic()
    first = None
    got = b""
    closed = False
    try:
        s.sendall(data)
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            if first is None:
                first = time.monotonic() - t0
            got += chunk
    finally:
        s.close()
    return got, closed, first


class Framing(DepotTestCase):
    create_admin = False

    def check_shape(self, name):
        data, word = SHAPES[name]
        got, closed, first = exchange(self.depot.port, data)
        self.assertRegex(got[:13], rb"^HTTP/1\.[01] 400 ", "%s: want a 400, got %r" % (name, got[:300]))
        self.assertEqual(len(re.findall(rb"HTTP/1\.[01] \d{3} ", got)), 1 if word else got.count(b" 400 Bad"),
                         "%s: a second request was read off the connection: %r" % (name, got[:600]))
        self.assertNotIn(b"HTTP/1.1 200", got, name)
        if word:
            self.assertIn(word.encode(), got, "%s: the message must say why: %r" % (name, got[:600]))
        self.assertTrue(closed, "%s: the connection must be closed after the 400" % name)
        self.assertLess(first, 2.0, "%s: answered after %.1fs" % (name, first))

    def test_content_length_and_chunked(self):
        self.check_shape("content_length_and_chunked")

    def test_chunked_and_content_length(self):
        self.check_shape("chunked_and_content_length")

    def test_two_content_lengths(self):
        self.check_shape("two_content_lengths")

    def test_two_equal_content_lengths(self):
        self.check_shape("two_equal_content_lengths")

    def test_content_length_list(self):
        self.check_shape("content_length_list")

    def test_xchunked_is_answered_at_once(self):
        self.check_shape("xchunked")

    def test_gzip_chunked(self):
        self.check_shape("gzip_chunked")

    def test_identity(self):
        self.check_shape("identity")

    def test_two_transfer_encodings(self):
        self.check_shape("two_transfer_encodings")

    def test_http10_chunked(self):
        self.check_shape("http10_chunked")

    def test_space_before_colon(self):
        self.check_shape("space_before_colon")

    def test_tab_before_colon(self):
        self.check_shape("tab_before_colon")

    def test_space_before_colon_content_length(self):
        self.check_shape("space_before_colon_content_length")

    def test_obs_fold(self):
        self.check_shape("obs_fold")

    def test_obs_fold_tab(self):
        self.check_shape("obs_fold_tab")

    def test_obs_fold_transfer_encoding(self):
        self.check_shape("obs_fold_transfer_encoding")

    def test_obs_fold_content_length(self):
        self.check_shape("obs_fold_content_length")

    def test_well_framed_requests_keep_the_connection(self):
        """The strict reading costs clients nothing: a chunked body, a Content-Length body, and
        whitespace after a colon are answered, and the connection serves the next request."""
        data = (LOGIN + b"Transfer-Encoding: Chunked\r\n\r\n" + CHUNKED
                + LOGIN + b"Content-Length:   %d\r\n\r\n" % len(BODY) + BODY
                + b"GET /health HTTP/1.1\r\nHost: x\r\nX-Empty:\r\n\r\n")
        got, closed, _ = exchange(self.depot.port, data, timeout=2.0)
        self.assertEqual(got.count(b"HTTP/1.1 401 "), 2, got[:800])
        self.assertEqual(got.count(b"HTTP/1.1 200 "), 1, got[:800])
        self.assertFalse(closed)


def upload_files(root):
    """The upload temp files under root (the data folder: the blob store's temp folder)."""
    found = []
    for d, _, files in os.walk(root):
        found += [os.path.join(d, f) for f in files if f.startswith("upload-")]
    return found


# Each front's publish route: (method, path, extra headers).
PUBLISH = {
    "native": ("POST", "/api/v1/packages", b"Content-Type: multipart/form-data; boundary=b\r\n"),
    "hex": ("POST", "/hex/api/publish", b"Content-Type: application/octet-stream\r\n"),
    "pub": ("POST", "/pub/api/packages/versions/newUpload",
            b"Content-Type: multipart/form-data; boundary=b\r\n"),
    "npm": ("PUT", "/npm/smuggling-probe", b"Content-Type: application/json\r\n"),
}
DECLARED = 4 << 20  # under every front's upload limit
SENT = 256 << 10    # what the client sends before it waits for an answer


class RefusedBeforeTheBody(DepotTestCase):

    def refused_early(self, front, auth, expect):
        """Sends the head and a little of a large body, then waits: the 401 must come while the
        rest is unsent, with no upload file made."""
        method, path, extra = PUBLISH[front]
        head = b"%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n" % (
            method.encode(), path.encode(), extra, DECLARED)
        if auth:
            head += b"Authorization: " + auth.encode() + b"\r\n"
        if expect:
            head += b"Expect: 100-continue\r\n"
        s = socket.create_connection(("127.0.0.1", self.depot.port), timeout=5)
        try:
            t0 = time.monotonic()
            s.sendall(head + b"\r\n")
            if not expect:
                try:
                    s.sendall(b"x" * SENT)
                except (BrokenPipeError, ConnectionResetError):
                    pass
            got = b""
            try:
                while b"\r\n\r\n" not in got:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    got += chunk
            except (socket.timeout, ConnectionResetError):
                pass
            took = time.monotonic() - t0
            left = upload_files(self.depot.data_dir)
        finally:
            s.close()
        what = "%s %s (%s, %s)" % (method, path, "no credential" if not auth else auth.split()[0],
                                   "Expect" if expect else "body sent at once")
        self.assertTrue(got.startswith(b"HTTP/1.1 401 "),
                        "%s: want a 401 before the body, got %r" % (what, got[:300]))
        self.assertLess(took, 2.0, what)
        self.assertEqual(left, [], "%s: an upload file was made for a refused request" % what)

    def test_anonymous(self):
        for front in PUBLISH:
            for expect in (False, True):
                with self.subTest(front=front, expect=expect):
                    self.refused_early(front, None, expect)

    def test_bad_token(self):
        bad = bearer("dpt_" + "A" * 43)
        for front in PUBLISH:
            for expect in (False, True):
                with self.subTest(front=front, expect=expect):
                    self.refused_early(front, bad, expect)

    def test_wrong_password(self):
        """A password costs a hash: it is checked on the worker pool, still before the body."""
        u = self.new_user(login=False)
        wrong = basic(u.username, u.password + "x")
        for front in PUBLISH:
            for expect in (False, True):
                with self.subTest(front=front, expect=expect):
                    self.refused_early(front, wrong, expect)

    def test_small_body_read_before_the_refusal(self):
        """A small body sent at once (as npm and fetch send one, reading only afterwards) is read
        into nothing and then refused, the connection kept: the client reads its 401 instead of
        a reset, and nothing was stored."""
        for front, (method, path, extra) in PUBLISH.items():
            with self.subTest(front=front):
                body = b"x" * (200 << 10)
                req = b"%s %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n" % (
                    method.encode(), path.encode(), extra, len(body))
                s = socket.create_connection(("127.0.0.1", self.depot.port), timeout=5)
                try:
                    s.sendall(req + body)
                    first = s.recv(65536)
                    self.assertTrue(first.startswith(b"HTTP/1.1 401 "), first[:200])
                    self.assertNotIn(b"connection: close", first.lower())
                    self.assertEqual(upload_files(self.depot.data_dir), [])
                    # The same connection answers the next request.
                    time.sleep(0.05)
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    got = b""
                    while b"HTTP/1.1 200" not in got:
                        chunk = s.recv(65536)
                        if not chunk:
                            break
                        got += chunk
                    self.assertIn(b"HTTP/1.1 200", got)
                finally:
                    s.close()

    def test_right_password_reads_the_body(self):
        """A good password lets the body in: the publish is judged on its content (here, a
        body that is not a package)."""
        u = self.new_user(login=False)
        r = self.depot.request("POST", "/api/v1/packages", body=b"--b--\r\n",
                               headers={"Content-Type": "multipart/form-data; boundary=b"},
                               auth=basic(u.username, u.password))
        self.assertIn(r.status, (400, 422), r.describe())


class SecretsNotLogged(DepotTestCase):
    """npm's logout, refused and done, a secret sent to routes that take none, and the access
    log and the audit log afterwards."""

    @staticmethod
    def invariant_problems(r):
        # npm and Hex answer in their clients' shapes: the contract's error invariants hold for
        # the native API only.
        if (r.path or "").startswith("/api/"):
            return DepotTestCase.invariant_problems(r)
        return [] if r.headers.get("X-Request-Id") else ["no X-Request-Id header"]

    def npm_login(self, user):
        r = self.depot.request("PUT", "/npm/-/user/org.couchdb.user:" + user.username,
                               json={"_id": "org.couchdb.user:" + user.username,
                                     "name": user.username, "password": user.password,
                                     "type": "user"})
        self.assertStatus(r, 201)
        return r.json()["token"]

    def logged(self):
        """The server's log lines so far and its audit log (as the admin page shows it)."""
        lines = self.depot.stderr_lines()
        return lines, self.depot.audit_rows()

    def test_no_secret_in_the_logs(self):
        alice, mallory = self.new_user(), self.new_user()
        tok, _ = self.make_token(alice.bearer, ("publish",))
        npm_tok = self.npm_login(alice)
        other = self.npm_login(mallory)
        secrets = [tok, npm_tok, other, alice.jwt, mallory.jwt]
        read_tok, _ = self.make_token(alice.bearer, ("read",))
        secrets.append(read_tok)
        # Refused: alice's read-only token ends her publish token (a 403, audited); mallory ends
        # alice's token; a GET where only DELETE is routed; no credential.
        r = self.depot.request("DELETE", "/npm/-/user/token/" + tok, auth=bearer(read_tok))
        self.assertStatus(r, 403)
        r = self.depot.request("DELETE", "/npm/-/user/token/" + tok, auth=bearer(other))
        self.assertStatus(r, 403, 404)
        self.assertStatus(self.depot.request("GET", "/npm/-/user/token/" + tok), 405, 404)
        self.assertStatus(self.depot.request("DELETE", "/npm/-/user/token/" + npm_tok), 401)
        # A secret sent where no route takes one, in the path and in the query.
        self.depot.request("GET", "/api/v1/tokens/" + tok, auth=alice.bearer)
        self.depot.request("GET", "/api/v1/tokens/x?token=" + tok, auth=alice.bearer)
        self.depot.request("DELETE", "/hex/api/keys/" + tok, auth=alice.bearer)
        self.depot.request("GET", "/nowhere/" + alice.jwt)
        # Done: npm logout ends the token named in the path, sent with itself and with another.
        self.assertStatus(self.depot.request("DELETE", "/npm/-/user/token/" + npm_tok,
                                             auth=bearer(npm_tok)), 200)
        self.assertStatus(self.depot.request("DELETE", "/npm/-/user/token/" + tok,
                                             auth=alice.bearer), 200)
        self.depot.wait_for_log(lambda e: "/nowhere/" in str(e.get("path", "")) and
                                "status" in e, timeout=3)
        time.sleep(0.3)  # the access log line of the last request is written after its answer
        lines, audit = self.logged()
        self.assertTrue(any("/npm/-/user/token/[redacted]" in ln for ln in lines),
                        "the logout's path is logged, redacted")
        if not self.depot.store_url:  # the audit log is read from the SQLite file
            self.assertTrue(any("auth.forbidden DELETE /npm/-/user/token/[redacted]" in ln
                                for ln in audit), "the refused logout is audited, redacted")
        for where, got in (("log", lines), ("audit log", audit)):
            for ln in got:
                for sec in secrets:
                    self.assertNotIn(sec, ln, "a secret in the %s: %s" % (where, ln))
                self.assertIsNone(SECRET.search(ln), "a credential in the %s: %s" % (where, ln))
