"""The authorization matrix, generated from the binary's own route list (`depot routes --json`):
every route that writes (every method but GET and HEAD, and the GETs the table marks) × every
kind of credential that must be refused — none, a malformed header, an expired, revoked or
tampered token, a tampered JWT, a session cookie without its CSRF token, a read-only token, a
token narrowed to another package or another ecosystem, a non-owner, a disabled owner — must
answer 401 or 403 (or the front's own equivalent, listed in EXPECT with the reason) and leave
every stored document as it was. Two more kinds hold the permission model: the owner's whole
`publish` token on every route that manages a package or mints credentials (MANAGE: owners,
settings, whole-package removal, making tokens; publish never carries manage), and an admin who
is not an owner on every route that writes to a package (PACKAGE: admins are made owners like
anyone). The web dashboard's forms are walked the same way with the browser's credentials: a
session without the form's CSRF token, with a wrong one, with another session's, or from another
Origin is 403, and so is an admin's session on another's package.

Credential minting (MintingRules below): a token never makes a credential broader or longer-lived
than itself on any front, deletes only tokens it covers, and a token without a manage scope does
not even list its user's tokens.

A write route this file cannot build a request for is a failing test, as is an entry here for
a route the binary no longer has: the matrix grows with the router table or fails."""

import base64
import calendar
import os
import re
import time
import urllib.parse

from apitest import bearer, format_time
from hex.hextest import hex_tarball
from native.nativetest import manifest, targz
from npm.npmtest import publish_doc
from pub.dartpub import package as pub_package
from security.sectest import (DOCS, HEX_PKG, NATIVE_PKG, NPM_PKG, PUB_PKG, VERSION,
                              SecurityTestCase, route_list, tamper_jwt, tamper_token)

ROUTES = route_list()
WRITES = [r for r in ROUTES if r["writes"]]
SCOPED = "@sec/scoped"

# ---- credentials -----------------------------------------------------------------------------

API_KINDS = ["none", "malformed", "expired", "revoked", "tampered_jwt", "tampered_token",
             "cookie_no_csrf", "read_only", "narrowed_package", "narrowed_ecosystem",
             "non_owner", "disabled", "publish_only", "admin_not_owner"]
WEB_KINDS = API_KINDS + ["csrf_wrong", "csrf_foreign", "origin_foreign", "non_owner_session",
                         "admin_session"]
# Credentials that fail (401); a disabled account's tokens and sessions fail like revoked ones.
BAD = {"none", "malformed", "expired", "revoked", "tampered_jwt", "tampered_token",
       "cookie_no_csrf", "disabled"}


def parse_time(s):
    """Seconds since the epoch of an RFC 3339 UTC time as depot writes it."""
    return calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S"))


def eco_of(r):
    p = r["pattern"]
    for eco in ("hex", "npm", "pub"):
        if p.startswith("/%s/" % eco):
            return eco
    return "native"


def credential(t, kind, eco):
    """Headers (and for the web whether to add a CSRF field) for a kind of credential."""
    if kind == "none":
        return {}
    if kind == "malformed":
        return {"Authorization": "Basic %%%not-base64%%%"}
    if kind == "cookie_no_csrf":
        return {"Cookie": t.cookie}
    tok = {
        "expired": lambda: t.tok_expired,
        "revoked": lambda: t.tok_revoked,
        "tampered_jwt": lambda: tamper_jwt(t.owner.jwt),
        "tampered_token": lambda: tamper_token(t.tok_full),
        "read_only": lambda: t.tok_read,
        "narrowed_package": lambda: t.tok_narrow_pkg[eco],
        "narrowed_ecosystem": lambda: t.tok_native_only if eco == "hex" else t.tok_hex_only,
        "non_owner": lambda: t.tok_stranger,
        "disabled": lambda: t.tok_gone,
        "publish_only": lambda: t.tok_full,
        "admin_not_owner": lambda: t.admin.jwt,
    }[kind]()
    return {"Authorization": bearer(tok)}


# ---- one request per write route: (method is the route's) -> (path, body, content type) ---------

def _json(obj):
    import json
    return json.dumps(obj).encode(), "application/json"


def _form(fields):
    return urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded"


def _etf_json(obj):
    return _json(obj)


def _native_publish(t):
    from depot import multipart_body, Part
    return multipart_body([Part("tarball", targz({"a.txt": t.uniq()}), "p.tar.gz",
                                "application/gzip"),
                           Part("metadata", _json(manifest(NATIVE_PKG, "1.0.1"))[0], None,
                                "application/json")])


P = "/api/v1"
NP = P + "/packages/" + NATIVE_PKG
NV = NP + "/versions/" + VERSION
H = "/hex/api"
HR = H + "/repos/depot"
HP = "/packages/%s" % HEX_PKG
HV = HP + "/releases/%s" % VERSION
PUBP = "/pub/api/packages/" + PUB_PKG


