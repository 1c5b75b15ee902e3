"""
dartpub.py — a Dart-free stand-in for the `dart pub` client (get, publish, token add), for
black-box tests of depot's pub front. It sends the client's requests byte for byte as the pub
fact sheet's Appendix A gives them (lower-case header names, `accept:
application/vnd.pub.v2+json` only on the API calls, the multipart body of package:http with a
`dart-http-boundary-` boundary, the fields in JSON order and the file last), and it checks
what the real client checks, failing with the real client's words:

  - listing: 404 is "could not find package"; a body that is not JSON, or a field of the wrong
    type, is "Got badly formatted response"; pubspec.name must equal the requested name;
    pubspec.version must be a string; archive_url must be absolute; archive_sha256 is 64 hex;
    the body is decoded with the Content-Type's charset (latin1 when there is none);
  - download: dart:io gunzips any `content-encoding: gzip` body before the client hashes it;
    the SHA-256 must equal archive_sha256; the archive's own pubspec.yaml must name the same
    package and version; duplicate or escaping paths are a format error;
  - publish: versions/new must give a string `url` and an object `fields` of strings; the POST
    must answer 2xx/3xx with a `location`, which must be absolute; the finalize answer must be
    {"success":{"message":str}} (exit 0) or a 4xx {"error":{"message":str}} on the hosted
    origin (exit 1); 401/403 anywhere end the command with "Authentication failed!" (exit 65),
    showing the message of the first `Bearer realm="pub"` challenge when the whole
    WWW-Authenticate header parses;
  - the token is sent only to URLs under the hosted URL, and must match [a-zA-Z0-9._~+/=-]+.

Sources: dart-lang/pub lib/src/{http,source/hosted,command/lish,authentication/client,
authentication/credential}.dart; dart-lang/http pkgs/http/lib/src/multipart_request.dart and
pkgs/http_parser/lib/src/authentication_challenge.dart. None of their code is copied here.
"""

import gzip
import hashlib
import io
import json
import random
import re
import socket
import tarfile
import time
import urllib.parse

import apitest  # noqa: F401,E402  (puts tests/harness on sys.path)
from depot import RawConn  # noqa: E402

