"""POST /api/v1/auth/register: the user it returns, every kind of bad input, conflicts,
closed registration, and the first user becoming an admin."""

import json
import threading

from apitest import DepotTestCase

REG = "/api/v1/auth/register"


class Register(DepotTestCase):

    def body(self, **over):
        name = self.uniq("r")
        b = {"username": name, "email": name + "@example.com", "password": "correct horse"}
        b.update(over)
        return b

    def test_first_user_is_admin_and_later_ones_are_not(self):
        # setUpClass registered the class's first user
        me = self.assertJSON(self.depot.get("/api/v1/me", auth=self.admin.bearer))
        self.assertIs(me["is_admin"], True, "the first user registered should be an admin")
        self.assertIs(self.admin.data["is_admin"], True)
        u = self.new_user()
        self.assertIs(u.data["is_admin"], False)

    def test_201_returns_the_user(self):
        b = self.body()
        r = self.depot.post(REG, json=b)
        u = self.assertJSON(r, 201)
        self.assertUserShape(u, b["username"], b["email"])
        self.assertIs(u["is_admin"], False)
        self.assertNotIn(b["password"], r.text, "the password must not be echoed")

    def test_json_content_type_with_charset_is_accepted(self):
        r = self.depot.post(REG, json=self.body(),
                            headers={"Content-Type": "application/json; charset=utf-8"})
        self.assertJSON(r, 201)

    def test_malformed_json_is_400(self):
        for raw in (b'{"username": "x",', b"not json", b"", b"{}}", b'{"a":1} trailing',
                    b"\xff\xfe{}"):
            with self.subTest(body=raw):
                r = self.depot.post(REG, body=raw, headers={"Content-Type": "application/json"})
                self.assertError(r, 400)

    def test_body_that_is_not_an_object_is_400(self):
        for raw in (b"[]", b"null", b"42", b'"user"', b"[1,2]"):
            with self.subTest(body=raw):
                r = self.depot.post(REG, body=raw, headers={"Content-Type": "application/json"})
                self.assertError(r, 400)

    def test_wrong_types_are_400(self):
        for field, value in (("username", 123), ("username", ["a"]), ("username", True),
                             ("email", 5), ("email", {"a": 1}), ("password", 12345678),
                             ("password", ["correct horse"]), ("password", False)):
            with self.subTest(field=field, value=value):
                self.assertError(self.depot.post(REG, json=self.body(**{field: value})), 400)

    def test_null_fields_are_rejected(self):
        for field in ("username", "email", "password"):
            with self.subTest(field=field):
                self.assertError(self.depot.post(REG, json=self.body(**{field: None})),
                                 (400, 422))

    def test_missing_fields_are_400(self):
        for field in ("username", "email", "password"):
            with self.subTest(field=field):
                b = self.body()
                del b[field]
                self.assertError(self.depot.post(REG, json=b), 400)

    def test_bad_usernames_are_422_naming_the_field(self):
        for name in ("", "-lead", "_lead", "a" * 40, "has space", "bang!", "dot.ted", "sl/ash",
                     "\u00fcmlaut", "trailing\n", "tab\tx", "at@sign"):
            with self.subTest(username=name):
                r = self.depot.post(REG, json=self.body(username=name))
                self.assertError(r, 422, field="username")

    def test_edge_valid_usernames(self):
        long_name = ("A" + self.uniq("b")).ljust(39, "x")
        for name in (long_name, "x-" + self.uniq("y_"), "9" + self.uniq("Z")):
            with self.subTest(username=name):
                self.assertEqual(len(name) <= 39, True)
                r = self.depot.post(REG, json=self.body(username=name,
                                                        email=self.uniq("e") + "@example.com"))
                self.assertJSON(r, 201)

    def test_one_character_username(self):
        # a single character is the shortest allowed name; it may already be taken by another
        # run of this test on the same server, so pick one from a few
        for c in "qwertyuiop":
            r = self.depot.post(REG, json=self.body(username=c,
                                                    email=self.uniq("e") + "@example.com"))
            if r.status == 201:
                return
            self.assertError(r, 409)
        self.fail("no single-character username was accepted")

    def test_bad_emails_are_422_naming_the_field(self):
        for email in ("", "plainaddress", "no-at.example.com", "two@@example.com",
                      "@example.com", "user@", "user@example", "user @example.com",
                      "user@exa mple.com", "user@.com"):
            with self.subTest(email=email):
                r = self.depot.post(REG, json=self.body(email=email))
                self.assertError(r, 422, field="email")

    def test_password_length_is_in_bytes_8_to_1024(self):
        self.assertError(self.depot.post(REG, json=self.body(password="")), 422,
                         field="password")
        self.assertError(self.depot.post(REG, json=self.body(password="1234567")), 422,
                         field="password")
        self.assertError(self.depot.post(REG, json=self.body(password="a" * 1025)), 422,
                         field="password")
        # 513 two-byte characters: 513 characters but 1026 bytes
        self.assertError(self.depot.post(REG, json=self.body(password="\u00e9" * 513)), 422,
                         field="password")
        self.assertJSON(self.depot.post(REG, json=self.body(password="12345678")), 201)
        self.assertJSON(self.depot.post(REG, json=self.body(password="a" * 1024)), 201)
        # 4 two-byte characters are 8 bytes
        b = self.body(password="\u00e9" * 4)
        self.assertJSON(self.depot.post(REG, json=b), 201)
        self.assertJSON(self.depot.login(b["username"], b["password"]))

    def test_1024_byte_password_logs_in_and_1025_does_not_match(self):
        b = self.body(password="p" * 1024)
        self.assertJSON(self.depot.post(REG, json=b), 201)
        self.assertJSON(self.depot.login(b["username"], "p" * 1024))
        self.assertError(self.depot.login(b["username"], "p" * 1023), 401)

    def test_duplicate_username_ignoring_case_is_409(self):
        b = self.body()
        self.assertJSON(self.depot.post(REG, json=b), 201)
        for name in (b["username"], b["username"].upper(), b["username"].capitalize()):
            with self.subTest(username=name):
                r = self.depot.post(REG, json=self.body(username=name))
                self.assertError(r, 409)

    def test_duplicate_email_ignoring_case_is_409(self):
        b = self.body()
        self.assertJSON(self.depot.post(REG, json=b), 201)
        for email in (b["email"], b["email"].upper()):
            with self.subTest(email=email):
                r = self.depot.post(REG, json=self.body(email=email))
                self.assertError(r, 409)

    def test_conflict_leaves_the_first_account_intact(self):
        b = self.body()
        self.assertJSON(self.depot.post(REG, json=b), 201)
        self.assertError(self.depot.post(REG, json=self.body(username=b["username"],
                                                             password="other password")), 409)
        self.assertJSON(self.depot.login(b["username"], b["password"]))
        self.assertError(self.depot.login(b["username"], "other password"), 401)

    def test_concurrent_registrations_of_one_name(self):
        name = self.uniq("race")
        results = []

        def one(i):
            results.append(self.depot.post(REG, json=self.body(
                username=name if i % 2 == 0 else name.upper(),
                email="%s-%d@example.com" % (name, i))))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        statuses = sorted(r.status for r in results)
        self.assertEqual(len(results), 12)
        self.assertEqual(statuses.count(201), 1, "exactly one should win: %s" % statuses)
        self.assertEqual(statuses.count(409), 11, "the others should be 409: %s" % statuses)

    def test_concurrent_distinct_registrations(self):
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            self.depot.post(REG, json=self.body()))) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(sorted(r.status for r in results), [201] * 16)
        ids = [r.json()["id"] for r in results]
        self.assertEqual(len(set(ids)), 16, "ids should be distinct: %s" % ids)

    def test_non_json_content_type_is_415(self):
        b = self.body()
        for ct in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
            with self.subTest(content_type=ct):
                r = self.depot.post(REG, body=json.dumps(b), headers={"Content-Type": ct})
                self.assertError(r, 415)

    def test_alias_under_api(self):
        b = self.body()
        u = self.assertJSON(self.depot.post("/api/auth/register", json=b), 201)
        self.assertUserShape(u, b["username"], b["email"])


class ClosedRegistration(DepotTestCase):
    depot_args = ("--registration", "closed")
    create_admin = False

    def test_register_is_403(self):
        r = self.depot.register("closedone", "closedone@example.com", "correct horse")
        self.assertError(r, 403)

    def test_admin_cli_still_adds_users_who_can_log_in(self):
        u = self.cli_user()
        me = self.assertJSON(self.depot.get("/api/v1/me", auth=u.bearer))
        self.assertEqual(me["username"], u.username)