def hex_tar(t):
    return hex_tarball(HEX_PKG, "1.0.1"), "application/octet-stream"


BUILD = {
    # native accounts
    "POST /api/v1/auth/register": lambda t: (P + "/auth/register", *_json(
        {"username": t.uniq("reg"), "email": t.uniq("reg") + "@example.com",
         "password": "a-long-password"})),
    "POST /api/v1/auth/login": lambda t: (P + "/auth/login", *_json(
        {"username": t.owner.username, "password": t.owner.password})),
    "POST /api/v1/auth/refresh": lambda t: (P + "/auth/refresh", None, None),
    "POST /api/v1/auth/logout": lambda t: (P + "/auth/logout", None, None),
    "POST /api/v1/tokens": lambda t: (P + "/tokens", *_json(
        {"name": t.uniq("mx"), "scopes": ["read"]})),
    "DELETE /api/v1/tokens/{name}": lambda t: (P + "/tokens/" + t.tok_full_name, None, None),
    "POST /api/v1/me/keys": lambda t: (P + "/me/keys", *_json(
        {"name": t.uniq("k"), "public_key": base64.b64encode(os.urandom(32)).decode()})),
    "DELETE /api/v1/me/keys/{key_id}": lambda t: (P + "/me/keys/" + t.key_id, None, None),
    "PUT /api/v1/me/settings": lambda t: (P + "/me/settings", *_json({"show_email": True})),
    # native packages
    "POST /api/v1/packages": lambda t: (P + "/packages", *_native_publish(t)),
    "PUT /api/v1/packages/{name}/versions/{version}/yank": lambda t: (NV + "/yank", None, None),
    "DELETE /api/v1/packages/{name}/versions/{version}/yank": lambda t: (NV + "/yank", None,
                                                                         None),
    "POST /api/v1/packages/{name}/versions/{version}/docs": lambda t: (
        NV + "/docs", DOCS, "application/gzip"),
    "DELETE /api/v1/packages/{name}/versions/{version}/docs": lambda t: (NV + "/docs", None,
                                                                         None),
    "PUT /api/v1/packages/{name}/owners/{username}": lambda t: (
        NP + "/owners/" + t.other.username, None, None),
    "DELETE /api/v1/packages/{name}/owners/{username}": lambda t: (
        NP + "/owners/" + t.gone.username, None, None),
    "PUT /api/v1/packages/{name}/versions/{version}/retract": lambda t: (
        "%s/packages/%s/versions/%s/retract?ecosystem=pub" % (P, PUB_PKG, VERSION), None, None),
    "DELETE /api/v1/packages/{name}/versions/{version}/retract": lambda t: (
        "%s/packages/%s/versions/%s/retract?ecosystem=pub" % (P, PUB_PKG, VERSION), None, None),
    "PUT /api/v1/packages/{name}/discontinue": lambda t: (
        "%s/packages/%s/discontinue?ecosystem=pub" % (P, PUB_PKG), *_json({})),
    "DELETE /api/v1/packages/{name}/discontinue": lambda t: (
        "%s/packages/%s/discontinue?ecosystem=pub" % (P, PUB_PKG), None, None),
    "PUT /api/v1/packages/{name}/settings": lambda t: (NP + "/settings", *_json(
        {"require_signatures": True})),
    "POST /api/v1/resolve": lambda t: (P + "/resolve", *_json(
        {"dependencies": {NATIVE_PKG: "^1.0"}})),
    # hex
    "POST /hex/api/users": lambda t: (H + "/users", *_etf_json(
        {"username": t.uniq("hx"), "email": t.uniq("hx") + "@example.com",
         "password": "a-long-password"})),
    "POST /hex/api/users/{user}/reset": lambda t: (H + "/users/%s/reset" % t.owner.username,
                                                   None, None),
    "POST /hex/api/keys": lambda t: (H + "/keys", *_etf_json(
        {"name": t.uniq("hk"), "permissions": [{"domain": "api"}]})),
    "DELETE /hex/api/keys": lambda t: (H + "/keys", None, None),
    "DELETE /hex/api/keys/{key}": lambda t: (H + "/keys/" + t.tok_full_name, None, None),
    "POST /hex/api/orgs/{org}/keys": lambda t: (H + "/orgs/depot/keys", *_etf_json(
        {"name": t.uniq("hk"), "permissions": [{"domain": "api"}]})),
    "DELETE /hex/api/orgs/{org}/keys": lambda t: (H + "/orgs/depot/keys", None, None),
    "DELETE /hex/api/orgs/{org}/keys/{key}": lambda t: (
        H + "/orgs/depot/keys/" + t.tok_full_name, None, None),
    "POST /hex/api/publish": lambda t: (H + "/publish?replace=false", *hex_tar(t)),
    "POST /hex/api/repos/{repo}/publish": lambda t: (HR + "/publish?replace=false", *hex_tar(t)),
    "POST /hex/api/packages/{name}/releases": lambda t: (
        H + HP + "/releases?replace=false", *hex_tar(t)),
    "POST /hex/api/repos/{repo}/packages/{name}/releases": lambda t: (
        HR + HP + "/releases?replace=false", *hex_tar(t)),
    "DELETE /hex/api/packages/{name}/releases/{version}": lambda t: (H + HV, None, None),
    "DELETE /hex/api/repos/{repo}/packages/{name}/releases/{version}": lambda t: (
        HR + HV, None, None),
    "POST /hex/api/packages/{name}/releases/{version}/retire": lambda t: (
        H + HV + "/retire", *_etf_json({"reason": "other", "message": "not this one"})),
    "POST /hex/api/repos/{repo}/packages/{name}/releases/{version}/retire": lambda t: (
        HR + HV + "/retire", *_etf_json({"reason": "other", "message": "not this one"})),
    "DELETE /hex/api/packages/{name}/releases/{version}/retire": lambda t: (
        H + HV + "/retire", None, None),
    "DELETE /hex/api/repos/{repo}/packages/{name}/releases/{version}/retire": lambda t: (
        HR + HV + "/retire", None, None),
    "POST /hex/api/packages/{name}/releases/{version}/docs": lambda t: (
        H + HV + "/docs", DOCS, "application/octet-stream"),
    "POST /hex/api/repos/{repo}/packages/{name}/releases/{version}/docs": lambda t: (
        HR + HV + "/docs", DOCS, "application/octet-stream"),
    "DELETE /hex/api/packages/{name}/releases/{version}/docs": lambda t: (
        H + HV + "/docs", None, None),
    "DELETE /hex/api/repos/{repo}/packages/{name}/releases/{version}/docs": lambda t: (
        HR + HV + "/docs", None, None),
    "PUT /hex/api/packages/{name}/owners/{user}": lambda t: (
        H + HP + "/owners/" + t.other.username, *_etf_json({"level": "full"})),
    "PUT /hex/api/repos/{repo}/packages/{name}/owners/{user}": lambda t: (
        HR + HP + "/owners/" + t.other.username, *_etf_json({"level": "full"})),
    "DELETE /hex/api/packages/{name}/owners/{user}": lambda t: (
        H + HP + "/owners/" + t.gone.username, None, None),
    "DELETE /hex/api/repos/{repo}/packages/{name}/owners/{user}": lambda t: (
        HR + HP + "/owners/" + t.gone.username, None, None),
    # npm
    "PUT /npm/{name}": lambda t: ("/npm/" + NPM_PKG, *_json(publish_doc(NPM_PKG, "1.0.1"))),
    "PUT /npm/{scope}/{name}": lambda t: ("/npm/" + SCOPED, *_json(
        publish_doc(SCOPED, "1.0.1"))),
    "PUT /npm/{name}/-rev/{rev}": lambda t: ("/npm/%s/-rev/%s" % (NPM_PKG, t.npm_rev()),
                                             *_json(t.npm_owner_change())),
    "DELETE /npm/{name}/-rev/{rev}": lambda t: ("/npm/%s/-rev/%s" % (NPM_PKG, t.npm_rev()),
                                                None, None),
    "DELETE /npm/{name}/-/{file}/-rev/{rev}": lambda t: (
        "/npm/%s/-/%s-%s.tgz/-rev/%s" % (NPM_PKG, NPM_PKG, VERSION, t.npm_rev()), None, None),
    "DELETE /npm/{scope}/{name}/-/{file}/-rev/{rev}": lambda t: (
        "/npm/%s/-/scoped-%s.tgz/-rev/x" % (SCOPED, VERSION), None, None),
    "PUT /npm/-/package/{name}/dist-tags/{tag}": lambda t: (
        "/npm/-/package/%s/dist-tags/beta" % NPM_PKG, *_json(VERSION)),
    "DELETE /npm/-/package/{name}/dist-tags/{tag}": lambda t: (
        "/npm/-/package/%s/dist-tags/stable" % NPM_PKG, None, None),
    "POST /npm/-/v1/login": lambda t: ("/npm/-/v1/login", None, None),
    "PUT /npm/-/user/{user}": lambda t: (
        "/npm/-/user/org.couchdb.user:" + t.owner.username, *_json(
            {"name": t.owner.username, "password": t.owner.password})),
    "PUT /npm/-/user/{user}/-rev/{rev}": lambda t: (
        "/npm/-/user/org.couchdb.user:%s/-rev/1-x" % t.owner.username, *_json(
            {"name": t.owner.username, "password": t.owner.password})),
    "DELETE /npm/-/user/token/{token}": lambda t: ("/npm/-/user/token/" + t.tok_full, None,
                                                   None),
    "POST /npm/-/npm/v1/tokens": lambda t: ("/npm/-/npm/v1/tokens", *_json(
        {"password": t.owner.password, "name": t.uniq("nt")})),
    "DELETE /npm/-/npm/v1/tokens/token/{key}": lambda t: (
        "/npm/-/npm/v1/tokens/token/" + t.tok_full_name, None, None),
    "POST /npm/-/npm/v1/security/advisories/bulk": lambda t: (
        "/npm/-/npm/v1/security/advisories/bulk", *_json({NPM_PKG: [VERSION]})),
    "PUT /npm/{rest*}": lambda t: ("/npm/-/no/such/thing", *_json({})),
    "POST /npm/{rest*}": lambda t: ("/npm/-/no/such/thing", *_json({})),
    "DELETE /npm/{rest*}": lambda t: ("/npm/-/no/such/thing", None, None),
    # pub
    "GET /pub/api/packages/versions/new": lambda t: ("/pub/api/packages/versions/new", None,
                                                     None),
    "POST /pub/api/packages/versions/newUpload": lambda t: (
        "/pub/api/packages/versions/newUpload", pub_package(PUB_PKG, "1.0.2"),
        "application/octet-stream"),
    "GET /pub/api/packages/versions/newUploadFinish": lambda t: (
        "/pub/api/packages/versions/newUploadFinish?upload_id=" + t.pub_upload, None, None),
    "PUT /pub/api/packages/{name}/options": lambda t: (PUBP + "/options", *_json(
        {"isDiscontinued": True})),
    "PUT /pub/api/packages/{name}/versions/{version}/options": lambda t: (
        PUBP + "/versions/%s/options" % VERSION, *_json({"isRetracted": True})),
    "PUT /pub/api/packages/{name}/uploaders/{username}": lambda t: (
        PUBP + "/uploaders/" + t.other.username, None, None),
    "DELETE /pub/api/packages/{name}/uploaders/{username}": lambda t: (
        PUBP + "/uploaders/" + t.gone.username, None, None),
    # web forms
    "POST /packages/{ecosystem}/{rest*}": lambda t: (
        "/packages/native/%s/action" % NATIVE_PKG, *_form({"action": "yank",
                                                           "version": VERSION})),
    "POST /register": lambda t: ("/register", *_form(
        {"username": t.uniq("wr"), "email": t.uniq("wr") + "@example.com",
         "password": "a-long-password"})),
    "POST /login": lambda t: ("/login", *_form({"login": t.owner.username,
                                                "password": t.owner.password})),
    "POST /logout": lambda t: ("/logout", *_form({})),
    "POST /account/{action}": lambda t: ("/account/token-create", *_form(
        {"name": t.uniq("wt"), "scope": "read", "expires_days": "30"})),
    "POST /password/forgot": lambda t: ("/password/forgot", *_form({"login": t.owner.email})),
    "POST /password/reset": lambda t: ("/password/reset", *_form(
        {"token": "x" * 43, "password": "another-long-password"})),
    "POST /email/verify": lambda t: ("/email/verify", *_form({"token": "x" * 43})),
    "POST /admin/{action}": lambda t: ("/admin/user", *_form({"action": "disable",
                                                              "user": t.other.username})),
}

