"""Hostile requests other than archives, one case each: malformed and hostile JSON on every
front's JSON routes, hostile Erlang terms on Hex's, hostile pubspec.yaml (aliases, nesting,
duplicate keys, tags ...), look-alike and invalid package names, malformed HTTP on raw sockets
(duplicate Content-Length, Content-Length with Transfer-Encoding, bad chunk sizes, oversized
headers and URLs), path traversal in docs URLs, open redirects through the login form's next=,
CSRF on every dashboard form, and XSS payloads that must stay inert on the dashboard's pages."""

import json
import re
import struct
import urllib.parse

from apitest import bearer
from native.nativetest import manifest, targz
from pub.dartpub import pub_archive
from security.sectest import (HEX_PKG, NATIVE_PKG, NPM_PKG, PUB_PKG, VERSION, Case,
                              HostileTestCase, add_cases)
from security.test_hostile_archives import pub_publish

# ---- JSON ------------------------------------------------------------------------------------

JSON_BODIES = {
    "deep_nesting": b"[" * 100000 + b"]" * 100000,
    "deep_objects": b'{"a":' * 50000 + b"1" + b"}" * 50000,
    "huge_integer": b'{"name": 1' + b"0" * 5000 + b"}",
    "huge_exponent": b'{"name": 1e999999999}',
    "invalid_utf8": b'{"name": "\xff\xfe\xc3"}',
    "nul_in_string": b'{"name": "a\\u0000b", "password": "x\\u0000y"}',
    "not_an_object": b'["a", "b"]',
    "truncated": b'{"name": "abc", "scop',
    "empty": b"",
    "raw_nul": b'{"name": "a\x00b"}',
}


def json_routes(t):
    own = bearer(t.tok_full)
    mng = bearer(t.tok_manage)  # package settings and tokens are managing, not publishing
    return {
        "native_register": ("POST", "/api/v1/auth/register", None),
        "native_login": ("POST", "/api/v1/auth/login", None),
        "native_tokens": ("POST", "/api/v1/tokens", t.owner.bearer),
        "native_settings": ("PUT", "/api/v1/packages/%s/settings" % NATIVE_PKG, mng),
        "native_resolve": ("POST", "/api/v1/resolve", None),
        "npm_dist_tag": ("PUT", "/npm/-/package/%s/dist-tags/beta" % NPM_PKG, own),
        "npm_token_create": ("POST", "/npm/-/npm/v1/tokens", mng),
        "pub_options": ("PUT", "/pub/api/packages/%s/options" % PUB_PKG, mng),
        "hex_keys_json": ("POST", "/hex/api/keys", mng),
    }


def json_case(route, kind, body):
    def send(t):
        method, path, auth = json_routes(t)[route]
        h = {"Content-Type": "application/json"}
        if route.startswith("hex"):
            h["Accept"] = "application/vnd.hex+erlang"
        return t.depot.request(method, path, body=body, headers=h, auth=auth)
    return Case(route.split("_")[0], "json_%s_%s" % (route, kind), send, (400, 422))


# ---- Erlang terms ----------------------------------------------------------------------------

def etf_bin(b):
    return b"m" + struct.pack(">I", len(b)) + b


ETF_BODIES = {
    "deep_lists": b"\x83" + b"l\x00\x00\x00\x01" * 20000 + b"j" + b"j" * 20000,
    "huge_bignum": b"\x83o\x7f\xff\xff\xff\x00" + b"\x01" * 64,
    "compressed": b"\x83P\x00\x00\x00\x10x\x9c" + b"\x00" * 8,
    "improper_list": b"\x83t\x00\x00\x00\x01" + etf_bin(b"name") + b"l\x00\x00\x00\x01a\x01a\x02",
    "truncated": b"\x83t\x00\x00\x00\x02" + etf_bin(b"name"),
    "binary_length_overflow": b"\x83t\x00\x00\x00\x01" + etf_bin(b"name") + b"m\xff\xff\xff\xff",
    "trailing_bytes": b"\x83t\x00\x00\x00\x00" + b"junk",
    "no_version_byte": b"t\x00\x00\x00\x00",
    "map_count_overflow": b"\x83t\xff\xff\xff\xff",
    "non_binary_key": b"\x83t\x00\x00\x00\x01a\x01" + etf_bin(b"x"),
}


def etf_case(route, kind, body):
    paths = {"keys": ("POST", "/hex/api/keys"),
             "retire": ("POST", "/hex/api/packages/%s/releases/%s/retire" % (HEX_PKG, VERSION))}

    def send(t):
        method, path = paths[route]
        return t.depot.request(method, path, body=body, headers={
            "Content-Type": "application/vnd.hex+erlang", "Accept": "application/vnd.hex+erlang",
            "Authorization": t.tok_manage if route == "keys" else t.tok_full})
    return Case("hex", "etf_%s_%s" % (route, kind), send, (400, 422))


