"""
pubtest.py — PubTestCase, the base of the pub front's black-box tests: a user with a pub token,
a DartPub client (dartpub.py) pointed at <server>/pub, and the invariants every /pub/ response
must keep:

  - errors are {"error": {"code": str, "message": str}} with the contract's codes, and leak
    nothing;
  - 401 and 403 carry exactly one challenge, `Bearer realm="pub", message="..."`, that the
    client's parser takes whole (never depot's own realm="depot" challenges, which would make
    the client drop the message);
  - JSON bodies say `charset=utf-8` (the client decodes a charset-less vnd.pub.v2+json body as
    latin1) or are pure ASCII;
  - archives never have Content-Encoding.
"""

import json

from apitest import DepotTestCase, ERROR_CODES, leak_problems  # noqa: F401
from pub.dartpub import DartPub, package, parse_challenges

PUB = "/pub"


def pub_problems(r):
    out = []
    if not r.headers.get("X-Request-Id"):
        out.append("no X-Request-Id header")
    ct = (r.headers.get("Content-Type") or "").lower()
    if r.body and "json" in ct and "charset=utf-8" not in ct:
        try:
            r.body.decode("ascii")
        except UnicodeDecodeError:
            out.append("non-ASCII JSON without charset=utf-8 (the client would read latin1)")
    path = (r.path or "").split("?")[0]
    if path.endswith(".tar.gz") and r.headers.get("Content-Encoding"):
        out.append("an archive with Content-Encoding %r" % r.headers.get("Content-Encoding"))
    if r.status >= 400 and r.status != 405 or r.status == 405:
        try:
            obj = json.loads(r.body.decode("utf-8"))
            err = obj.get("error") if isinstance(obj, dict) else None
        except (ValueError, UnicodeDecodeError):
            err = None
            out.append("error body is not JSON")
        if r.status >= 400:
            if not isinstance(err, dict) or not isinstance(err.get("code"), str) \
                    or not isinstance(err.get("message"), str) or not err.get("message"):
                out.append('error body lacks {"error": {"code", "message"}}')
            elif ERROR_CODES.get(r.status) and r.status != 400 and err["code"] != ERROR_CODES[r.status]:
                out.append("status %d with code %r" % (r.status, err["code"]))
        out.extend(leak_problems(r))
    if r.status in (401, 403):
        www = r.headers.get_all("WWW-Authenticate")
        if len(www) != 1:
            out.append("%d with %d WWW-Authenticate headers (want exactly one): %r"
                       % (r.status, len(www), www))
        else:
            try:
                chs = parse_challenges(www[0])
            except ValueError as e:
                chs = None
                out.append("WWW-Authenticate does not parse (%s): %r" % (e, www[0]))
            if chs is not None and (len(chs) != 1 or chs[0][0] != "bearer"
                                    or chs[0][1].get("realm") != "pub"
                                    or not chs[0][1].get("message")
                                    or not www[0].startswith('Bearer realm="pub", message="')):
                out.append('%d challenge is not exactly Bearer realm="pub", message="...": %r'
                           % (r.status, www[0]))
    if r.status == 405 and not r.headers.get("Allow"):
        out.append("405 without Allow")
    return out


class PubTestCase(DepotTestCase):

    @staticmethod
    def invariant_problems(r):
        path = (r.path or "").split("?")[0]
        if not path.startswith(PUB + "/"):
            return DepotTestCase.invariant_problems(r)
        return pub_problems(r)

    # ---- helpers ----------------------------------------------------------------------------

    @property
    def hosted(self):
        return self.depot.url + PUB

    def pub_user(self, scopes=("read", "publish:pub"), depot=None):
        """A new user and a token for it; returns (User, token)."""
        d = depot or self.depot
        u = self.register_user(depot=d)
        r = d.create_token(u.bearer, self.uniq("tok"), list(scopes))
        self.assertStatus(r, 201)
        return u, r.json()["token"]

    def client(self, token=None, **kw):
        return DartPub(self.depot, self.hosted, token=token, **kw)

    def publish_ok(self, token, name, version="1.0.0", extra="", files=None):
        res = self.client(token).publish(package(name, version, extra, files), name)
        self.assertEqual(res.exit, 0, res)
        return res

    def pub(self, method, path, **kw):
        return self.depot.request(method, PUB + path, **kw)

    def assertPubError(self, r, status, words=None):
        self.assertStatus(r, status)
        err = r.json()["error"]
        if words:
            self.assertIn(words.lower(), err["message"].lower(), r.describe())
        return err