# ---- expectations: 401 for a bad credential, 403 for a good one that may not, unless said ----

OPEN = "open"  # the route takes anonymous callers by design: only a bad credential is refused

# Routes anyone may call (registering, logging in, reads sent as POST): a credential that is
# present but wrong is still 401 (docs/architecture.md, "Credentials"); the good-credential
# kinds are not refusals there.
COUCH = ("npm's couch login: the password in the body is the proof, and npm sends the token of "
         ".npmrc with it even when that one is revoked or expired, so no header is refused "
         "(src/npm/users.c, npm_auth_error); a wrong password is tested in tests/api/npm")
OPEN_ROUTES = {
    "POST /api/v1/auth/register": "registration is open to anyone",
    "POST /api/v1/auth/login": "logging in needs no credential",
    "POST /api/v1/resolve": "a read sent as POST",
    "POST /hex/api/users": "registration through Hex's API is open to anyone",
    "POST /hex/api/users/{user}/reset": "a reset request needs no credential (and sends nothing)",
    "POST /npm/-/v1/login": "always 404, so npm falls back to couch login",
    "PUT /npm/-/user/{user}": COUCH,
    "PUT /npm/-/user/{user}/-rev/{rev}": COUCH,
    "POST /npm/-/npm/v1/security/advisories/bulk": "npm audit: a read sent as POST",
    "PUT /npm/{rest*}": "no such route: npm's 404",
    "POST /npm/{rest*}": "no such route: npm's 404",
    "DELETE /npm/{rest*}": "no such route: npm's 404",
}
# What an open route answers a good credential or none (it must still change nothing).
OPEN_STATUS = {
    "POST /npm/-/v1/login": 404, "PUT /npm/{rest*}": 404, "POST /npm/{rest*}": 404,
    "DELETE /npm/{rest*}": 404, "POST /api/v1/resolve": 200,
    "POST /npm/-/npm/v1/security/advisories/bulk": 200,
}

