"""The HTTP layer: unknown routes, wrong methods, size limits (body, URL, headers), content
types, request ids, the access log, timeouts and CORS."""

import json
import time

from apitest import DepotTestCase

REG = "/api/v1/auth/register"


class Routing(DepotTestCase):

    def test_unknown_route_is_404_json(self):
        for path in ("/api/v1/nope", "/api/nope", "/nope", "/api/v1/tokens/a/b/c", "/api/v2/me"):
            with self.subTest(path=path):
                err = self.assertError(self.depot.get(path), 404)
                self.assertTrue(err["message"])

    def test_404_message_names_the_route(self):
        err = self.assertError(self.depot.get("/api/v1/nope"), 404)
        self.assertIn("/api/v1/nope", err["message"])

    def test_wrong_method_is_405_with_allow(self):
        for method, path, allowed in (("GET", REG, {"POST"}),
                                      ("DELETE", "/api/v1/auth/login", {"POST"}),
                                      ("PUT", "/api/v1/tokens", {"GET", "POST"}),
                                      ("POST", "/api/v1/me", {"GET"}),
                                      ("POST", "/health", {"GET"}),
                                      ("PATCH", "/api/v1/tokens/x", {"GET", "DELETE"})):
            with self.subTest(method=method, path=path):
                r = self.depot.request(method, path, auth=self.admin.bearer)
                self.assertError(r, 405)
                allow = {m.strip().upper() for m in r.headers.get("Allow", "").split(",")}
                self.assertTrue(allowed <= allow, "Allow %r should list %s"
                                % (r.headers.get("Allow"), sorted(allowed)))
                self.assertNotIn(method, allow)

    def test_405_under_api_alias(self):
        r = self.depot.request("GET", "/api/auth/register")
        self.assertError(r, 405)
        self.assertIn("POST", r.headers.get("Allow", ""))

    def test_non_json_content_type_is_415(self):
        for ct in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
            with self.subTest(content_type=ct):
                r = self.depot.post("/api/v1/auth/login",
                                    body=json.dumps({"username": "x", "password": "y"}),
                                    headers={"Content-Type": ct})
                self.assertError(r, 415)
        r = self.depot.post("/api/v1/tokens", body=json.dumps({"name": "x", "scopes": ["read"]}),
                            headers={"Content-Type": "text/plain"}, auth=self.admin.bearer)
        self.assertError(r, 415)

    def test_request_id_is_echoed(self):
        r = self.depot.get("/health", headers={"X-Request-Id": "test-abc-123"})
        self.assertEqual(r.headers.get("X-Request-Id"), "test-abc-123")
        r = self.depot.get("/api/v1/nope", headers={"X-Request-Id": "err-req-42"})
        self.assertError(r, 404)
        self.assertEqual(r.headers.get("X-Request-Id"), "err-req-42")

    def test_request_id_is_generated_and_unique(self):
        ids = set()
        for path in ("/health", "/health", "/api/v1/me", "/api/v1/nope"):
            r = self.depot.get(path)
            rid = r.headers.get("X-Request-Id")
            self.assertTrue(rid, "no X-Request-Id on " + r.describe())
            ids.add(rid)
        self.assertEqual(len(ids), 4, "generated request ids should be unique: %s" % ids)

    def test_insane_request_id_is_replaced(self):
        for bad in ("x" * 1000, "has space", "semi;colon<script>"):
            with self.subTest(request_id=bad[:20]):
                r = self.depot.get("/health", headers={"X-Request-Id": bad})
                rid = r.headers.get("X-Request-Id")
                self.assertTrue(rid)
                self.assertNotEqual(rid, bad)

    def test_access_log_line_per_request(self):
        rid = "acc-" + self.uniq("log")
        self.assertJSON(self.depot.get("/api/v1/me", auth=self.admin.bearer,
                                       headers={"X-Request-Id": rid}))
        e = self.depot.wait_for_log(lambda e: e.get("request_id") == rid and "status" in e)
        self.assertIsNotNone(e, "no access-log line with request_id=%s; stderr tail:\n%s"
                             % (rid, self.depot.stderr_tail(10)))
        self.assertEqual(e.get("method"), "GET")
        self.assertEqual(e.get("path"), "/api/v1/me")
        self.assertEqual(str(e.get("status")), "200")
        self.assertEqual(e.get("user"), self.admin.username)
        self.assertRegex(str(e.get("bytes")), r"^\d+$")
        self.assertRegex(str(e.get("duration_ms")), r"^\d+(\.\d+)?$")

    def test_access_log_for_errors_and_anonymous(self):
        rid = "acc-" + self.uniq("anon")
        self.depot.get("/api/v1/nope", headers={"X-Request-Id": rid})
        e = self.depot.wait_for_log(lambda e: e.get("request_id") == rid and "status" in e)
        self.assertIsNotNone(e, "no access-log line for a 404")
        self.assertEqual(str(e.get("status")), "404")
        self.assertIn(e.get("user"), ("", "-", None), "anonymous user field: %r" % e.get("user"))

    def test_log_never_holds_secrets(self):
        u = self.new_user()
        secret, _ = self.make_token(u.bearer, ["read"])
        self.depot.get("/api/v1/me", auth="Bearer " + secret)
        self.depot.get("/api/v1/me", auth=u.basic)
        time.sleep(0.2)
        log = "".join(self.depot.stderr_lines())
        self.assertNotIn(secret, log)
        self.assertNotIn(u.password, log)
        self.assertNotIn(u.jwt, log)

    def test_keep_alive_serves_several_requests(self):
        with self.depot.session() as s:
            for _ in range(3):
                self.assertJSON(s.request("GET", "/health"))
            self.assertJSON(s.request("GET", "/api/v1/me",
                                      headers={"Authorization": self.admin.bearer}))


