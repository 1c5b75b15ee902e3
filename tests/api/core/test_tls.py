"""HTTPS served by depot itself (--tls-cert, --tls-key): a throwaway CA and server certificate are
made with the openssl command line in a temp dir for each class (no key is kept in the
repository). Over TLS: /health with curl and with Python's ssl (which must refuse the server
without the test CA), register and log in (the worker pool's suspended and resumed requests),
publish with curl (Expect: 100-continue, the early credential check) and with Python, download
the tarball again (file responses are read, not sent with sendfile, under TLS), Basic
credentials, HSTS and the Secure session cookie; a plain-HTTP request to the TLS port fails
cleanly and the server keeps serving; SIGTERM drains a half-sent request over TLS. The options
come from flags, DEPOT_TLS_CERT/DEPOT_TLS_KEY or the config file; a missing, malformed or
mismatched file, or only one of the two, stops the start with a sentence naming it. An https://
--base-url without TLS (a TLS-terminating proxy) also turns HSTS and Secure cookies on."""

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from apitest import DepotTestCase, Depot, RawConn, basic, bearer, depot_bin
from native.nativetest import PACKAGES, manifest, targz

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "browser"))
from webclient import WebClient  # noqa: E402

HSTS = "max-age=31536000"


def openssl(*args, cwd):
    p = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (" ".join(args), p.stderr))


