"""
hextest.py — shared pieces of the Hex front's black-box tests: an Erlang external term format
codec (what mix and rebar3 put on the wire), Erlang term text for metadata.config, Hex package
tarballs (version 3) built the way hex_core builds them, the registry's gzip(Signed(protobuf))
decoded with a small protobuf reader, signatures checked with the openssl command line, and
HexTestCase, the base class whose response invariants are hex.pm's error shape.

The captures of the real clients are in tests/fixtures/hex (FIXTURES below).
"""

import gzip
import hashlib
import io
import json
import os
import struct
import subprocess
import tarfile
import tempfile

from apitest import DepotTestCase, error_body_problems, leak_problems  # noqa: F401

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FIXTURES = os.path.join(REPO_ROOT, "tests", "fixtures", "hex")

ETF = "application/vnd.hex+erlang"
API = "/hex/api"
REPO = "/hex/repo"
EPOCH_2000 = 946684800

# ---------------------------------------------------------------------------------------------
# Erlang external term format


class Atom(str):
    """An Erlang atom in a term to encode (True/False/None are true/false/nil)."""


def etf_encode(v, atom_tag=100):
    """term_to_binary of v: dicts as maps (str keys as binaries), str as binaries, bool/None as
    the atoms true/false/nil (ATOM_EXT as OTP 25 writes them, or atom_tag=119), ints, floats,
    lists, tuples."""
    return b"\x83" + _enc(v, atom_tag)


def _atom(name, tag):
    b = name.encode()
    if tag == 119:
        return bytes([119, len(b)]) + b
    return bytes([100]) + struct.pack(">H", len(b)) + b