class DefaultLimits(DepotTestCase):
    """The default --max-url (8192) and --max-headers (16384)."""

    def test_overlong_url_is_414(self):
        r = self.depot.raw(b"GET /api/v1/" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: close\r\n\r\n")
        self.assertError(r, 414)

    def test_overlong_query_is_414(self):
        r = self.depot.raw(b"GET /health?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: close\r\n\r\n")
        self.assertError(r, 414)

    def test_long_url_under_the_limit_is_routed(self):
        r = self.depot.raw(b"GET /api/v1/" + b"a" * 7000 + b" HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: close\r\n\r\n")
        self.assertError(r, 404)

    def test_oversized_headers_are_431(self):
        r = self.depot.raw(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 20000
                           + b"\r\nConnection: close\r\n\r\n")
        self.assertError(r, 431)

    def test_many_headers_over_the_limit_are_431(self):
        pad = b"".join(b"X-Pad-%d: %s\r\n" % (i, b"b" * 200) for i in range(100))
        r = self.depot.raw(b"GET /health HTTP/1.1\r\nHost: x\r\n" + pad
                           + b"Connection: close\r\n\r\n")
        self.assertError(r, 431)

    def test_headers_under_the_limit_are_fine(self):
        r = self.depot.raw(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 8000
                           + b"\r\nConnection: close\r\n\r\n")
        self.assertStatus(r, 200)

    def test_default_body_limit_is_1_mib(self):
        pad = "p" * (1024 * 1024 + 100)
        body = json.dumps({"username": "big", "email": "big@example.com",
                           "password": "correct horse", "pad": pad}).encode()
        with self.depot.raw_conn() as c:
            c.send(b"POST " + REG.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Type: application/json\r\nContent-Length: %d\r\n"
                   b"Connection: close\r\n\r\n" % len(body))
            c.send(body)
            r = c.read_response()
        if r is not None:
            self.depot.responses.append(r)
        self.assertError(r, 413)


class SmallLimits(DepotTestCase):
    depot_args = ("--max-body", "1024", "--max-url", "600", "--max-headers", "2048")

    def big_body(self, size=2000):
        """A register body of exactly `size` bytes (a padding field makes up the rest)."""
        name = self.uniq("big")
        b = {"username": name, "email": name + "@example.com", "password": "correct horse",
             "pad": ""}
        b["pad"] = "p" * (size - len(json.dumps(b)))
        out = json.dumps(b).encode()
        assert len(out) == size, len(out)
        return out

    def post_raw(self, head, body_parts, delay=0.0):
        with self.depot.raw_conn() as c:
            c.send(head)
            for part in body_parts:
                if delay:
                    time.sleep(delay)
                if not c.send(part):
                    break
            r = c.read_response()
        if r is not None:
            r.method, r.path = "RAW", head.split(b"\r\n")[0].decode()
            self.depot.responses.append(r)
        return r

    def test_body_over_max_body_with_content_length_is_413(self):
        body = self.big_body()
        r = self.depot.post(REG, body=body, headers={"Content-Type": "application/json"})
        self.assertError(r, 413)

    def test_content_length_over_limit_is_413_before_the_body(self):
        # announce a big body and send none of it: the answer should not wait for it
        head = (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 5000000\r\n\r\n" % REG.encode())
        with self.depot.raw_conn(timeout=5) as c:
            c.send(head)
            r = c.read_response(timeout=5)
        if r is not None:
            self.depot.responses.append(r)
        self.assertError(r, 413)

    def test_body_over_max_body_chunked_is_413(self):
        body = self.big_body(3000)
        head = (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % REG.encode())
        parts = [b"%x\r\n%s\r\n" % (len(body[i:i + 500]), body[i:i + 500])
                 for i in range(0, len(body), 500)] + [b"0\r\n\r\n"]
        r = self.post_raw(head, parts, delay=0.02)
        self.assertError(r, 413)

    def test_chunked_body_under_the_limit_works(self):
        body = self.big_body(600)
        head = (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" % REG.encode())
        parts = [b"%x\r\n%s\r\n" % (len(body[i:i + 200]), body[i:i + 200])
                 for i in range(0, len(body), 200)] + [b"0\r\n\r\n"]
        r = self.post_raw(head, parts)
        self.assertStatus(r, 201)

    def test_body_at_the_limit_is_accepted(self):
        r = self.depot.post(REG, body=self.big_body(1024),
                            headers={"Content-Type": "application/json"})
        self.assertJSON(r, 201)
        r = self.depot.post(REG, body=self.big_body(1025),
                            headers={"Content-Type": "application/json"})
        self.assertError(r, 413)

    def test_url_over_max_url_is_414(self):
        r = self.depot.get("/api/v1/" + "a" * 700)
        self.assertError(r, 414)
        self.assertError(self.depot.get("/api/v1/" + "a" * 500), 404)

    def test_headers_over_max_headers_are_431(self):
        r = self.depot.raw(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 3000
                           + b"\r\nConnection: close\r\n\r\n")
        self.assertError(r, 431)
        self.assertStatus(self.depot.get("/health", headers={"X-Pad": "a" * 1000}), 200)

    def test_server_still_serves_after_limit_errors(self):
        self.depot.raw(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * 5000 + b"\r\n\r\n")
        self.depot.post(REG, body=self.big_body(), headers={"Content-Type": "application/json"})
        self.assertJSON(self.depot.get("/health"))


class Timeouts(DepotTestCase):
    depot_args = ("--request-timeout", "1", "--connection-timeout", "2")

    def test_slow_body_is_cut_off(self):
        # docs/api.md: a body slower than --request-timeout has its connection closed
        # (libmicrohttpd 0.9.75 cannot queue a response while a body is arriving).
        body = json.dumps({"username": self.uniq("slow"), "email": "slow@example.com",
                           "password": "correct horse"}).encode()
        with self.depot.raw_conn(timeout=10) as c:
            c.send(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\n\r\n" % (REG.encode(), len(body)))
            c.send(body[:10])
            time.sleep(1.2)
            try:
                c.send(body[10:20])  # still trickling
            except OSError:
                pass
            closed = c.wait_closed(timeout=6)
        self.assertTrue(closed, "a request slower than --request-timeout should be cut off")
        # Nothing was created by the half-sent request.
        self.assertStatus(self.depot.get("/health"), 200)

    def test_idle_connection_is_closed(self):
        t0 = time.monotonic()
        with self.depot.raw_conn(timeout=10) as c:
            closed = c.wait_closed(timeout=6)
        self.assertTrue(closed, "an idle connection should be closed after "
                        "--connection-timeout 2")
        self.assertGreater(time.monotonic() - t0, 1.0)

    def test_normal_requests_are_unaffected(self):
        self.assertJSON(self.depot.get("/health"))


class Cors(DepotTestCase):
    depot_args = ("--cors-origins", "https://a.example,https://b.example")

    def test_allowed_origin_is_echoed(self):
        r = self.depot.get("/health", headers={"Origin": "https://b.example"})
        self.assertStatus(r, 200)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), "https://b.example")

    def test_other_origin_gets_no_cors_header(self):
        r = self.depot.get("/health", headers={"Origin": "https://evil.example"})
        self.assertStatus(r, 200)
        self.assertIsNone(r.headers.get("Access-Control-Allow-Origin"))

    def test_preflight(self):
        r = self.depot.request("OPTIONS", "/api/v1/tokens",
                               headers={"Origin": "https://a.example",
                                        "Access-Control-Request-Method": "POST",
                                        "Access-Control-Request-Headers": "authorization, "
                                                                          "content-type"})
        self.assertStatus(r, 200, 204)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), "https://a.example")
        self.assertIn("POST", r.headers.get("Access-Control-Allow-Methods", "").upper())
        self.assertIn("authorization",
                      r.headers.get("Access-Control-Allow-Headers", "").lower())