def make_pki(d):
    """A CA, a server certificate for 127.0.0.1 signed by it, and a key that belongs to neither;
    returns a dict of their paths in d."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=depot throwaway test CA", cwd=d)
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1",
            cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d)
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
            "other.key", cwd=d)
    return {k: os.path.join(d, v) for k, v in (("ca", "ca.pem"), ("cert", "server.pem"),
                                                ("key", "server.key"), ("other_key", "other.key"),
                                                ("csr", "server.csr"))}


class TLSDepot(Depot):
    """A Depot spoken to over HTTPS, trusting only the test CA."""

    def __init__(self, cafile, **kw):
        super().__init__(**kw)
        self.cafile = cafile
        self.ctx = ssl.create_default_context(cafile=cafile)

    @property
    def url(self):
        return "https://%s:%d" % (self.host, self.port)

    def request(self, method, path, body=None, headers=None, json=None, timeout=15.0,
                auth=None):
        if auth is not None:
            headers = dict(headers or {})
            headers["Authorization"] = auth
        conn = http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.ctx)
        return self._do(conn, method, path, body, headers, json)

    def tls_raw_conn(self, timeout=10.0):
        c = RawConn(self.host, self.port, timeout)
        c.sock = self.ctx.wrap_socket(c.sock, server_hostname=self.host)
        return c

    def curl(self, *args):
        """curl trusting the test CA; returns the CompletedProcess (text)."""
        cmd = ["curl", "-sS", "--cacert", self.cafile, "--max-time", "30"] + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)


def needs_tools(cls):
    missing = [t for t in ("openssl", "curl") if not shutil.which(t)]
    if missing:
        return unittest.skip("needs %s (scripts/install-deps test)" % " and ".join(missing))(cls)
    return cls


class TLSBase(DepotTestCase):
    start_server = False

    @classmethod
    def setUpClass(cls):
        cls.pki_dir = tempfile.mkdtemp(prefix="depot-tls-")
        cls.pki = make_pki(cls.pki_dir)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.pki_dir, ignore_errors=True)

    @classmethod
    def make_depot(cls, start=True, tls=True, **kw):
        if not tls:
            return super().make_depot(start=start, **kw)
        d = TLSDepot(cls.pki["ca"], name=cls.__name__, **kw)
        cls._depots.append(d)
        if start:
            d.start()
        return d

    @classmethod
    def tls_args(cls):
        return ["--tls-cert", cls.pki["cert"], "--tls-key", cls.pki["key"]]


@needs_tools
class HTTPS(TLSBase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.depot = cls.make_depot(extra_args=cls.tls_args())
        cls.admin = cls.register_user(cls.depot, prefix="admin")

    def test_listening_line_and_base_url_say_https(self):
        line = self.depot.wait_for_log(lambda e: e.get("msg") == "listening")
        self.assertIsNotNone(line)
        self.assertEqual(line.get("tls"), "on", line)
        self.assertTrue(line["url"].startswith("https://"), line)
        self.assertTrue(line["base_url"].startswith("https://"), line)

    def test_health_with_curl_has_hsts(self):
        p = self.depot.curl("-D", "-", self.depot.url + "/health")
        self.assertEqual(p.returncode, 0, p.stderr)
        head, _, body = p.stdout.partition("\n\n")  # text mode turned CRLF into LF
        self.assertRegex(head, r"^HTTP/1\.1 200")
        self.assertIn("strict-transport-security: " + HSTS, head.lower())
        self.assertEqual(json.loads(body)["status"], "ok")

    def test_python_ssl_verifies_the_chain_and_refuses_without_the_ca(self):
        r = self.depot.get("/health")
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get("Strict-Transport-Security"), HSTS)
        # Without the test CA the certificate is not trusted: TLS is really in the way.
        conn = http.client.HTTPSConnection(self.depot.host, self.depot.port, timeout=10,
                                           context=ssl.create_default_context())
        with self.assertRaises(ssl.SSLCertVerificationError):
            conn.request("GET", "/health")
        conn.close()
        # TLS 1.2 and 1.3 only.
        ctx = ssl.create_default_context(cafile=self.pki["ca"])
        with socket.create_connection((self.depot.host, self.depot.port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname=self.depot.host) as t:
                self.assertIn(t.version(), ("TLSv1.2", "TLSv1.3"))

    def test_register_login_publish_and_download_natively(self):
        d = self.depot
        u = self.new_user()  # register and log in: both hash a password on the worker pool
        me = self.assertJSON(d.get("/api/v1/me", auth=u.bearer))
        self.assertEqual(me["username"], u.username)
        # Basic credentials also go through the worker pool (suspend, resume).
        self.assertEqual(self.assertJSON(d.get("/api/v1/me", auth=basic(u.username, u.password)))
                         ["username"], u.username)
        name = self.uniq("tls")
        # Incompressible, several MiB: many TLS records each way.
        big = os.urandom(3 << 20)
        tb = targz({"src/blob.bin": big, "src/main.txt": "hello\n"})
        r = d.publish(tb, metadata=manifest(name, "1.0.0"), auth=u.bearer)
        self.assertJSON(r, 201)
        r = d.get("%s/%s/1.0.0/download" % (PACKAGES, name))
        self.assertStatus(r, 200)
        self.assertEqual(len(r.body), len(tb))
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), hashlib.sha256(tb).hexdigest())
        # The same with curl, straight to a file.
        out = os.path.join(self.pki_dir, "dl-%s.tgz" % name)
        p = d.curl("-f", "-o", out, "%s%s/%s/1.0.0/download" % (d.url, PACKAGES, name))
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out, "rb") as f:
            self.assertEqual(f.read(), tb)

    def test_publish_with_curl_expect_100_continue(self):
        d = self.depot
        u = self.new_user()
        secret, _ = self.make_token(u.bearer, ["publish"])
        name = self.uniq("curl")
        tb = targz({"src/blob.bin": os.urandom(2 << 20)})
        path = os.path.join(self.pki_dir, "%s.tgz" % name)
        with open(path, "wb") as f:
            f.write(tb)
        meta = json.dumps(manifest(name, "1.0.0"))
        url = d.url + PACKAGES
        # A wrong key is answered before the body (curl sends Expect: 100-continue).
        p = d.curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect: 100-continue",
                   "-H", "Authorization: Bearer dpt_" + "x" * 43,
                   "-F", "tarball=@%s;type=application/gzip" % path,
                   "-F", "metadata=%s;type=application/json" % meta, url)
        self.assertEqual(p.stdout, "401", p.stderr)
        p = d.curl("-w", "\n%{http_code}", "-H", "Expect: 100-continue",
                   "-H", "Authorization: Bearer " + secret,
                   "-F", "tarball=@%s;type=application/gzip" % path,
                   "-F", "metadata=%s;type=application/json" % meta, url)
        body, _, code = p.stdout.rpartition("\n")
        self.assertEqual(code, "201", p.stdout[-400:] + p.stderr)
        self.assertEqual(json.loads(body)["sha256"], hashlib.sha256(tb).hexdigest())
        self.assertStatus(d.get("/health"), 200)

    def test_many_logins_at_once(self):
        u = self.new_user()
        results = []

        def one():
            try:
                results.append(self.depot.login(u.username, u.password).status)
            except OSError as e:  # noqa: PERF203
                results.append(repr(e))

        threads = [threading.Thread(target=one) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(results, [200] * 12)

    def test_session_cookie_is_secure(self):
        w = WebClient(self.depot)
        r = w.register(self.uniq("web"), "%s@example.com" % self.uniq("web"))
        self.assertEqual(r.status, 303, r.describe())
        lines = [c for c in w.set_cookie_lines if c.startswith("depot_session=")]
        self.assertTrue(lines, w.set_cookie_lines)
        self.assertIn("; Secure", lines[0])
        self.assertIn("HttpOnly", lines[0])
        for c in w.set_cookie_lines:
            self.assertIn("; Secure", c, "every cookie over HTTPS is Secure")
        self.assertEqual(w.get("/account").status, 200)

    def test_plain_http_to_the_tls_port_fails_cleanly(self):
        d = self.depot
        for _ in range(5):
            with RawConn(d.host, d.port, timeout=10) as c:
                c.send(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertTrue(c.wait_closed(10), "the server should close the connection")
                self.assertNotIn(b'"status":"ok"', c.buf, "plain HTTP must not be served")
        # A client that connects and sends nothing, or garbage, does not hurt either.
        with RawConn(d.host, d.port, timeout=10) as c:
            c.send(b"\x16\x03\x01\x00\x05hello")
        self.assertTrue(d.alive())
        self.assertStatus(d.get("/health"), 200)
        p = d.curl("-o", "/dev/null", "-w", "%{http_code}", d.url + "/health")
        self.assertEqual(p.stdout, "200", p.stderr)

    def test_plain_http_client_gets_no_answer(self):
        p = subprocess.run(["curl", "-sS", "--max-time", "10",
                            "http://%s:%d/health" % (self.depot.host, self.depot.port)],
                           capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn('"status"', p.stdout)
        self.assertStatus(self.depot.get("/health"), 200)


@needs_tools
class TLSStartAndStop(TLSBase):
    """Each test starts its own servers."""

    def start_fails(self, args, env=None):
        data = tempfile.mkdtemp(prefix="depot-tls-data-", dir=self.pki_dir)
        e = {k: v for k, v in os.environ.items() if not k.startswith("DEPOT_")}
        e.update(env or {})
        p = subprocess.run([depot_bin(), "serve", "--listen", "127.0.0.1:0", "--data", data,
                            "--argon2-ops", "1", "--argon2-mem", "8192"] + list(args),
                           capture_output=True, text=True, timeout=30, env=e,
                           stdin=subprocess.DEVNULL)
        self.assertNotEqual(p.returncode, 0, "depot should not start: %s" % p.stderr)
        self.assertNotIn("listening", p.stderr)
        return p.stderr

    def test_bad_key_or_cert_stops_the_start_with_a_clear_message(self):
        pki = self.pki
        err = self.start_fails(["--tls-cert", pki["cert"], "--tls-key", pki["other_key"]])
        self.assertIn("is not the key of the certificate", err)
        err = self.start_fails(["--tls-cert", pki["cert"], "--tls-key", pki["key"] + ".missing"])
        self.assertIn("--tls-key", err)
        self.assertIn("No such file", err)
        err = self.start_fails(["--tls-cert", pki["csr"], "--tls-key", pki["key"]])
        self.assertIn("--tls-cert", err)
        self.assertIn("no PEM certificate", err)
        err = self.start_fails(["--tls-cert", pki["cert"], "--tls-key", pki["cert"]])
        self.assertIn("no unencrypted PEM private key", err)
        err = self.start_fails(["--tls-cert", pki["cert"]])
        self.assertIn("--tls-cert and --tls-key go together", err)
        err = self.start_fails([], env={"DEPOT_TLS_KEY": pki["key"]})
        self.assertIn("--tls-cert and --tls-key go together", err)
        err = self.start_fails(self.tls_args() + ["--base-url", "http://registry.example.com"])
        self.assertIn("https://", err)

    def test_environment_and_config_file(self):
        d = self.make_depot(env={"DEPOT_TLS_CERT": self.pki["cert"],
                                 "DEPOT_TLS_KEY": self.pki["key"]})
        self.assertStatus(d.get("/health"), 200)
        d.stop()
        d = self.make_depot(config={"tls-cert": self.pki["cert"], "tls-key": self.pki["key"]})
        r = d.get("/health")
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get("Strict-Transport-Security"), HSTS)
        d.stop()

    def test_sigterm_drains_a_half_sent_request_over_tls(self):
        d = self.make_depot(extra_args=self.tls_args())
        name = self.uniq("term")
        body = json.dumps({"username": name, "email": name + "@example.com",
                           "password": "correct horse"}).encode()
        half = len(body) // 2
        c = d.tls_raw_conn(timeout=15)
        try:
            c.send(b"POST /api/v1/auth/register HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
            c.send(body[:half])
            time.sleep(0.3)
            d.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            self.assertTrue(d.alive(), "depot exited with a request in flight")
            c.send(body[half:])
            r = c.read_response(timeout=10)
            self.assertIsNotNone(r, "no answer to the request in flight")
            r.method, r.path = "RAW", "POST /api/v1/auth/register (during SIGTERM)"
            d.responses.append(r)
            self.assertEqual(r.status, 201, r.describe())
            self.assertEqual(r.headers.get("Connection", "").lower(), "close")
        finally:
            c.close()
        code = d.wait(10)
        self.assertEqual(code, 0, "exit status after SIGTERM")
        self.assertTrue(any("stopped" in ln for ln in d.stderr_lines()))


class ProxiedHTTPS(DepotTestCase):
    """Plain HTTP behind a TLS-terminating proxy: --base-url https://... turns on HSTS and Secure
    cookies; a plain server without it sends neither."""

    depot_args = ("--base-url", "https://registry.example.com")

    def test_hsts_and_secure_cookie_behind_a_proxy(self):
        r = self.depot.get("/health")
        self.assertEqual(r.headers.get("Strict-Transport-Security"), HSTS)
        w = WebClient(self.depot)
        r = w.register(self.uniq("px"), "%s@example.com" % self.uniq("px"))
        self.assertEqual(r.status, 303, r.describe())
        self.assertTrue(w.set_cookie_lines)
        for c in w.set_cookie_lines:
            self.assertIn("; Secure", c)

    def test_plain_server_sends_neither(self):
        d = self.make_depot()
        r = d.get("/health")
        self.assertStatus(r, 200)
        self.assertIsNone(r.headers.get("Strict-Transport-Security"))
        w = WebClient(d)
        r = w.register(self.uniq("pl"), "%s@example.com" % self.uniq("pl"))
        self.assertEqual(r.status, 303, r.describe())
        for c in w.set_cookie_lines:
            self.assertNotIn("Secure", c)