# Routes that act on the caller's own account: another user's good credential acts on that
# user's account, so "non-owner" means naming the owner's thing (404 where it names one).
SELF = {
    "POST /api/v1/auth/refresh": None, "POST /api/v1/auth/logout": None,
    "POST /api/v1/tokens": None, "DELETE /api/v1/tokens/{name}": 403,
    "POST /api/v1/me/keys": None, "DELETE /api/v1/me/keys/{key_id}": 404,
    "PUT /api/v1/me/settings": None,
    "POST /hex/api/keys": None, "DELETE /hex/api/keys": None, "DELETE /hex/api/keys/{key}": 404,
    "POST /hex/api/orgs/{org}/keys": None, "DELETE /hex/api/orgs/{org}/keys": None,
    "DELETE /hex/api/orgs/{org}/keys/{key}": 404,
    "GET /pub/api/packages/versions/new": None, "POST /pub/api/packages/versions/newUpload": None,
    "DELETE /npm/-/user/token/{token}": 404, "POST /npm/-/npm/v1/tokens": None,
    "DELETE /npm/-/npm/v1/tokens/token/{key}": 404,
    "POST /account/{action}": None, "POST /logout": None,
}

# Routes that manage a package or mint credentials: the owner's whole `publish` token is refused
# (a token deleting itself, as the delete builders do, is allowed and not listed).
MANAGE = {
    "PUT /api/v1/packages/{name}/owners/{username}", "DELETE /api/v1/packages/{name}/owners/{username}",
    "PUT /api/v1/packages/{name}/discontinue", "DELETE /api/v1/packages/{name}/discontinue",
    "PUT /api/v1/packages/{name}/settings",
    "PUT /hex/api/packages/{name}/owners/{user}", "PUT /hex/api/repos/{repo}/packages/{name}/owners/{user}",
    "DELETE /hex/api/packages/{name}/owners/{user}",
    "DELETE /hex/api/repos/{repo}/packages/{name}/owners/{user}",
    "PUT /npm/{name}/-rev/{rev}",  # the builder changes the maintainers
    "DELETE /npm/{name}/-rev/{rev}",  # the whole package
    "PUT /pub/api/packages/{name}/options", "PUT /pub/api/packages/{name}/uploaders/{username}",
    "DELETE /pub/api/packages/{name}/uploaders/{username}",
    "POST /api/v1/tokens", "POST /hex/api/keys", "POST /hex/api/orgs/{org}/keys",
    "DELETE /hex/api/keys", "DELETE /hex/api/orgs/{org}/keys", "POST /npm/-/npm/v1/tokens",
}
# Routes that write to an existing package of someone else: an admin who is no owner is refused.
PACKAGE = MANAGE - {"POST /api/v1/tokens", "POST /hex/api/keys", "POST /hex/api/orgs/{org}/keys",
                    "DELETE /hex/api/keys", "DELETE /hex/api/orgs/{org}/keys",
                    "POST /npm/-/npm/v1/tokens"} | {
    "POST /api/v1/packages", "PUT /api/v1/packages/{name}/versions/{version}/yank",
    "DELETE /api/v1/packages/{name}/versions/{version}/yank",
    "POST /api/v1/packages/{name}/versions/{version}/docs",
    "DELETE /api/v1/packages/{name}/versions/{version}/docs",
    "PUT /api/v1/packages/{name}/versions/{version}/retract",
    "DELETE /api/v1/packages/{name}/versions/{version}/retract",
    "POST /hex/api/publish", "POST /hex/api/repos/{repo}/publish",
    "POST /hex/api/packages/{name}/releases", "POST /hex/api/repos/{repo}/packages/{name}/releases",
    "DELETE /hex/api/packages/{name}/releases/{version}",
    "DELETE /hex/api/repos/{repo}/packages/{name}/releases/{version}",
    "POST /hex/api/packages/{name}/releases/{version}/retire",
    "POST /hex/api/repos/{repo}/packages/{name}/releases/{version}/retire",
    "DELETE /hex/api/packages/{name}/releases/{version}/retire",
    "DELETE /hex/api/repos/{repo}/packages/{name}/releases/{version}/retire",
    "POST /hex/api/packages/{name}/releases/{version}/docs",
    "POST /hex/api/repos/{repo}/packages/{name}/releases/{version}/docs",
    "DELETE /hex/api/packages/{name}/releases/{version}/docs",
    "DELETE /hex/api/repos/{repo}/packages/{name}/releases/{version}/docs",
    "PUT /npm/{name}", "PUT /npm/{scope}/{name}", "DELETE /npm/{name}/-/{file}/-rev/{rev}",
    "DELETE /npm/{scope}/{name}/-/{file}/-rev/{rev}", "PUT /npm/-/package/{name}/dist-tags/{tag}",
    "DELETE /npm/-/package/{name}/dist-tags/{tag}",
    "PUT /pub/api/packages/{name}/versions/{version}/options",
}

