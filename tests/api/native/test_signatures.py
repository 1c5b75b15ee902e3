"""Signing keys (/api/v1/me/keys) and signed publishes: a signature must verify with one of the
publisher's registered Ed25519 keys over the tarball's exact bytes; packages may require
signatures. Keys and signatures are made with the openssl command line."""

import base64
import hashlib
import os

from apitest import RFC3339_UTC
from native.nativetest import PACKAGES, NativeTestCase, SigningKey, manifest, needs_openssl

KEYS = "/api/v1/me/keys"


@needs_openssl
class Signatures(NativeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._keys = []

    @classmethod
    def tearDownClass(cls):
        for k in cls._keys:
            k.close()
        super().tearDownClass()

    def key(self):
        k = SigningKey()
        type(self)._keys.append(k)
        return k

    def register_key(self, user, key, name=None):
        r = self.depot.post(KEYS, json={"name": name or self.uniq("key"),
                                        "public_key": key.public_b64}, auth=user.bearer)
        return r

    def signer(self):
        """A new user with one registered key."""
        u = self.new_user(prefix="sig")
        k = self.key()
        self.assertJSON(self.register_key(u, k), 201)
        return u, k

    def test_register_list_delete_key(self):
        u = self.new_user(prefix="sig")
        k = self.key()
        doc = self.assertJSON(self.register_key(u, k, "laptop"), 201)
        self.assertEqual(doc["name"], "laptop")
        self.assertEqual(doc["algorithm"], "ed25519")
        self.assertEqual(base64.b64decode(doc["public_key"]), k.public_raw)
        self.assertEqual(doc["key_id"], hashlib.sha256(k.public_raw).digest()[:8].hex())
        self.assertEqual(doc["key_id"], k.key_id)
        self.assertRegex(doc["created_at"], RFC3339_UTC)
        listed = self.assertJSON(self.depot.get(KEYS, auth=u.bearer))["keys"]
        self.assertEqual([x["key_id"] for x in listed], [k.key_id])
        # keys are per user
        other = self.new_user(prefix="sig")
        self.assertEqual(self.assertJSON(self.depot.get(KEYS, auth=other.bearer))["keys"], [])
        self.assertError(self.depot.delete(KEYS + "/" + k.key_id, auth=other.bearer), 404)
        self.assertError(self.depot.get(KEYS), 401)
        r = self.depot.delete(KEYS + "/" + k.key_id, auth=u.bearer)
        self.assertStatus(r, 204)
        self.assertEqual(self.assertJSON(self.depot.get(KEYS, auth=u.bearer))["keys"], [])
        self.assertError(self.depot.delete(KEYS + "/" + k.key_id, auth=u.bearer), 404)

    def test_bad_public_keys_are_422(self):
        u = self.new_user(prefix="sig")
        for pk in ("not base64 at all!!", base64.b64encode(os.urandom(31)).decode(),
                   base64.b64encode(os.urandom(33)).decode(),
                   base64.b64encode(os.urandom(64)).decode(), ""):
            with self.subTest(public_key=pk):
                r = self.depot.post(KEYS, json={"name": self.uniq("k"), "public_key": pk},
                                    auth=u.bearer)
                self.assertError(r, 422, field="public_key")
        self.assertError(self.depot.post(KEYS, json={"name": "x"}, auth=u.bearer), 400)
        self.assertError(self.depot.post(KEYS, json={"name": "x", "public_key": 5},
                                         auth=u.bearer), 400)
        self.assertEqual(self.assertJSON(self.depot.get(KEYS, auth=u.bearer))["keys"], [])

    def test_duplicate_key_is_409(self):
        u = self.new_user(prefix="sig")
        k = self.key()
        self.assertJSON(self.register_key(u, k), 201)
        self.assertError(self.register_key(u, k), 409)
        self.assertEqual(len(self.assertJSON(self.depot.get(KEYS, auth=u.bearer))["keys"]), 1)

    def test_signed_publish(self):
        u, k = self.signer()
        name = self.pkgname("signed")
        r, tb = self.publish(u.bearer, name, "1.0.0", signature=k)
        doc = self.assertJSON(r, 201)
        sig = doc["signature"]
        self.assertIsInstance(sig, dict, doc)
        self.assertEqual(sig["algorithm"], "ed25519")
        self.assertEqual(sig["key_id"], k.key_id)
        self.assertEqual(base64.b64decode(sig["signature"]), k.sign(tb))
        v = self.assertJSON(self.depot.get("%s/%s/versions/1.0.0" % (PACKAGES, name)))
        self.assertEqual(v["signature"], sig)
        for path in ("%s/%s/versions/1.0.0/download" % (PACKAGES, name),
                     "%s/%s/1.0.0/download" % (PACKAGES, name)):
            dl = self.depot.get(path)
            self.assertStatus(dl, 200)
            self.assertEqual(dl.body, tb)
            self.assertEqual(dl.headers.get("X-Signature-Key-Id"), k.key_id)
            self.assertEqual(base64.b64decode(dl.headers.get("X-Signature") or ""), k.sign(tb))
        res = self.assertJSON(self.resolve({name: "^1"}))["packages"][name]
        self.assertEqual(res["version"], "1.0.0")
        self.assertIn("signature", res)

    def test_signature_with_a_trailing_newline(self):
        u, k = self.signer()
        name = self.pkgname("signed")
        tb = self.tarball_for(name, "1.0.0")
        r, _ = self.publish(u.bearer, name, "1.0.0", tarball=tb,
                            signature=k.sign_b64(tb) + "\n")
        self.assertEqual(self.assertJSON(r, 201)["signature"]["key_id"], k.key_id)

    def test_signature_as_a_file_part(self):
        from depot import Part
        u, k = self.signer()
        name = self.pkgname("sigfile")
        tb = self.tarball_for(name, "1.0.0")
        r = self.depot.publish(tb, metadata=manifest(name), auth=u.bearer, extra_parts=[
            Part("signature", k.sign_b64(tb) + "\n", "package.tar.gz.sig")])
        self.assertEqual(self.assertJSON(r, 201)["signature"]["key_id"], k.key_id)

    def test_signature_by_an_unregistered_key_is_422(self):
        u, _ = self.signer()
        stranger_key = self.key()
        name = self.pkgname("unreg")
        r, _ = self.publish(u.bearer, name, "1.0.0", signature=stranger_key)
        self.assertError(r, 422, field="signature")
        self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)

    def test_signature_by_another_users_key_is_422(self):
        _, their_key = self.signer()
        me, _ = self.signer()
        name = self.pkgname("theirs")
        r, _ = self.publish(me.bearer, name, "1.0.0", signature=their_key)
        self.assertError(r, 422, field="signature")
        self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)

    def test_signature_over_other_bytes_is_422(self):
        u, k = self.signer()
        name = self.pkgname("other")
        tb = self.tarball_for(name, "1.0.0")
        sig = k.sign_b64(tb + b"\0")
        r, _ = self.publish(u.bearer, name, "1.0.0", tarball=tb, signature=sig)
        self.assertError(r, 422, field="signature")
        self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)

    def test_garbage_signatures_are_422(self):
        u, k = self.signer()
        name = self.pkgname("garbage")
        tb = self.tarball_for(name, "1.0.0")
        good = k.sign(tb)
        flipped = bytes([good[0] ^ 1]) + good[1:]
        for sig in ("not base64!!", base64.b64encode(os.urandom(64)).decode(),
                    base64.b64encode(good[:63]).decode(), base64.b64encode(good + b"x").decode(),
                    base64.b64encode(flipped).decode(), "AAAA"):
            with self.subTest(signature=sig):
                r, _ = self.publish(u.bearer, name, "1.0.0", tarball=tb, signature=sig)
                self.assertError(r, 422, field="signature")
        self.assertError(self.depot.get("%s/%s" % (PACKAGES, name)), 404)

    def test_require_signatures(self):
        u, k = self.signer()
        name = self.pkgname("req")
        self.published(u.bearer, name, "1.0.0")
        r = self.depot.request("PUT", "%s/%s/settings" % (PACKAGES, name),
                               json={"require_signatures": True}, auth=u.bearer)
        self.assertEqual(self.assertJSON(r), {"require_signatures": True})
        self.assertIs(self.package(name)["require_signatures"], True)
        r, _ = self.publish(u.bearer, name, "1.1.0")
        self.assertError(r, 422, field="signature")
        stranger_key = self.key()
        r, _ = self.publish(u.bearer, name, "1.1.0", signature=stranger_key)
        self.assertError(r, 422, field="signature")
        self.assertEqual(self.versions(name), ["1.0.0"])
        doc, _ = self.published(u.bearer, name, "1.1.0", signature=k)
        self.assertEqual(doc["signature"]["key_id"], k.key_id)
        # a bad settings body
        for body in ({}, {"require_signatures": "yes"}, {"require_signatures": 1}):
            with self.subTest(body=body):
                self.assertError(self.depot.request(
                    "PUT", "%s/%s/settings" % (PACKAGES, name), json=body, auth=u.bearer), 400)
        self.assertIs(self.package(name)["require_signatures"], True)
        # switched off again
        r = self.depot.request("PUT", "%s/%s/settings" % (PACKAGES, name),
                               json={"require_signatures": False}, auth=u.bearer)
        self.assertEqual(self.assertJSON(r), {"require_signatures": False})
        self.published(u.bearer, name, "1.2.0")

    def test_deleted_key_no_longer_verifies(self):
        u, k = self.signer()
        name = self.pkgname("del")
        self.published(u.bearer, name, "1.0.0", signature=k)
        self.assertStatus(self.depot.delete(KEYS + "/" + k.key_id, auth=u.bearer), 204)
        r, _ = self.publish(u.bearer, name, "1.1.0", signature=k)
        self.assertError(r, 422, field="signature")
        self.assertEqual(self.versions(name), ["1.0.0"])
        # what was signed before stays signed
        v = self.assertJSON(self.depot.get("%s/%s/versions/1.0.0" % (PACKAGES, name)))
        self.assertEqual(v["signature"]["key_id"], k.key_id)
        # a second key still works
        k2 = self.key()
        self.assertJSON(self.register_key(u, k2), 201)
        doc, _ = self.published(u.bearer, name, "1.1.0", signature=k2)
        self.assertEqual(doc["signature"]["key_id"], k2.key_id)

    def test_read_only_token_cannot_register_a_key(self):
        u = self.new_user(prefix="sig")
        secret, _ = self.make_token(u.bearer, ["read"])
        r = self.register_key(type("T", (), {"bearer": "Bearer " + secret})(), self.key())
        self.assertError(r, 403)
        self.assertEqual(self.assertJSON(self.depot.get(KEYS, auth=u.bearer))["keys"], [])
