"""
webclient.py — a browser-shaped HTTP client for the dashboard's black-box tests: it keeps
cookies, reads the CSRF field out of forms, and posts HTML forms. Standard library only.

    w = WebClient(depot)
    page = w.get("/register")
    w.post("/register", {"username": "ann", ...}, csrf_from=page)   # 303, session cookie kept
"""

import io
import json
import re
import sys
import tarfile
import urllib.parse
import os

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "harness"))
from depot import bearer  # noqa: E402

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class WebClient:
    def __init__(self, depot):
        self.d = depot
        self.cookies = {}
        self.set_cookie_lines = []

    def _headers(self, extra):
        h = {"Accept": "text/html"}
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        h.update(extra or {})
        return h

    def _keep(self, r):
        for v in r.headers.get_all("Set-Cookie"):
            self.set_cookie_lines.append(v)
            name, val = v.split(";")[0].split("=", 1)
            if "Max-Age=0" in v:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = val
        return r

    def get(self, path, headers=None):
        return self._keep(self.d.get(path, headers=self._headers(headers)))

    def post(self, path, form, csrf_from=None, csrf=None, headers=None):
        fields = list(form.items()) if isinstance(form, dict) else list(form)
        if csrf is None and csrf_from is not None:
            csrf = csrf_of(csrf_from)
        if csrf is not None:
            fields.append(("csrf", csrf))
        body = urllib.parse.urlencode(fields, doseq=True)
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        return self._keep(self.d.request("POST", path, body=body, headers=self._headers(h)))

    def submit(self, form_page_path, action, form):
        """GETs a page with a form, then POSTs form to action with that page's CSRF token."""
        page = self.get(form_page_path)
        return self.post(action, form, csrf_from=page)

    def register(self, username, email, password="password123"):
        return self.submit("/register", "/register",
                           {"username": username, "email": email, "password": password})

    def login(self, login, password="password123"):
        return self.submit("/login", "/login", {"login": login, "password": password})

    def create_token(self, name, scopes=("read", "publish")):
        r = self.submit("/account", "/account/token-create",
                        [("name", name), ("expires_days", "30")] + [("scope", s) for s in scopes])
        m = re.search(r'id="new-token">([^<]+)<', r.text)
        return r, (m.group(1) if m else None)


def csrf_of(resp):
    m = CSRF.search(resp.text)
    if not m:
        raise AssertionError("no CSRF field in %s" % resp.describe(300))
    return m.group(1)


def tarball(files):
    """A .tar.gz of {name: text}."""
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w:gz") as t:
        for n, c in files.items():
            data = c.encode() if isinstance(c, str) else c
            ti = tarfile.TarInfo(n)
            ti.size = len(data)
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    return b.getvalue()


def publish_native(depot, token, name, version, readme="# %s\n\nA package.\n", deps=None, **manifest):
    meta = {"name": name, "version": version, "description": manifest.pop("description", "A test package"),
            "license": "MIT", "readme": "README.md", "dependencies": deps or {}}
    meta.update(manifest)
    tgz = tarball({"depot.json": json.dumps(meta),
                   "README.md": readme % name if "%s" in readme else readme})
    return depot.publish(tgz, auth=bearer(token))
