"""The process: restart keeps state, SIGTERM drains in-flight requests, SIGINT, command-line
validation, `serve --help`, `migrate`, a taken port."""

import json
import os
import signal
import subprocess
import tempfile
import time

from apitest import DepotTestCase, depot_bin

REG = "/api/v1/auth/register"

SERVE_OPTIONS = ("--listen", "--data", "--base-url", "--store", "--config", "--log-format",
                 "--log-level", "--argon2-ops", "--argon2-mem", "--registration", "--private",
                 "--rate-limit", "--rate-auth", "--rate-auth-burst", "--rate-publish",
                 "--rate-publish-burst", "--rate-write", "--rate-write-burst", "--rate-search",
                 "--rate-search-burst", "--rate-read", "--rate-read-burst", "--login-failures",
                 "--login-lock", "--max-body", "--max-url", "--max-headers", "--jwt-ttl",
                 "--request-timeout", "--connection-timeout", "--cors-origins")


def run(args, timeout=10, **kw):
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEPOT_")}
    return subprocess.run([depot_bin()] + list(args), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, env=env, **kw)


class Restart(DepotTestCase):
    own_server = True  # it restarts the server

    def test_restart_keeps_users_tokens_and_revocations(self):
        u = self.new_user()
        secret, tname = self.make_token(u.bearer, ["read", "publish"])
        gone = self.depot.jwt(u.username, u.password)
        self.assertStatus(self.depot.post("/api/v1/auth/logout", auth="Bearer " + gone), 204)
        code = self.depot.restart()
        self.assertEqual(code, 0, "SIGTERM should exit 0")
        self.assertJSON(self.depot.login(u.username, u.password))
        me = self.assertJSON(self.depot.get("/api/v1/me", auth="Bearer " + secret))
        self.assertEqual(me["username"], u.username)
        names = [t["name"] for t in self.assertJSON(self.depot.get("/api/v1/tokens",
                                                                   auth=u.basic))["tokens"]]
        self.assertIn(tname, names)
        self.assertError(self.depot.get("/api/v1/me", auth="Bearer " + gone), 401)
        admin_me = self.assertJSON(self.depot.get("/api/v1/me", auth=self.admin.basic))
        self.assertIs(admin_me["is_admin"], True)
        # a taken name is still taken
        self.assertError(self.depot.register(u.username, "x" + u.email, "correct horse"), 409)

    def test_jwt_survives_restart(self):
        u = self.new_user()
        self.depot.restart()
        me = self.assertJSON(self.depot.get("/api/v1/me", auth=u.bearer))
        self.assertEqual(me["username"], u.username)


class Signals(DepotTestCase):
    start_server = False

    def test_sigterm_waits_for_a_half_sent_request(self):
        d = self.make_depot()
        name = self.uniq("term")
        body = json.dumps({"username": name, "email": name + "@example.com",
                           "password": "correct horse"}).encode()
        half = len(body) // 2
        c = d.raw_conn(timeout=15)
        try:
            c.send(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\n\r\n" % (REG.encode(), len(body)))
            c.send(body[:half])
            time.sleep(0.3)
            d.send_signal(signal.SIGTERM)
            time.sleep(0.8)
            self.assertTrue(d.alive(), "depot exited with a request in flight (exit %s)"
                            % d.proc.poll())
            # a new connection during the drain is refused or told 503, never served
            try:
                r = d.get("/health", timeout=3)
            except OSError:
                r = None
            if r is not None:
                self.assertError(r, 503)
            c.send(body[half:])
            r = c.read_response(timeout=10)
            if r is not None:
                r.method, r.path = "RAW", "POST " + REG + " (during SIGTERM)"
                d.responses.append(r)
            self.assertStatus(r, 201)
            self.assertEqual(r.json()["username"], name)
            code = d.wait(5)
            idle_wait = code is None
            if idle_wait:
                c.close()
                code = d.wait(5)
            self.assertEqual(code, 0, "exit status after SIGTERM")
            self.assertFalse(idle_wait, "depot waited for an idle keep-alive connection before "
                             "exiting (it exited only when the client closed it)")
        finally:
            c.close()
        # the request finished for real: the user exists after a restart
        d.start()
        self.assertJSON(d.login(name, "correct horse"))
        self.assertEqual(d.stop(), 0)

    def test_sigint_exits_0(self):
        d = self.make_depot()
        self.assertJSON(d.get("/health"))
        self.assertEqual(d.stop(signal.SIGINT), 0)

    def test_sigterm_when_idle_is_quick(self):
        d = self.make_depot()
        self.assertJSON(d.get("/health"))
        t0 = time.monotonic()
        self.assertEqual(d.stop(), 0)
        self.assertLess(time.monotonic() - t0, 3.0)


class CommandLine(DepotTestCase):

    def test_serve_help_lists_every_option(self):
        p = run(["serve", "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        text = p.stdout + p.stderr
        missing = [o for o in SERVE_OPTIONS if o not in text]
        self.assertEqual(missing, [], "serve --help does not mention these:\n" + text)

    def test_top_level_help_names_the_commands(self):
        p = run(["--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        text = p.stdout + p.stderr
        for cmd in ("serve", "user", "token", "migrate"):
            self.assertIn(cmd, text)

    def test_unknown_command_or_option_fails(self):
        for args in (["frobnicate"], ["serve", "--no-such-option"],
                     ["serve", "--registration", "maybe"], ["serve", "--jwt-ttl", "soon"],
                     ["serve", "--max-body", "-5"], ["serve", "--rate-limit", "sometimes"],
                     ["serve", "--log-format", "xml"]):
            with self.subTest(args=args):
                with tempfile.TemporaryDirectory() as tmp:
                    extra = ["--listen", "127.0.0.1:0", "--data", tmp] if args[0] == "serve" \
                        else []
                    try:
                        p = run(args + extra, timeout=5)
                    except subprocess.TimeoutExpired:
                        self.fail("depot %s did not exit (it should refuse the arguments)"
                                  % " ".join(args))
                    self.assertNotEqual(p.returncode, 0)
                    self.assertTrue(p.stderr.strip(), "a failure should say why on stderr")

    def test_taken_port_fails_cleanly(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEPOT_")}
        with tempfile.TemporaryDirectory() as tmp:
            p = subprocess.Popen([depot_bin(), "serve", "--listen",
                                  "127.0.0.1:%d" % self.depot.port, "--data", tmp,
                                  "--log-format", "text"], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            try:
                _, err = p.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                _, err = p.communicate()
                err = err.decode(errors="replace")
                self.fail("a second server on the port of a running one should fail at once; "
                          "it kept running%s:\n%s"
                          % (" and logged that it listens (SO_REUSEPORT?)"
                             if " listening " in err else "", err))
            self.assertNotEqual(p.returncode, 0)
            self.assertTrue(err.strip(), "the failure should say why on stderr")
        self.assertJSON(self.depot.get("/health"))

    def test_migrate_is_idempotent(self):
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(2):
                p = run(["migrate", "--data", tmp])
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        p = self.depot.cli("migrate")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertJSON(self.depot.login(self.admin.username, self.admin.password))