# Per-route exceptions, (route, kind) -> expected status, each with its reason.
EXCEPT = {}


def _exc(route, kinds, status, why):
    for k in kinds:
        EXCEPT[(route, k)] = (status, why)


_exc("GET /pub/api/packages/versions/new", ["narrowed_package"], 200,
     "a token for some pub package may start an upload: the package is known at finalize, "
     "which refuses it (nothing visible is written)")
_exc("POST /pub/api/packages/versions/newUpload", ["narrowed_package"], 303,
     "a token for some pub package may upload bytes: finalize checks the package")
for _k in API_KINDS:
    for _route in ("PUT /npm/-/user/{user}", "PUT /npm/-/user/{user}/-rev/{rev}"):
        if _k != "none":
            _exc(_route, [_k], None, COUCH)


WEB_PREFIXES = ("/packages/", "/register", "/login", "/logout", "/account", "/password",
                "/email", "/admin")
BAD_HEADER = BAD - {"none", "cookie_no_csrf"}
ANON_FORMS = {"POST /register", "POST /login", "POST /password/forgot", "POST /password/reset",
              "POST /email/verify"}


def expected(route_key, kind):
    """(status, reason) for a cell, or (None, reason) when the cell is no refusal by design."""
    if (route_key, kind) in EXCEPT:
        return EXCEPT[(route_key, kind)]
    if kind == "publish_only":
        if route_key in MANAGE:
            return 403, "managing a package or minting a token needs manage; publish never carries it"
        return None, "a publish token may do this"
    if kind == "admin_not_owner":
        if route_key in PACKAGE:
            return 403, "an admin who is not an owner has no power over the package"
        return None, "not a write to another's package"
    if route_key.split(" ", 1)[1].startswith(WEB_PREFIXES):
        # The dashboard's forms: a bad Authorization header fails in the HTTP layer (401), and
        # a disabled account's credential too (403); anything else without the form's own CSRF
        # token (from this session, from this Origin) is 403 before the form is read.
        if kind in BAD_HEADER:
            return 401, "a bad credential"
        if kind == "non_owner_session":
            if route_key in SELF or route_key in ANON_FORMS:
                return None, "acts on the caller's own session, or needs none"
            return 403, "another user's session with its valid CSRF token: not an owner/admin"
        if kind == "admin_session":
            if route_key.split(" ", 1)[1].startswith("/packages/"):
                return 403, "an admin's session with its CSRF token: admins are no owners"
            return None, "admins may use the other forms"
        return 403, "no valid CSRF token of this session"
    if route_key in OPEN_ROUTES:
        if kind in BAD_HEADER:
            return 401, "a credential that is present but wrong is 401 even on open routes"
        return OPEN_STATUS.get(route_key), OPEN_ROUTES[route_key]
    if kind == "non_owner" and route_key in SELF:
        return SELF[route_key], "acts on the caller's own account: another user's naming the owner's"
    return (401, "") if kind in BAD else (403, "")