# ---- pubspec.yaml ----------------------------------------------------------------------------

LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    "%s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n" % ((chr(98 + i),) * 2 + (chr(97 + i),) * 8)
    for i in range(8))
PUBSPECS = {
    "billion_laughs": "name: %s\nversion: 2.0.0\n" % PUB_PKG + LAUGHS,
    "alias": "name: &n %s\nversion: 2.0.0\ndescription: *n\n" % PUB_PKG,
    "deep_nesting": "name: %s\nversion: 2.0.0\nx: %s%s\n" % (PUB_PKG, "[" * 5000, "]" * 5000),
    "duplicate_keys": "name: %s\nversion: 2.0.0\nversion: 3.0.0\n" % PUB_PKG,
    "unknown_tag": "name: %s\nversion: 2.0.0\nx: !!python/object:os.system ls\n" % PUB_PKG,
    "non_string_key": "name: %s\nversion: 2.0.0\n? [a, b]\n: c\n" % PUB_PKG,
    "two_documents": "name: %s\nversion: 2.0.0\n---\nname: other\n" % PUB_PKG,
    "huge_integer_version": "name: %s\nversion: %s\n" % (PUB_PKG, "9" * 400),
    "invalid_utf8": b"name: " + PUB_PKG.encode() + b"\nversion: 2.0.0\ndescription: \xff\xfe\n",
    "nul_byte": "name: %s\nversion: 2.0.0\ndescription: a\x00b\n" % PUB_PKG,
    "name_lookalike_case": "name: Sec_pub\nversion: 2.0.0\n",
    "name_confusable": "name: s\u0435c_pub\nversion: 2.0.0\n",
    "name_reserved_word": "name: class\nversion: 2.0.0\n",
}


def pub_case(kind, text):
    data = text if isinstance(text, bytes) else text.encode()
    archive = pub_archive({"pubspec.yaml": data, "lib/a.dart": b"void main() {}"})
    return Case("pub", "pubspec_" + kind, lambda t: pub_publish(t, archive), (400,))


# ---- names -----------------------------------------------------------------------------------

def native_name_case(kind, name, want=(400, 409, 422)):
    def send(t):
        return t.depot.publish(targz({"a.txt": "a"}), metadata=manifest(name, "1.0.0"),
                               auth=bearer(t.tok_full))
    return Case("native", "name_" + kind, send, want)


def npm_name_case(kind, name, want=(400, 404, 422)):
    from npm.npmtest import publish_doc

    def send(t):
        return t.depot.request("PUT", "/npm/" + urllib.parse.quote(name, safe="@"),
                               json=publish_doc(name, "1.0.0"), auth=bearer(t.tok_full))
    return Case("npm", "name_" + kind, send, want)


def hex_name_case(kind, name):
    from hex.hextest import hex_tarball

    def send(t):
        return t.depot.request("POST", "/hex/api/publish", body=hex_tarball(name, "1.0.0"),
                               headers={"Authorization": t.tok_full,
                                        "Content-Type": "application/octet-stream",
                                        "Accept": "application/vnd.hex+erlang"})
    return Case("hex", "name_" + kind, send, (400, 422))


# ---- raw HTTP --------------------------------------------------------------------------------

def raw_case(name, data, want=(400,)):
    """Errors of the HTTP syntax itself (chunk sizes, malformed header lines) are answered by
    libmicrohttpd before depot sees a request: its own small HTML body, no X-Request-Id. Those
    answers are kept out of the JSON invariants; the status and the server's health count."""
    def send(t):
        r = t.depot.raw(data.encode("latin-1"))
        if r is not None and not r.headers.get("X-Request-Id"):
            t.depot.responses.remove(r)
        return r
    return Case("http", name, send, want)