BOUNDARY_CHARS = "+_-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN_RE = re.compile(r"^[a-zA-Z0-9._~+/=-]+$")
HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
TCHAR = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# pub_semver's complete version pattern
VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)(-([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?"
                        r"(\+([0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*))?$")


class PubError(Exception):
    """A failure the real client would report; .exit is its exit code, str() its words."""

    def __init__(self, message, exit_code=1, response=None):
        super().__init__(message)
        self.exit = exit_code
        self.response = response


class PackageNotFound(PubError):
    pass


class AuthFailure(PubError):
    """401/403: .status, .server_message (None when the challenge did not parse)."""

    def __init__(self, message, status, server_message, response):
        super().__init__(message, 65, response)
        self.status = status
        self.server_message = server_message


class Result:
    def __init__(self, exit_code, lines, message=None):
        self.exit = exit_code
        self.lines = lines
        self.message = message

    @property
    def output(self):
        return "\n".join(self.lines)

    def __repr__(self):
        return "<pub exit %d: %s>" % (self.exit, self.output[:500])


# ---------------------------------------------------------------------------------------------
# WWW-Authenticate, as http_parser's AuthenticationChallenge.parseHeader reads it


def _skip_ws(s, i):
    while i < len(s) and s[i] in " \t":
        i += 1
    return i


def _token(s, i):
    j = i
    while j < len(s) and s[j] in TCHAR:
        j += 1
    return s[i:j], j


def _quoted(s, i):
    assert s[i] == '"'
    i += 1
    out = []
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s):
                raise ValueError("dangling backslash")
            out.append(s[i + 1])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise ValueError("unterminated quoted-string")


def parse_challenges(header):
    """[(scheme lower-cased, {param lower-cased: value})]; raises ValueError when any part of
    the list is malformed (the client then drops the message)."""
    s, i, out = header, 0, []
    while True:
        while i < len(s) and s[i] in " \t,":
            i += 1
        if i >= len(s):
            break
        scheme, i = _token(s, i)
        if not scheme:
            raise ValueError("expected a scheme at %r" % s[i:])
        if i < len(s) and s[i] not in " \t,":
            raise ValueError("a space must follow the scheme")
        i = _skip_ws(s, i)
        params = {}
        while i < len(s):
            save = i
            name, j = _token(s, i)
            if not name:
                break
            j = _skip_ws(s, j)
            if j >= len(s) or s[j] != "=":
                i = save  # the next challenge's scheme
                break
            j = _skip_ws(s, j + 1)
            if j < len(s) and s[j] == '"':
                value, j = _quoted(s, j)
            else:
                value, j = _token(s, j)
                if not value:
                    raise ValueError("expected a value for %s" % name)
            params[name.lower()] = value
            i = _skip_ws(s, j)
            if i >= len(s):
                break
            if s[i] != ",":
                raise ValueError("expected ',' at %r" % s[i:])
            i += 1
            while i < len(s) and s[i] in " \t,":
                i += 1
        out.append((scheme.lower(), params))
    return out


def sanitize(msg):
    """The client's sanitizeForTerminal: code points 32..127 kept, others a space; 1024 max."""
    return "".join(c if 32 <= ord(c) <= 127 else " " for c in msg)[:1024]


def server_message(resp):
    """The message the client shows for a 401/403, or None."""
    values = resp.headers.get_all("WWW-Authenticate")
    if not values:
        return None
    try:
        chs = parse_challenges(",".join(values))
    except ValueError:
        return None
    for scheme, params in chs:
        if scheme == "bearer" and params.get("realm") == "pub" and "message" in params:
            return sanitize(params["message"])
    return None


# ---------------------------------------------------------------------------------------------
# Hosted URLs


def normalize_hosted_url(url):
    """validateAndNormalizeHostedUrl: http(s), a host, no user-info/query/fragment; path '/'
    becomes empty, a non-empty path gets a trailing '/'."""
    u = urllib.parse.urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise PubError("url must be http or https with a host: %s" % url)
    if u.username or u.password or u.query or u.fragment:
        raise PubError("url must not have user-info, a query or a fragment: %s" % url)
    path = u.path
    if path in ("", "/"):
        path = ""
    elif not path.endswith("/"):
        path += "/"
    return "%s://%s%s" % (u.scheme, u.netloc, path)


def decode_body(resp):
    """package:http's Response.body: the charset of the Content-Type, else latin1 (utf-8 for
    exactly application/json since http 1.4)."""
    ct = resp.headers.get("Content-Type") or ""
    m = re.search(r"charset=\"?([\w-]+)", ct, re.I)
    if m:
        return resp.body.decode(m.group(1))
    if ct.split(";")[0].strip().lower() == "application/json":
        return resp.body.decode("utf-8")
    return resp.body.decode("latin-1")


# ---------------------------------------------------------------------------------------------
# The client


class DartPub:
    """One `dart pub` user: a hosted URL and, optionally, a stored token (`dart pub token add`).

    depot: the harness Depot the requests go to (whatever host the URLs name: the socket always
    connects to the test server, the `host` header carries the URL's authority, as behind a
    reverse proxy). Every response is appended to depot.responses for the invariant checks."""

    def __init__(self, depot, hosted_url, token=None, sdk="3.5.0", capitalized=False,
                 proxy_strip=""):
        self.depot = depot
        self.proxy_strip = proxy_strip  # a path prefix the "reverse proxy" removes
        self.hosted = normalize_hosted_url(hosted_url)
        self.sdk = sdk
        self.capitalized = capitalized  # package:http 1.7 preserves header case
        self.token = None
        self.lines = []
        self.requests = []   # (method, url, headers list, body) as sent
        if token is not None:
            self.token_add(token)

    # ---- dart pub token add -----------------------------------------------------------------

    def token_add(self, token):
        u = urllib.parse.urlsplit(self.hosted)
        if u.scheme != "https" and u.hostname not in ("localhost", "127.0.0.1", "::1"):
            raise PubError("url must be https://, insecure repositories cannot use authentication")
        if not TOKEN_RE.match(token):
            raise PubError("The entered token is not a valid Bearer token. A token may only "
                           "contain `a-zA-Z0-9._~+/=-`")
        self.token = token

    def can_authenticate(self, url):
        base = self.hosted if self.hosted.endswith("/") else self.hosted + "/"
        return url.lower().startswith(base.lower())

    # ---- HTTP -------------------------------------------------------------------------------

    def _h(self, name):
        if not self.capitalized:
            return name
        return "-".join(p[:1].upper() + p[1:] for p in name.split("-"))

    def send(self, method, url, api=False, body=None, content_type=None):
        """One request as dart:io sends it; returns the harness Response."""
        u = urllib.parse.urlsplit(url)
        if not u.scheme or not u.netloc:
            # dart:io: ArgumentError, a crash, not a retry
            raise PubError("Invalid argument(s): No host specified in URI %s" % url, 1)
        target = u.path or "/"
        if self.proxy_strip and target.startswith(self.proxy_strip + "/"):
            target = target[len(self.proxy_strip):]
        if u.query:
            target += "?" + u.query
        headers = [(self._h("user-agent"), "Dart pub %s" % self.sdk)]
        if api:
            headers.append((self._h("accept"), "application/vnd.pub.v2+json"))
        if self.token and self.can_authenticate(url):
            headers.append((self._h("authorization"), "Bearer " + self.token))
        headers.append((self._h("accept-encoding"), "gzip"))
        if body is not None:
            headers.append((self._h("content-type"), content_type))
            headers.append((self._h("content-length"), str(len(body))))
        headers.append((self._h("host"), u.netloc))
        head = "%s %s HTTP/1.1\r\n" % (method, target)
        head += "".join("%s: %s\r\n" % kv for kv in headers) + "\r\n"
        data = head.encode("latin-1") + (body or b"")
        self.requests.append((method, url, headers, body))
        with RawConn(self.depot.host, self.depot.port, timeout=30) as c:
            c.send(data)
            r = c.read_response(30)
        if r is None:
            raise PubError("Connection closed before full header was received", 1)
        r.method, r.path = method, target
        self.depot.responses.append(r)
        r.wire_body = r.body
        if (r.headers.get("Content-Encoding") or "").lower() == "gzip":
            r.body = gzip.decompress(r.body)  # dart:io's autoUncompress, for every response
        return r

    def get(self, url, api=False):
        """A GET with dart:io's redirect handling (at most 5 hops); Authorization is re-decided
        for each hop's URL (it is dropped for other domains)."""
        for _ in range(6):
            r = self.send("GET", url, api=api)
            if r.status in (301, 302, 303, 307, 308) and r.headers.get("Location"):
                url = urllib.parse.urljoin(url, r.headers["Location"])
                continue
            return r, url
        raise PubError("Redirect limit exceeded", 1)

    def _auth_failure(self, r, publishing):
        msg = server_message(r)
        lines = []
        if r.status == 401:
            lines += ["%s package repository requested authentication!" % self.hosted.rstrip("/"),
                      "You can provide credentials using:",
                      "    dart pub token add %s" % self.hosted.rstrip("/")]
            if self.token:
                lines.append("Invalid token for %s deleted." % self.hosted.rstrip("/"))
                self.token = None
        else:
            lines += ["Insufficient permissions to the resource at the %s package repository."
                      % self.hosted.rstrip("/"),
                      "You can modify credentials using:",
                      "    dart pub token add %s" % self.hosted.rstrip("/")]
        if msg:
            lines.append(msg)
        if publishing:
            lines.append("Authentication failed!")
        self.lines += lines
        return AuthFailure("\n".join(lines), r.status, msg, r)

    def _check(self, r, publishing=False):
        if r.status in (401, 403):
            raise self._auth_failure(r, publishing)
        if r.status >= 500 or r.status in (408, 429):
            # the client would retry 7 times over ~25 s; a test server never should need it
            raise PubError("intermittent HTTP %d (the client retries this)" % r.status, 1, r)

    # ---- pub get ----------------------------------------------------------------------------

    def listing(self, name):
        """GET api/packages/<name> and the client's checks; returns the decoded object."""
        url = urllib.parse.urljoin(self.hosted, "api/packages/" + urllib.parse.quote(name, safe=""))
        r, _ = self.get(url, api=True)
        self._check(r)
        where = "%s at %s" % (name, self.hosted.rstrip("/"))
        if r.status == 404:
            raise PackageNotFound("could not find package %s" % where, 1, r)
        if r.status == 406:
            raise PubError("Pub %s is incompatible with the current version of %s." % (
                self.sdk, urllib.parse.urlsplit(url).hostname), 1, r)
        if r.status >= 400:
            raise PubError("%d %s trying to find package %s." % (r.status, r.reason, where), 1, r)
        bad = PubError("Got badly formatted response trying to find package %s" % where, 1, r)
        try:
            doc = json.loads(decode_body(r))
        except ValueError:
            raise bad
        if not isinstance(doc, dict) or not isinstance(doc.get("versions"), list):
            raise bad
        for k, typ in (("isDiscontinued", bool), ("replacedBy", str), ("advisoriesUpdated", str)):
            if k in doc and doc[k] is not None and not isinstance(doc[k], typ):
                raise bad
        if isinstance(doc.get("advisoriesUpdated"), str) and not re.match(
                r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$",
                doc["advisoriesUpdated"]):
            raise bad
        for v in doc["versions"]:
            if not isinstance(v, dict) or not isinstance(v.get("pubspec"), dict) \
                    or not isinstance(v.get("archive_url"), str):
                raise bad
            sha = v.get("archive_sha256")
            if sha is not None and (not isinstance(sha, str) or not HEX64.match(sha)):
                raise bad
            if "retracted" in v and not isinstance(v["retracted"], bool):
                raise bad
            ps = v["pubspec"]
            if ps.get("name") != name:
                raise PubError('The name "%s" in the pubspec of %s does not match the package %s'
                               % (ps.get("name"), where, name), 1, r)
            ver = ps.get("version")
            if not isinstance(ver, str) or not VERSION_RE.match(ver):
                raise PubError("Error on line 1: \"version\" field must be a version string, got "
                               "%r" % (ver,), 1, r)
        return doc

    def download(self, name, version):
        """A fresh listing, then the archive from its archive_url; returns the archive bytes
        after the client's checks (hash, then the archive's own pubspec)."""
        doc = self.listing(name)
        entry = None
        for v in doc["versions"]:
            if v["pubspec"]["version"] == version:
                entry = v
        if entry is None:
            raise PubError("%s has no version %s" % (name, version), 1)
        url = entry["archive_url"]
        u = urllib.parse.urlsplit(url)
        if not u.scheme or not u.netloc:
            raise PubError("Invalid argument(s): No host specified in URI %s" % url, 1)
        r, _ = self.get(url, api=False)
        self._check(r)
        if r.status == 404:
            raise PackageNotFound("could not find package %s at %s" % (name, self.hosted), 1, r)
        if r.status != 200:
            raise PubError("HTTP %d downloading %s" % (r.status, url), 1, r)
        body = r.body  # already gunzipped by "dart:io" when the server sent Content-Encoding
        sha = entry.get("archive_sha256")
        if sha and hashlib.sha256(body).hexdigest() != sha.lower():
            raise PubError("Downloaded archive for %s-%s had wrong content-hash. This indicates a "
                           "problem on the package repository: `%s`." % (name, version, self.hosted),
                           1, r)
        files = extract(body)
        yaml = files.get("pubspec.yaml")
        if yaml is None:
            raise PubError("Could not find a file named \"pubspec.yaml\" in %s %s" % (name, version))
        top = top_level_scalars(yaml.decode("utf-8"))
        if top.get("name") != name:
            raise PubError('The name "%s" in the archive of %s %s does not match' % (
                top.get("name"), name, version))
        if top.get("version") != version:
            raise PubError("the pubspec for %s has version %s" % (name, top.get("version")))
        return body

    # ---- pub publish ------------------------------------------------------------------------

    def boundary(self):
        return "dart-http-boundary-" + "".join(random.choice(BOUNDARY_CHARS) for _ in range(51))

    @staticmethod
    def multipart(fields, archive, boundary):
        """package:http's MultipartRequest body: each field in order, then the file."""
        def enc(s):
            return s.replace("\r\n", "%0D%0A").replace("\r", "%0D").replace("\n", "%0A") \
                .replace('"', "%22")
        out = []
        for k, v in fields:
            head = 'content-disposition: form-data; name="%s"' % enc(k)
            if any(ord(c) > 127 for c in v):
                head += "\r\ncontent-type: text/plain; charset=utf-8" \
                        "\r\ncontent-transfer-encoding: binary"
            out.append(("--%s\r\n%s\r\n\r\n" % (boundary, head)).encode("utf-8")
                       + v.encode("utf-8") + b"\r\n")
        out.append(("--%s\r\ncontent-type: application/octet-stream\r\ncontent-disposition: "
                    'form-data; name="file"; filename="package.tar.gz"\r\n\r\n'
                    % boundary).encode() + archive + b"\r\n")
        out.append(("--%s--\r\n" % boundary).encode())
        return b"".join(out)

    def publish(self, archive, name=None):
        """`dart pub publish --force`: the pre-check listing (404 is fine), then the three steps.
        Returns a Result (exit 0 success, 1 rejection, 65 authentication)."""
        self.lines = []
        try:
            if name:
                try:
                    self.listing(name)
                except PackageNotFound:
                    pass
                except AuthFailure:
                    pass  # the validator wraps 401/403 as "not found" too
            msg = self._publish(archive)
            return Result(0, self.lines, msg)
        except AuthFailure as e:
            return Result(65, self.lines, e.server_message)
        except PubError as e:
            if str(e) not in self.lines:
                self.lines.append(str(e))
            return Result(e.exit, self.lines, getattr(e, "server_msg", None))

    def _publish(self, archive):
        url = urllib.parse.urljoin(self.hosted, "api/packages/versions/new")
        r, _ = self.get(url, api=True)
        self._check(r, publishing=True)
        if r.status != 200:
            raise PubError("HTTP %d from %s" % (r.status, url), 1, r)
        try:
            form = json.loads(decode_body(r))
        except ValueError:
            form = None
        if not isinstance(form, dict) or not isinstance(form.get("url"), str) \
                or not isinstance(form.get("fields"), dict) \
                or not all(isinstance(v, str) for v in form["fields"].values()):
            raise PubError("Invalid server response:\n%s" % r.text, 1, r)
        boundary = self.boundary()
        body = self.multipart(list(form["fields"].items()), archive, boundary)
        r = self.send("POST", form["url"], body=body,
                      content_type="multipart/form-data; boundary=" + boundary)
        self._check(r, publishing=True)
        location = r.headers.get("Location")
        if not (200 <= r.status < 400) or not location:
            raise PubError("Failed to upload the package.", 1, r)
        u = urllib.parse.urlsplit(location)
        if not u.scheme or not u.netloc:
            raise PubError("Invalid argument(s): No host specified in URI %s" % location, 1, r)
        r, final_url = self.get(location, api=True)
        self._check(r, publishing=True)
        try:
            doc = json.loads(decode_body(r)) if r.body else None
        except ValueError:
            doc = None
        if 200 <= r.status < 300:
            if not isinstance(doc, dict) or not isinstance(doc.get("success"), dict) \
                    or not isinstance(doc["success"].get("message"), str):
                raise PubError("Invalid server response:\n%s" % r.text, 1, r)
            msg = sanitize(doc["success"]["message"])
            self.lines.append("Message from server: " + msg)
            return msg
        same_origin = origin(final_url) == origin(self.hosted)
        if same_origin and isinstance(doc, dict) and isinstance(doc.get("error"), dict) \
                and isinstance(doc["error"].get("message"), str):
            msg = sanitize(doc["error"]["message"])
            self.lines.append("Message from server: " + msg)
            e = PubError("Message from server: " + msg, 1, r)
            e.server_msg = msg
            raise e
        if same_origin:
            raise PubError("Invalid server response:\n%s" % r.text, 1, r)
        raise PubError("HTTP %d" % r.status, 1, r)


def origin(url):
    u = urllib.parse.urlsplit(url)
    port = u.port or (443 if u.scheme == "https" else 80)
    return (u.scheme, (u.hostname or "").lower(), port)


# ---------------------------------------------------------------------------------------------
# Archives


def extract(data):
    """{path: bytes} of a .tar.gz as the client's extractTarGz takes it: a duplicate path or one
    escaping the target is a FormatException; links and other entries are skipped."""
    files = {}
    seen = set()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        for m in t.getmembers():
            name = m.name
            norm = "/".join(p for p in name.split("/") if p not in ("", "."))
            if name.startswith("/") or ".." in norm.split("/"):
                raise PubError("Invalid archive: %s is outside the target" % name)
            if norm in seen:
                raise PubError("Invalid archive: duplicate entry %s" % name)
            seen.add(norm)
            if m.isfile():
                files[norm] = t.extractfile(m).read()
    return files


def top_level_scalars(yaml_text):
    """The plain or quoted top-level scalar values of a simple pubspec (name, version)."""
    out = {}
    for line in yaml_text.splitlines():
        m = re.match(r"^([A-Za-z_][\w]*):\s*(.*?)\s*$", line)
        if m:
            v = m.group(2)
            if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"":
                v = v[1:-1]
            out[m.group(1)] = v
    return out


def pub_archive(files, long_names=True):
    """A .tar.gz as `dart pub publish` packs it (io.dart createTarGz): GNU tar with
    ././@LongLink entries for long names, a directory entry for every folder (0755), files 0644,
    owner `pub`. files: {path: bytes|str}, or a list of (path, data) to keep an order (and to
    make duplicates)."""
    items = list(files.items()) if isinstance(files, dict) else list(files)
    dirs = []
    for path, _ in items:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d and d not in dirs and ".." not in d and not d.startswith("/"):
                dirs.append(d)
    raw = io.BytesIO()
    fmt = tarfile.GNU_FORMAT if long_names else tarfile.USTAR_FORMAT
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as t:
        for d in dirs:
            ti = tarfile.TarInfo(d)
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o755
            ti.uname = ti.gname = "pub"
            ti.mtime = 1700000000
            t.addfile(ti)
        for path, data in items:
            if isinstance(data, str):
                data = data.encode()
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            ti.mode = 0o644
            ti.uname = ti.gname = "pub"
            ti.mtime = 1700000000
            t.addfile(ti, io.BytesIO(data))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as g:
        g.write(raw.getvalue())
    return out.getvalue()


def pubspec_yaml(name, version="1.0.0", extra=""):
    return ("name: %s\nversion: %s\ndescription: The %s package, for tests.\n"
            "environment:\n  sdk: '>=3.0.0 <4.0.0'\n%s" % (name, version, name, extra))


def package(name, version="1.0.0", extra="", files=None):
    """A typical package archive: pubspec.yaml, README.md, CHANGELOG.md, LICENSE, lib/."""
    f = {"pubspec.yaml": pubspec_yaml(name, version, extra),
         "README.md": "# %s\n\nA package.\n" % name,
         "CHANGELOG.md": "## %s\n\n- Initial version.\n" % version,
         "LICENSE": "Copyright (c) the authors. BSD-3-Clause.\n",
         "lib/%s.dart" % name: "int answer() => 42;\n"}
    f.update(files or {})
    return pub_archive(f)


def wait_until(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


__all__ = ["DartPub", "PubError", "PackageNotFound", "AuthFailure", "Result", "parse_challenges",
           "server_message", "pub_archive", "pubspec_yaml", "package", "extract", "socket"]