class _Matrix(SecurityTestCase):
    front = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.once_per_server("matrix fixtures", cls.make_matrix_fixtures)

    @classmethod
    def make_matrix_fixtures(cls):
        d = cls.depot
        own = bearer(cls.tok_full)
        pub = base64.b64encode(os.urandom(32)).decode()
        r = d.post("/api/v1/me/keys", json={"name": "mx", "public_key": pub},
                   auth=cls.owner.bearer)
        assert r.status == 201, r.describe()
        cls.key_id = r.json()["key_id"]
        r = d.request("PUT", "/npm/" + SCOPED.replace("/", "%2f"),
                      json=publish_doc(SCOPED, VERSION), auth=own)
        assert r.status == 201, r.describe()
        r = d.request("PUT", "/npm/-/package/%s/dist-tags/stable" % NPM_PKG, json=VERSION,
                      auth=own)
        assert r.status in (200, 201), r.describe()
        # An upload the owner started and did not finish.
        r = d.get("/pub/api/packages/versions/new", auth=own,
                  headers={"Accept": "application/vnd.pub.v2+json"})
        assert r.status == 200, r.describe()
        cls.pub_upload = r.json()["fields"]["upload_id"]
        r = d.request("POST", "/pub/api/packages/versions/newUpload?upload_id=" + cls.pub_upload,
                      body=pub_package(PUB_PKG, "1.0.1"), auth=own,
                      headers={"Content-Type": "application/octet-stream"})
        assert r.status == 303, r.describe()
        cls.stranger_cookie = "depot_session=" + cls.stranger.jwt
        cls.admin_cookie = "depot_session=" + cls.admin.jwt

    def npm_rev(self):
        return self.depot.get("/npm/" + NPM_PKG).json()["_rev"]

    def npm_owner_change(self):
        doc = self.depot.get("/npm/" + NPM_PKG).json()
        doc["maintainers"] = [{"name": self.other.username, "email": self.other.email}]
        return doc

    def csrf_for(self, cookie):
        r = self.depot.get("/account", headers={"Cookie": cookie, "Accept": "text/html"})
        m = re.search(r'name="csrf" value="([^"]+)"', r.text)
        self.assertIsNotNone(m, "no CSRF field on /account: " + r.describe(300))
        return m.group(1)

    def cell(self, route, kind):
        key = "%s %s" % (route["method"], route["pattern"])
        want, why = expected(key, kind)
        if want is None:
            self.fail("cell %s × %s is not a refusal (%s); it must not be generated" % (
                key, kind, why))
        eco = {"hex": "hex", "npm": "npm", "pub": "pub"}.get(route["front"], "native")
        path, body, ctype = BUILD[key](self)
        headers = {"Accept": "text/html" if route["front"] == "web" else
                   ("application/vnd.pub.v2+json" if eco == "pub" else "application/json")}
        if ctype:
            headers["Content-Type"] = ctype
        if kind in ("csrf_wrong", "csrf_foreign", "origin_foreign", "non_owner_session",
                    "admin_session"):
            cookie = {"non_owner_session": self.stranger_cookie,
                      "admin_session": self.admin_cookie}.get(kind, self.cookie)
            headers["Cookie"] = cookie
            tok = {"csrf_wrong": "not-the-token",
                   "csrf_foreign": self.csrf_for(self.stranger_cookie)}.get(
                kind) or self.csrf_for(cookie)
            body = (body + b"&" if body else b"") + urllib.parse.urlencode(
                {"csrf": tok}).encode()
            if kind == "origin_foreign":
                headers["Origin"] = "https://evil.example"
        else:
            headers.update(credential(self, kind, eco))
        before = self.snapshot()
        r = self.depot.request(route["method"], path, body=body, headers=headers)
        self.assertEqual(r.status, want, "%s × %s (%s): %s" % (key, kind, why or "refused",
                                                             r.describe(400)))
        self.assertUnchanged(before, "%s × %s" % (key, kind))