POST = "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
RAW = {
    "duplicate_content_length": (POST + "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", (400,)),
    "content_length_and_chunked": (POST + "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   "2\r\n{}\r\n0\r\n\r\n", (400,)),
    "bad_chunk_size": (POST + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", (400,)),
    "chunk_size_overflow": (POST + "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n{}"
                            "\r\n0\r\n\r\n", (400, 413)),
    "negative_content_length": (POST + "Content-Length: -5\r\n\r\n{}", (400,)),
    "header_without_colon": ("GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", (400,)),
    "space_before_colon": ("GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization : Bearer x\r\n\r\n",
                           (400, 401)),
    "oversized_header": ("GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nX-Big: " + "a" * 40000
                         + "\r\n\r\n", (431,)),
    "many_headers": ("GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n" + "".join(
        "X-H%d: v\r\n" % i for i in range(3000)) + "\r\n", (431,)),
    "oversized_url": ("GET /api/v1/packages/" + "a" * 20000 + " HTTP/1.1\r\nHost: x\r\n\r\n",
                      (414,)),
    "nul_in_path": ("GET /api/v1/packages/a%00b HTTP/1.1\r\nHost: x\r\n\r\n", (400, 404)),
}


# ---- docs traversal --------------------------------------------------------------------------

DOCS_PATHS = {
    "dotdot": "/docs/native/%s/%s/../../../../etc/passwd",
    "dotdot_encoded": "/docs/native/%s/%s/%%2e%%2e/%%2e%%2e/%%2e%%2e/etc/passwd",
    "dotdot_encoded_slash": "/docs/native/%s/%s/..%%2f..%%2f..%%2fetc%%2fpasswd",
    "dotdot_backslash": "/docs/native/%s/%s/..%%5c..%%5c..%%5cetc%%5cpasswd",
    "double_encoded": "/docs/native/%s/%s/%%252e%%252e/%%252e%%252e/etc/passwd",
    "nul_byte": "/docs/native/%s/%s/index.html%%00.png",
    "dot_segment": "/docs/native/%s/%s/./index.html",
    "absolute_inside": "/docs/native/%s/%s//abs/passwd",
    "version_dotdot": "/docs/native/%s/../../../etc/passwd%s",
    "ecosystem_dotdot": "/docs/..%%2f..%%2fetc/%s/%s/passwd",
    "unknown_ecosystem": "/docs/../%s/%s/index.html",
}


def docs_case(kind, pattern):
    def send(t):
        return t.depot.get(pattern % (NATIVE_PKG, VERSION))

    def check(t, r):
        t.assertNotIn(b"root:", r.body)
        t.assertIn("sandbox", r.headers.get("Content-Security-Policy") or "sandbox",
                   "a /docs answer without its sandbox CSP")
    return Case("docs", "traversal_" + kind, send, (400, 404), check=check)


# ---- the dashboard: open redirects, CSRF on every form, XSS ------------------------------------

NEXTS = {
    "scheme_relative": "//evil.example/x",
    "absolute_url": "https://evil.example/x",
    "backslash": "/\\evil.example",
    "javascript": "javascript:alert(1)",
    "encoded_slashes": "/%2F%2Fevil.example",
    "tab_in_host": "/\t/evil.example",
    "userinfo": "https://depot@evil.example",
    "crlf_header": "/account\r\nSet-Cookie: x=1",
}


def redirect_case(kind, nxt):
    def send(t):
        page = t.depot.get("/login?next=" + urllib.parse.quote(nxt), headers={"Accept":
                                                                              "text/html"})
        t.assertIsNone(re.search(r'name="next" value="(//|/\\|[a-z]+:)', page.text),
                       "the login form carries next=%r as it is" % nxt)
        cookie = "; ".join(c.split(";")[0] for c in page.headers.get_all("Set-Cookie"))
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        body = urllib.parse.urlencode({"login": t.owner.username, "password": t.owner.password,
                                       "next": nxt, "csrf": csrf})
        return t.depot.request("POST", "/login", body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
            "Accept": "text/html"})

    def check(t, r):
        loc = r.headers.get("Location") or ""
        t.assertTrue(loc.startswith("/") and not loc.startswith(("//", "/\\")) and
                     "\r" not in loc and "\n" not in loc and "://" not in loc,
                     "login next=%r redirected to %r" % (nxt, loc))
    return Case("web", "open_redirect_" + kind, send, (303,), unchanged=False, check=check)


FORMS = {
    "token_create": ("/account/token-create", {"name": "csrf-x", "scope": "read"}),
    "token_revoke": ("/account/token-revoke", {"name": "whatever"}),
    "key_add": ("/account/key-add", {"name": "k", "public_key": "AAAA"}),
    "key_delete": ("/account/key-delete", {"key_id": "00"}),
    "password": ("/account/password", {"current": "x", "password": "new-password-123"}),
    "admin_disable": ("/admin/user", {"action": "disable", "user": "nobody"}),
    "native_yank": ("/packages/native/%s/action" % NATIVE_PKG, {"action": "yank",
                                                                "version": VERSION}),
    "native_owner_add": ("/packages/native/%s/action" % NATIVE_PKG, {"action": "owner-add",
                                                                     "user": "nobody"}),
    "hex_retire": ("/packages/hex/%s/action" % HEX_PKG, {"action": "retire", "version": VERSION,
                                                         "reason": "other"}),
    "npm_deprecate": ("/packages/npm/%s/action" % NPM_PKG, {"action": "deprecate",
                                                            "version": VERSION,
                                                            "message": "x"}),
    "pub_retract": ("/packages/pub/%s/action" % PUB_PKG, {"action": "retract",
                                                          "version": VERSION}),
    "pub_discontinue": ("/packages/pub/%s/action" % PUB_PKG, {"action": "discontinue"}),
    "logout": ("/logout", {}),
}


def csrf_case(kind, path, form, how):
    def send(t):
        body = dict(form)
        h = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html",
             "Cookie": "depot_session=" + t.admin.jwt}
        if how == "wrong_token":
            body["csrf"] = "AAAA" + "B" * 40
        return t.depot.request("POST", path, body=urllib.parse.urlencode(body), headers=h)
    return Case("web", "csrf_%s_%s" % (how, kind), send, (403,))


XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
XSS_PKG = "xss-pkg"


def xss_case(name, path, marker):
    def check(t, r):
        t.assertNotIn("<script>alert(1)", r.text, "unescaped payload on " + path)
        t.assertNotIn("<img src=x onerror", r.text, "unescaped payload on " + path)
        t.assertIn(marker, r.text, "the escaped payload is not on " + path)
        t.assertTrue(r.headers.get("Content-Security-Policy"), "no CSP header on " + path)
    return Case("web", "xss_" + name, lambda t: t.depot.get(path, headers={"Accept": "text/html"}),
                (200,), unchanged=False, check=check)


def cases():
    out = []
    for route in ("native_register", "native_login", "native_tokens", "native_settings",
                  "native_resolve", "npm_dist_tag", "npm_token_create", "pub_options",
                  "hex_keys_json"):
        for kind, body in JSON_BODIES.items():
            out.append(json_case(route, kind, body))
    for route in ("keys", "retire"):
        for kind, body in ETF_BODIES.items():
            out.append(etf_case(route, kind, body))
    for kind, text in PUBSPECS.items():
        out.append(pub_case(kind, text))
    out += [native_name_case("case", "Sec-Native"), native_name_case("underscore", "sec_native"),
            native_name_case("confusable", "s\u0435c-native"),
            native_name_case("nul", "sec\u0000native"), native_name_case("too_long", "a" * 65),
            native_name_case("slash", "sec/native"), native_name_case("dotdot", ".."),
            npm_name_case("upper_case", "SEC-NPM"), npm_name_case("confusable", "s\u0435c-npm"),
            npm_name_case("leading_dot", ".sec-npm"), npm_name_case("too_long", "a" * 215),
            hex_name_case("upper_case", "Sec_hex"), hex_name_case("confusable", "s\u0435c_hex"),
            hex_name_case("dash", "sec-hex"),
            Case("native", "homepage_javascript_url", lambda t: t.depot.publish(
                targz({"a.txt": "a"}), metadata=manifest("js-home", "1.0.0",
                                                         homepage="javascript:alert(4)"),
                auth=bearer(t.tok_full)), (422,))]
    for kind, (data, want) in RAW.items():
        out.append(raw_case(kind, data, want))
    for kind, pattern in DOCS_PATHS.items():
        out.append(docs_case(kind, pattern))
    for kind, nxt in NEXTS.items():
        out.append(redirect_case(kind, nxt))
    for kind, (path, form) in FORMS.items():
        for how in ("no_token", "wrong_token"):
            out.append(csrf_case(kind, path, form, how))
    esc = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for name, path in (("package_page", "/packages/native/" + XSS_PKG),
                       ("search_page", "/search?q=" + urllib.parse.quote(XSS)),
                       ("npm_package_page", "/packages/npm/" + XSS_PKG)):
        out.append(xss_case(name, path, esc))
    out.append(xss_case("home_page", "/", XSS_PKG))
    out.append(xss_case("versions_page", "/packages/native/%s/versions" % XSS_PKG, XSS_PKG))
    out.append(xss_case("login_next", "/login?next=" + urllib.parse.quote('"><script>alert(1)'
                                                                          '</script>'), "csrf"))
    return out


class HostileInputs(HostileTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        from npm.npmtest import publish_doc
        d, own = cls.depot, bearer(cls.tok_full)
        r = d.publish(targz({"README.md": "# hi\n\n" + XSS + "\n\n[x](javascript:alert(3))\n"}),
                      metadata=manifest(XSS_PKG, "1.0.0", description=XSS, readme="README.md"),
                      auth=own)
        assert r.status == 201, r.describe()
        doc = publish_doc(XSS_PKG, "1.0.0", pkg={"description": XSS, "keywords": [XSS]},
                          readme=XSS)
        r = d.request("PUT", "/npm/" + XSS_PKG, json=doc, auth=own)
        assert r.status == 201, r.describe()


COUNT = add_cases(HostileInputs, cases())
