"""Hosted docs in a real browser: headless Chromium opens a package's docs URL (following the
redirects), and the page reports what its sandbox let it do. Skipped when no Chromium is
installed (Debian's `chromium` package)."""

import os
import shutil
import subprocess
import unittest

from docs.test_docs import DocsCase, tar_with_dirs

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>t</title>
<link rel="stylesheet" href="css/site.css"></head>
<body><pre id="out"></pre>
<script>
function note(s) { document.getElementById('out').textContent += s + '\\n'; }
note('origin=' + self.origin);
try { note('cookie=' + document.cookie); } catch (e) { note('cookie blocked'); }
try { localStorage.setItem('x', '1'); note('storage ok'); } catch (e) { note('storage blocked'); }
fetch('data/index.json').then(r => r.json()).then(j => note('fetch ' + j.v))
  .catch(e => note('fetch FAIL'));
fetch('/api/v1/me').then(r => note('api read ' + r.status)).catch(e => note('api blocked'));
setTimeout(function () {
  note('color=' + getComputedStyle(document.body).color); note('done'); }, 500);
</script>
<img src="img/pic.svg" onload="note('img ok')" onerror="note('img FAIL')">
<script src="js/app.js"></script>
<script type="module" src="js/mod.js"></script>
</body></html>"""

FILES = [
    ("index.html", PAGE),
    ("css/site.css", "body { color: rgb(1, 2, 3) }"),
    ("js/app.js", "note('classic ok');"),
    ("js/mod.js", "note('module ok');"),
    ("data/index.json", '{"v": 42}'),
    ("img/pic.svg", '<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2"></svg>'),
]


@unittest.skipUnless(CHROMIUM, "no chromium here (apt-get install chromium)")
class Browser(DocsCase):

    def dom(self, url):
        p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                            "--no-first-run", "--user-data-dir=" + os.path.join(
                                self.depot.root, "chromium"),
                            "--virtual-time-budget=5000", "--dump-dom", url],
                           capture_output=True, text=True, timeout=90)
        # what the page noted: the text of <pre id="out"> (the scripts' source follows it)
        start = p.stdout.find('<pre id="out">')
        end = p.stdout.find("</pre>", start)
        return p.stdout[start:end] if start >= 0 and end > start else p.stdout

    def test_sandboxed_site_works_and_is_isolated(self):
        name = self.uniq("web")
        self.published(self.owner.bearer, name, "1.0.0")
        self.assertJSON(self.upload(name, "1.0.0", tar_with_dirs(FILES)), 201)
        out = self.dom("%s/docs/native/%s" % (self.depot.url, name))
        self.assertIn("done", out, out[-2000:])
        for want in ("origin=null", "cookie blocked", "storage blocked", "img ok", "classic ok",
                     "module ok", "fetch 42", "color=rgb(1, 2, 3)"):
            self.assertIn(want, out, out[-2000:])
        # the page cannot read the API's answers (its requests are cross-origin)
        self.assertIn("api blocked", out, out[-2000:])
        self.assertNotIn("api read", out, out[-2000:])