def _slug(s):
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")


def _cell_test(route, kind):
    def t(self):
        self.cell(route, kind)
    t.__doc__ = "%s %s with %s is refused and changes nothing" % (route["method"],
                                                                   route["pattern"], kind)
    return t


def _missing_builder(route):
    def t(self):
        self.fail("no request builder for the write route %s %s (front %s): add it to BUILD in "
                  "tests/api/security/test_authz_matrix.py so the matrix covers it"
                  % (route["method"], route["pattern"], route["front"]))
    return t


FRONT_CLASSES = {}
for _front in sorted({r["front"] for r in WRITES}):
    _cls = type("Matrix_" + _front, (_Matrix,), {"front": _front})
    FRONT_CLASSES[_front] = _cls
    globals()[_cls.__name__] = _cls

CELLS = 0
for _r in WRITES:
    _key = "%s %s" % (_r["method"], _r["pattern"])
    _cls = FRONT_CLASSES[_r["front"]]
    _base = "test_%s_%s" % (_r["method"].lower(), _slug(_r["pattern"]))
    if _key not in BUILD:
        setattr(_cls, _base + "__no_builder", _missing_builder(_r))
        continue
    for _kind in (WEB_KINDS if _r["front"] == "web" else API_KINDS):
        if expected(_key, _kind)[0] is None:
            continue
        setattr(_cls, "%s__%s" % (_base, _kind), _cell_test(_r, _kind))
        CELLS += 1
del _cls