class HostileInput(DepotTestCase):
    """Input meant to break a C server or its SQL: refused cleanly, never a 500 or a crash."""

    def test_sql_in_fields(self):
        for name in ("x' OR '1'='1", "a\"; DROP TABLE users; --", "admin'--"):
            with self.subTest(username=name):
                self.assertError(self.depot.register(name, "q@example.com", "correct horse"),
                                 422)
                r = self.depot.login(name, "correct horse")
                self.assertError(r, 401)
                r = self.depot.login("' OR 1=1 --", "x' OR '1'='1")
                self.assertError(r, 401)
        self.assertError(self.depot.create_token(self.admin.bearer, "a'b", ["read"]), 422)

    def test_nul_bytes_in_strings(self):
        name = self.uniq("nul")
        r = self.depot.register(name + "\u0000x", name + "@example.com", "correct horse")
        self.assertError(r, (400, 422))
        r = self.depot.register(name, name + "@example.com\u0000.evil", "correct horse")
        self.assertError(r, (400, 422))
        # a password with a NUL must be refused or kept whole: never cut at the NUL
        r = self.depot.register(name, name + "@example.com", "abcdefgh\u0000ijklmnop")
        self.assertStatus(r, 201, 400, 422)
        if r.status == 201:
            self.assertError(self.depot.login(name, "abcdefgh"), 401)
            self.assertJSON(self.depot.login(name, "abcdefgh\u0000ijklmnop"))
        self.assertError(self.depot.login("ab\u0000cd", "correct horse"), (400, 401))

    def test_invalid_utf8_in_a_string_is_400(self):
        body = b'{"username":"ab\xc3\x28cd","email":"u@example.com","password":"correct horse"}'
        r = self.depot.post("/api/v1/auth/register", body=body,
                            headers={"Content-Type": "application/json"})
        self.assertError(r, (400, 422))

    def test_deep_nesting_is_400(self):
        for body in (b"[" * 20000 + b"]" * 20000, b'{"a":' * 5000 + b"1" + b"}" * 5000):
            r = self.depot.post("/api/v1/auth/login", body=body,
                                headers={"Content-Type": "application/json"})
            self.assertError(r, 400)

    def test_huge_values_within_the_body_limit(self):
        r = self.depot.register("u" * 200000, "v@example.com", "correct horse")
        self.assertError(r, 422)
        r = self.depot.login("u" * 200000, "p" * 200000)
        self.assertError(r, (401, 422))

    def test_odd_token_paths_are_404(self):
        for path in ("/api/v1/tokens/%27%3B--", "/api/v1/tokens/..%2F..%2Fetc%2Fpasswd",
                     "/api/v1/tokens/a%2Fb", "/api/v1/tokens/%00", "/api/v1/tokens/%zz"):
            with self.subTest(path=path):
                self.assertError(self.depot.get(path, auth=self.admin.bearer), (400, 404))

    def test_huge_authorization_header_is_401(self):
        self.assertError(self.depot.get("/api/v1/me", auth="Bearer " + "a" * 10000), 401)
        self.assertError(self.depot.get("/api/v1/me", auth="Basic " + "QUFB" * 2500), 401)

    def test_still_healthy_afterwards(self):
        self.assertJSON(self.depot.get("/health"))