def _enc(v, tag):
    if v is True:
        return _atom("true", tag)
    if v is False:
        return _atom("false", tag)
    if v is None:
        return _atom("nil", tag)
    if isinstance(v, Atom):
        return _atom(str(v), tag)
    if isinstance(v, int):
        if 0 <= v <= 255:
            return bytes([97, v])
        if -2**31 <= v < 2**31:
            return b"\x62" + struct.pack(">i", v)
        mag = abs(v).to_bytes((abs(v).bit_length() + 7) // 8, "little")
        return bytes([110, len(mag), 1 if v < 0 else 0]) + mag
    if isinstance(v, float):
        return b"\x46" + struct.pack(">d", v)
    if isinstance(v, bytes):
        return b"\x6d" + struct.pack(">I", len(v)) + v
    if isinstance(v, str):
        b = v.encode()
        return b"\x6d" + struct.pack(">I", len(b)) + b
    if isinstance(v, dict):
        out = b"\x74" + struct.pack(">I", len(v))
        for k, x in v.items():
            out += _enc(k, tag) + _enc(x, tag)
        return out
    if isinstance(v, tuple):
        return bytes([104, len(v)]) + b"".join(_enc(x, tag) for x in v)
    if isinstance(v, list):
        if not v:
            return b"\x6a"
        return b"\x6c" + struct.pack(">I", len(v)) + b"".join(_enc(x, tag) for x in v) + b"\x6a"
    raise TypeError(type(v))


class ETFError(ValueError):
    pass


def etf_decode(b, safe_atoms=("true", "false", "nil")):
    """binary_to_term: maps → dicts (binary keys → str), binaries → str (UTF-8) or bytes, atoms
    true/false/nil → True/False/None; any other atom raises when safe_atoms is given (a client
    decoding with [safe] would refuse it)."""
    if not b or b[0] != 131:
        raise ETFError("no version byte")
    v, i = _dec(b, 1, safe_atoms)
    if i != len(b):
        raise ETFError("trailing bytes")
    return v


def _dec(b, i, safe):
    t = b[i]
    i += 1
    if t == 97:
        return b[i], i + 1
    if t == 98:
        return struct.unpack(">i", b[i:i + 4])[0], i + 4
    if t == 110 or t == 111:
        if t == 110:
            n, sign = b[i], b[i + 1]
            i += 2
        else:
            n, sign = struct.unpack(">I", b[i:i + 4])[0], b[i + 4]
            i += 5
        v = int.from_bytes(b[i:i + n], "little")
        return (-v if sign else v), i + n
    if t == 70:
        return struct.unpack(">d", b[i:i + 8])[0], i + 8
    if t in (100, 118):
        n = struct.unpack(">H", b[i:i + 2])[0]
        name = b[i + 2:i + 2 + n].decode("latin-1" if t == 100 else "utf-8")
        return _atomv(name, safe), i + 2 + n
    if t in (115, 119):
        n = b[i]
        name = b[i + 1:i + 1 + n].decode("latin-1" if t == 115 else "utf-8")
        return _atomv(name, safe), i + 1 + n
    if t == 109:
        n = struct.unpack(">I", b[i:i + 4])[0]
        raw = b[i + 4:i + 4 + n]
        try:
            return raw.decode("utf-8"), i + 4 + n
        except UnicodeDecodeError:
            return raw, i + 4 + n
    if t == 106:
        return [], i
    if t == 107:
        n = struct.unpack(">H", b[i:i + 2])[0]
        return list(b[i + 2:i + 2 + n]), i + 2 + n
    if t == 108:
        n = struct.unpack(">I", b[i:i + 4])[0]
        i += 4
        out = []
        for _ in range(n):
            x, i = _dec(b, i, safe)
            out.append(x)
        if b[i] != 106:
            raise ETFError("improper list")
        return out, i + 1
    if t in (104, 105):
        if t == 104:
            n = b[i]
            i += 1
        else:
            n = struct.unpack(">I", b[i:i + 4])[0]
            i += 4
        out = []
        for _ in range(n):
            x, i = _dec(b, i, safe)
            out.append(x)
        return tuple(out), i
    if t == 116:
        n = struct.unpack(">I", b[i:i + 4])[0]
        i += 4
        out = {}
        for _ in range(n):
            k, i = _dec(b, i, safe)
            if not isinstance(k, str):
                raise ETFError("map key %r is not a binary" % (k,))
            v, i = _dec(b, i, safe)
            out[k] = v
        return out, i
    raise ETFError("tag %d" % t)


def _atomv(name, safe):
    if name == "true":
        return True
    if name == "false":
        return False
    if name == "nil":
        return None
    if safe:
        raise ETFError("atom %r would not decode with [safe]" % name)
    return Atom(name)


# ---------------------------------------------------------------------------------------------
# metadata.config and tarballs


def erl(v):
    """Erlang term text for v, as hex_core writes metadata.config: str → <<"..."/utf8>>,
    dict → list of 2-tuples, tuple → tuple, bool → atom."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Atom):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        esc = v.replace("\\", "\\\\").replace('"', '\\"')
        return '<<"%s"%s>>' % (esc, "/utf8" if any(ord(c) > 127 for c in v) else "")
    if isinstance(v, dict):
        return "[" + ",".join("{%s,%s}" % (erl(k), erl(x)) for k, x in v.items()) + "]"
    if isinstance(v, tuple):
        return "{" + ",".join(erl(x) for x in v) + "}"
    if isinstance(v, list):
        return "[" + ",".join(erl(x) for x in v) + "]"
    raise TypeError(type(v))


def metadata_config(meta):
    """metadata.config text: one {Key, Value}. line per key (meta: dict of key → value; a value
    of type Raw is written as it is)."""
    out = []
    for k in sorted(meta):
        v = meta[k]
        out.append("{%s,%s}.\n" % (erl(k), v.text if isinstance(v, Raw) else erl(v)))
    return "".join(out)


class Raw:
    """Erlang term text written as it is into metadata.config."""

    def __init__(self, text):
        self.text = text


def _tar(members, gz):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = EPOCH_2000
            ti.uid = ti.gid = 0
            t.addfile(ti, io.BytesIO(data))
    if not gz:
        return raw.getvalue()
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as g:
        g.write(raw.getvalue())
    return out.getvalue()


def requirement(name, req="~> 1.0", app=None, optional=False, repository=None):
    """One requirement in mix's shape (a kvlist with name)."""
    r = {"app": app or name, "name": name, "optional": optional, "requirement": req}
    if repository is not None:
        r["repository"] = repository
    return r


def hex_tarball(name, version, files=None, requirements=(), meta=None, shape="mix",
                version_file=b"3", checksum=None, members=None, description="A test package."):
    """A Hex package tarball (bytes) as hex_core builds it: VERSION, CHECKSUM (upper-case hex of
    SHA-256 over VERSION ‖ metadata.config ‖ contents.tar.gz), metadata.config, contents.tar.gz,
    every entry dated 2000-01-01 and owned by uid 0. requirements: mix-shaped dicts (see
    requirement()); shape="rebar3" writes rebar3_hex's {Name, Props} form. meta: extra or
    overriding metadata keys (None values drop a key). members: the outer members' names in
    order (a name not among the four is written with junk)."""
    files = files if files is not None else {
        "src/%s.erl" % name: "-module(%s).\n-export([hello/0]).\nhello() -> %s.\n" % (name, name),
        "rebar.config": "{erl_opts, [debug_info]}.\n",
        "README.md": "# %s\n" % name,
    }
    m = {"name": name, "version": version, "app": name, "description": description,
         "licenses": ["Apache-2.0"], "links": {"Source": "https://example.test/%s" % name},
         "files": sorted(files), "build_tools": ["rebar3"]}
    if shape == "rebar3":
        m["requirements"] = [(r["name"], {k: v for k, v in r.items() if k != "name"})
                             for r in requirements]
    else:
        m["requirements"] = [dict(r) for r in requirements]
    for k, v in (meta or {}).items():
        if v is None:
            m.pop(k, None)
        else:
            m[k] = v
    metadata = metadata_config(m).encode()
    contents = _tar([(p, d.encode() if isinstance(d, str) else d) for p, d in sorted(files.items())],
                    True)
    inner = hashlib.sha256(version_file + metadata + contents).hexdigest().upper()
    data = {"VERSION": version_file, "CHECKSUM": (checksum or inner).encode(),
            "metadata.config": metadata, "contents.tar.gz": contents}
    order = members or ["VERSION", "CHECKSUM", "metadata.config", "contents.tar.gz"]
    return _tar([(n, data.get(n, b"junk")) for n in order], False)


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def inner_checksum(tarball):
    with tarfile.open(fileobj=io.BytesIO(tarball)) as t:
        return t.extractfile("CHECKSUM").read().decode().lower()


# ---------------------------------------------------------------------------------------------
# protobuf (only what the registry resources use)


def pb_fields(b):
    """[(field number, value)]: varints as int, length-delimited as bytes."""
    i, out = 0, []

    def varint():
        nonlocal i
        r = s = 0
        while True:
            c = b[i]
            i += 1
            r |= (c & 0x7f) << s
            s += 7
            if c < 0x80:
                return r

    while i < len(b):
        key = varint()
        f, wt = key >> 3, key & 7
        if wt == 0:
            out.append((f, varint()))
        elif wt == 2:
            n = varint()
            out.append((f, b[i:i + n]))
            i += n
        elif wt == 1:
            out.append((f, b[i:i + 8]))
            i += 8
        elif wt == 5:
            out.append((f, b[i:i + 4]))
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
    return out


def pb_get(fields, n, default=None):
    for f, v in fields:
        if f == n:
            return v
    return default


def pb_all(fields, n):
    return [v for f, v in fields if f == n]


def packed_varints(b):
    out, i = [], 0
    while i < len(b):
        r = s = 0
        while True:
            c = b[i]
            i += 1
            r |= (c & 0x7f) << s
            s += 7
            if c < 0x80:
                break
        out.append(r)
    return out


def verify_signature(pem, payload, signature):
    """openssl dgst -sha512 -verify: True when the RSA signature verifies."""
    with tempfile.TemporaryDirectory() as d:
        for n, data in (("pub.pem", pem), ("payload", payload), ("sig", signature)):
            with open(os.path.join(d, n), "wb") as f:
                f.write(data if isinstance(data, bytes) else data.encode())
        p = subprocess.run(["openssl", "dgst", "-sha512", "-verify", os.path.join(d, "pub.pem"),
                            "-signature", os.path.join(d, "sig"), os.path.join(d, "payload")],
                           capture_output=True)
        return p.returncode == 0


def open_registry(body, pem=None):
    """gunzip + Signed → (payload bytes, signature); checks the signature when pem is given."""
    signed = pb_fields(gzip.decompress(body))
    payload, sig = pb_get(signed, 1), pb_get(signed, 2)
    if pem is not None and not verify_signature(pem, payload, sig):
        raise AssertionError("the registry resource's signature does not verify")
    return payload, sig


def decode_package(payload):
    """Package payload → {name, repository, releases: [{version, inner, outer, deps, retired}]}."""
    f = pb_fields(payload)
    rels = []
    for rb in pb_all(f, 1):
        r = pb_fields(rb)
        deps = []
        for db in pb_all(r, 3):
            d = pb_fields(db)
            deps.append({"package": pb_get(d, 1).decode(), "requirement": pb_get(d, 2).decode(),
                         "optional": pb_get(d, 3), "app": (pb_get(d, 4) or b"").decode() or None,
                         "repository": (pb_get(d, 5) or b"").decode() or None})
        ret = pb_get(r, 4)
        retired = None
        if ret is not None:
            rf = pb_fields(ret)
            retired = {"reason": pb_get(rf, 1, 0), "message": (pb_get(rf, 2) or b"").decode() or None}
        rels.append({"version": pb_get(r, 1).decode(), "inner": pb_get(r, 2), "outer": pb_get(r, 5),
                     "deps": deps, "retired": retired})
    return {"name": pb_get(f, 2).decode(), "repository": pb_get(f, 3).decode(), "releases": rels}


# ---------------------------------------------------------------------------------------------
# the base class


class HexTestCase(DepotTestCase):
    """A depot with a user who owns a full Hex API key (self.key: publish:hex manage:hex, what
    `mix hex.user auth` makes) — what HEX_API_KEY holds."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.depot is not None:
            cls.owner = cls.register_user(cls.depot, prefix="hexowner")
            r = cls.depot.create_token(cls.owner.bearer, "hex-key", ["publish:hex", "manage:hex"])
            if r.status != 201:
                raise AssertionError("cannot make a token: %s" % r.describe())
            cls.key = r.json()["token"]

    # ---- requests -------------------------------------------------------------------------

    def api(self, method, path, body=None, key=None, accept=ETF, ctype=None, headers=None,
            raw=None):
        """A Hex API request as mix sends it: `accept: application/vnd.hex+erlang`, the raw key in
        `authorization`, an ETF body (body: a term) or raw bytes (raw=)."""
        h = {"Accept": accept} if accept else {}
        if key:
            h["Authorization"] = key
        data = None
        if body is not None:
            data = etf_encode(body)
            h["Content-Type"] = ctype or ETF
        elif raw is not None:
            data = raw
            h["Content-Type"] = ctype or "application/octet-stream"
        h.update(headers or {})
        return self.depot.request(method, API + path, body=data, headers=h)

    def term(self, r):
        """The decoded body of a Hex API answer (ETF or JSON by its content type)."""
        ct = (r.headers.get("Content-Type") or "").lower()
        if ETF in ct:
            return etf_decode(r.body)
        return r.json()

    def publish(self, tarball, key=None, name=None, replace=False, path=None):
        q = "?replace=%s" % ("true" if replace else "false")
        p = path or ("/packages/%s/releases%s" % (name, q) if name else "/publish" + q)
        return self.api("POST", p, raw=tarball, key=key or self.key)

    def published(self, name, version="1.0.0", key=None, **kw):
        """Publishes a tarball and asserts 201; returns the tarball."""
        t = hex_tarball(name, version, **kw)
        r = self.publish(t, key=key, name=name)
        self.assertStatus(r, 201)
        return t

    def assertHexError(self, r, status, field=None, message=None):
        """r is a Hex error of status: {status, message, errors?}; field: a key errors must have."""
        self.assertStatus(r, status)
        t = self.term(r)
        self.assertIsInstance(t, dict, r.describe())
        self.assertEqual(t.get("status"), status, r.describe())
        self.assertIsInstance(t.get("message"), str, r.describe())
        if field is not None:
            self.assertIn(field, t.get("errors") or {}, "errors should name %r: %r" % (field, t))
        if message is not None:
            text = json.dumps(t)
            self.assertIn(message, text, r.describe())
        return t

    def repo_get(self, path, **kw):
        return self.depot.request("GET", REPO + path, **kw)

    def public_key(self):
        r = self.repo_get("/public_key")
        self.assertStatus(r, 200)
        return r.body

    def registry_package(self, name):
        r = self.repo_get("/packages/%s" % name)
        self.assertStatus(r, 200)
        payload, _ = open_registry(r.body, self.public_key())
        return decode_package(payload)

    # ---- invariants -----------------------------------------------------------------------

    @staticmethod
    def invariant_problems(r):
        path = (r.path or "").split("?")[0]
        if not path.startswith("/hex/"):
            return DepotTestCase.invariant_problems(r)
        out = []
        if not r.headers.get("X-Request-Id"):
            out.append("no X-Request-Id header")
        if r.status >= 400:
            ct = (r.headers.get("Content-Type") or "").lower()
            try:
                t = etf_decode(r.body) if ETF in ct else json.loads(r.body.decode())
            except Exception as ex:  # noqa: BLE001
                t = None
                out.append("error body does not decode (%s)" % ex)
            # The router's own 404/405 and the server's limits (413, 414, 431, 429) keep the
            # generic shape; everything a Hex handler answers has hex.pm's.
            generic = isinstance(t, dict) and isinstance(t.get("error"), dict)
            if t is not None and not generic:
                if not isinstance(t, dict) or t.get("status") != r.status or \
                        not isinstance(t.get("message"), str) or not t.get("message"):
                    out.append("error body is not {status, message}: %r" % (t,))
                elif "errors" in t and not isinstance(t["errors"], dict):
                    out.append("errors is not a map")
            out.extend(leak_problems(r))
        if r.status == 401 and not r.headers.get_all("WWW-Authenticate"):
            out.append("401 without WWW-Authenticate")
        if r.status == 405 and not r.headers.get("Allow"):
            out.append("405 without Allow")
        return out