class MatrixTable(SecurityTestCase):
    """The table itself keeps up with the binary."""
    fixtures = False
    create_admin = False
    start_server = False

    def test_every_builder_names_a_route_of_the_binary(self):
        keys = {"%s %s" % (r["method"], r["pattern"]) for r in WRITES}
        stale = sorted(set(BUILD) - keys) + sorted(set(OPEN_ROUTES) - keys) + \
            sorted(set(SELF) - keys) + sorted((MANAGE | PACKAGE) - keys)
        self.assertEqual(stale, [], "entries for routes the binary does not list as writes")

    def test_open_routes_are_open_in_the_table(self):
        for r in WRITES:
            key = "%s %s" % (r["method"], r["pattern"])
            if key in OPEN_ROUTES and r["front"] != "web":
                self.assertIn(r["auth"], ("none", "read"), key)
            if r["auth"] == "none" and r["front"] not in ("web",):
                self.assertIn(key, OPEN_ROUTES, "%s takes anonymous writes: say why in "
                              "OPEN_ROUTES" % key)

    def test_the_matrix_is_large(self):
        self.assertGreaterEqual(CELLS, 9 * len(WRITES) // 2, CELLS)


class MintingRules(SecurityTestCase):
    """A token never makes or removes a credential broader or longer-lived than itself, on any
    front (native tokens, Hex keys, npm tokens); only a password, a session or a token with a
    manage scope lists its user's tokens. Each test uses a user of its own."""

    def setUp(self):
        super().setUp()
        self.u = self.new_user(prefix="mint")

    def tok(self, scopes, expires_in=None):
        exp = format_time(time.time() + expires_in) if expires_in else None
        secret, name = self.make_token(self.u.bearer, scopes, expires_at=exp)
        return bearer(secret), name

    def hex_key(self, auth, body):
        return self.depot.post("/hex/api/keys", json=body, auth=auth,
                               headers={"Accept": "application/json"})

    def test_a_token_never_mints_a_broader_token(self):
        narrow, _ = self.tok(["read", "manage:hex/mintpkg"])
        r = self.depot.create_token(narrow, self.uniq("w"), ["publish"])
        self.assertStatus(r, 403)
        r = self.depot.create_token(narrow, self.uniq("w"), ["manage:hex"])
        self.assertStatus(r, 403)
        self.assertStatus(self.hex_key(narrow, {"name": "w", "permissions": [{"domain": "api"}]}),
                         403)
        # within its own scopes it may
        self.assertStatus(self.depot.create_token(narrow, self.uniq("n"),
                                                  ["publish:hex/mintpkg"]), 201)
        r = self.hex_key(narrow, {"name": "n", "permissions": [
            {"domain": "package", "resource": "depot/mintpkg"}]})
        self.assertStatus(r, 201)

    def test_an_expiring_token_never_mints_a_longer_lived_one(self):
        exp = time.time() + 120
        m, _ = self.tok(["read", "manage"], expires_in=120)
        later = format_time(exp + 3600)
        self.assertStatus(self.depot.create_token(m, self.uniq("l"), ["read"], expires_at=later),
                         403)
        self.assertStatus(self.hex_key(m, {"name": "l", "revoke_at": later}), 403)
        # asked for no expiry, the new one ends with its creator
        r = self.depot.create_token(m, self.uniq("c"), ["read"])
        self.assertStatus(r, 201)
        self.assertIsNotNone(r.json()["expires_at"])
        self.assertLessEqual(parse_time(r.json()["expires_at"]), exp + 1)
        r = self.hex_key(m, {"name": "c", "permissions": [{"domain": "api"}]})
        self.assertStatus(r, 201)
        self.assertIsNotNone(r.json()["revoke_at"])
        self.assertLessEqual(parse_time(r.json()["revoke_at"]), exp + 1)

    def test_a_token_deletes_only_tokens_it_covers(self):
        _, wide = self.tok(["publish"])
        _, read = self.tok(["read"])
        narrow, _ = self.tok(["read", "manage:hex"])
        self.assertStatus(self.depot.delete("/api/v1/tokens/" + wide, auth=narrow), 403)
        self.assertStatus(self.depot.delete("/hex/api/keys/" + wide, auth=narrow), 403)
        self.assertStatus(self.depot.delete("/npm/-/npm/v1/tokens/token/" + wide, auth=narrow), 403)
        self.assertStatus(self.depot.delete("/hex/api/keys", auth=narrow), 403)
        names = [t["name"] for t in self.depot.get("/api/v1/tokens",
                                                   auth=self.u.bearer).json()["tokens"]]
        self.assertIn(wide, names, "a refused delete-all deleted a token")
        self.assertIn(read, names, "a refused delete-all deleted a token")
        # an expiring token cannot delete a lasting one, even of narrower scopes
        brief, _ = self.tok(["read", "manage"], expires_in=120)
        self.assertStatus(self.depot.delete("/api/v1/tokens/" + read, auth=brief), 403)
        # a token it covers it may
        self.assertStatus(self.depot.delete("/api/v1/tokens/" + read, auth=narrow), 204)

    def test_only_a_manage_token_lists_tokens(self):
        _, some = self.tok(["read"])
        for scopes in (["read"], ["read", "publish"], ["publish:hex"], ["publish:npm/x"]):
            t, _ = self.tok(scopes)
            for path in ("/api/v1/tokens", "/api/v1/tokens/" + some, "/hex/api/keys",
                         "/hex/api/keys/" + some, "/hex/api/orgs/depot/keys",
                         "/npm/-/npm/v1/tokens"):
                self.assertStatus(self.depot.get(path, auth=t), 403)
        m, _ = self.tok(["read", "manage:npm/x"])
        for path in ("/api/v1/tokens", "/hex/api/keys", "/npm/-/npm/v1/tokens"):
            self.assertStatus(self.depot.get(path, auth=m), 200)