class ProtocolErrors(DepotTestCase):
    """Broken HTTP framing. The HTTP library answers these itself, so only the status and the
    server's health are checked here (not the JSON error shape)."""

    def raw_status(self, data):
        with self.depot.raw_conn(timeout=5) as c:
            c.send(data)
            try:
                r = c.read_response(timeout=5)
            except ValueError:
                return "garbled"
        return r.status if r else None

    def test_bad_request_lines_and_framing(self):
        for data, ok in ((b"GARBAGE\r\n\r\n", (400, None)),
                         (b"GET /health HTTP/9.9\r\nHost: x\r\n\r\n", (400, 505, None)),
                         (b"GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                          (400, None)),
                         (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                          b"Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
                          b"zz\r\n", (400, None))):
            with self.subTest(data=data[:40]):
                self.assertIn(self.raw_status(data), ok)
        self.assertJSON(self.depot.get("/health"))

    def test_http_1_0_and_missing_host(self):
        for data in (b"GET /health HTTP/1.0\r\n\r\n", b"GET /health HTTP/1.1\r\n\r\n"):
            with self.subTest(data=data[:30]):
                self.assertIn(self.raw_status(data), (200, 400))


class JsonLog(DepotTestCase):
    log_format = "json"

    def test_every_line_is_json_and_access_lines_have_the_fields(self):
        rid = "json-" + self.uniq("log")
        self.assertJSON(self.depot.get("/api/v1/me", auth=self.admin.bearer,
                                       headers={"X-Request-Id": rid}))
        e = self.depot.wait_for_log(lambda e: e.get("request_id") == rid and "status" in e)
        self.assertIsNotNone(e, "no JSON access-log line for request_id=" + rid)
        for k in ("ts", "level", "msg", "method", "path", "status", "bytes", "duration_ms",
                  "user"):
            self.assertIn(k, e)
        self.assertEqual(e["path"], "/api/v1/me")
        self.assertEqual(str(e["status"]), "200")
        self.assertEqual(e["user"], self.admin.username)
        for ln in self.depot.stderr_lines():
            json.loads(ln)
