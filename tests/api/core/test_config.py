"""Configuration precedence: a flag beats a DEPOT_* variable, which beats the --config file.
Observed through the JWT lifetime (login's expires_at) and open/closed registration."""

import time

from apitest import DepotTestCase, parse_time


class ConfigPrecedence(DepotTestCase):
    start_server = False

    def server(self, env=None, args=(), config=None):
        d = self.make_depot(extra_args=args, env=env,
                            config=config if config is not None
                            else {"jwt-ttl": "1000", "registration": "closed"})
        u = self.cli_user(depot=d, login=False)
        return d, u

    def ttl(self, d, u):
        body = self.assertJSON(d.login(u.username, u.password))
        return parse_time(body["expires_at"]) - time.time()

    def registration(self, d):
        name = self.uniq("cfg")
        r = d.register(name, name + "@example.com", "correct horse")
        self.assertStatus(r, 201, 403)
        return "open" if r.status == 201 else "closed"

    def assertTTL(self, got, want):
        self.assertTrue(want - 10 <= got <= want + 2, "JWT lifetime %.0fs, want %ds" % (got, want))

    def test_config_file_alone(self):
        d, u = self.server()
        self.assertTTL(self.ttl(d, u), 1000)
        self.assertEqual(self.registration(d), "closed")

    def test_env_beats_config_file(self):
        d, u = self.server(env={"DEPOT_JWT_TTL": "2000", "DEPOT_REGISTRATION": "open"})
        self.assertTTL(self.ttl(d, u), 2000)
        self.assertEqual(self.registration(d), "open")

    def test_flag_beats_env_and_config_file(self):
        d, u = self.server(env={"DEPOT_JWT_TTL": "2000", "DEPOT_REGISTRATION": "open"},
                           args=("--jwt-ttl", "3000", "--registration", "closed"))
        self.assertTTL(self.ttl(d, u), 3000)
        self.assertEqual(self.registration(d), "closed")

    def test_flag_beats_config_file(self):
        d, u = self.server(args=("--jwt-ttl", "3000", "--registration", "open"))
        self.assertTTL(self.ttl(d, u), 3000)
        self.assertEqual(self.registration(d), "open")

    def test_env_alone(self):
        d, u = self.server(env={"DEPOT_JWT_TTL": "1500", "DEPOT_REGISTRATION": "closed"},
                           config="")
        self.assertTTL(self.ttl(d, u), 1500)
        self.assertEqual(self.registration(d), "closed")

    def test_config_file_with_comments_and_blank_lines(self):
        d, u = self.server(config="# depot settings\n\njwt-ttl = 1200\n  registration=closed  \n")
        self.assertTTL(self.ttl(d, u), 1200)
        self.assertEqual(self.registration(d), "closed")

    def test_bad_config_file_fails_to_start(self):
        d = self.make_depot(start=False, config="no-such-key = 1\n")
        with self.assertRaises(Exception) as cm:
            d.start()
        self.assertIn("no-such-key", str(cm.exception),
                      "the error should name the unknown key")
