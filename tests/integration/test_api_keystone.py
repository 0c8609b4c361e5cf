"""xs_api in keystone mode against the REAL Keystone: Debian's python3-keystone
(22.0.2) run by this test as its own process: SQLite and fernet keys in a temp
dir, keystone-manage db_sync / fernet_setup / bootstrap, then Keystone's own
WSGI application (keystone.server.wsgi.initialize_public_application) served
by Python's wsgiref on 127.0.0.1 with an ephemeral port. The full `keystone`
package (uwsgi, dbconfig-common, a system service) is not needed for this.

itest_api_host validates with the bootstrap admin as its service user."""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import test_api_clients  # noqa: E402
import xsm  # noqa: E402

PY = "/usr/bin/python3"
MANAGE = "/usr/bin/keystone-manage"
PASSWORD = "s3cret-admin"
SERVE = """
import os, sys, wsgiref.simple_server as wss
from keystone.server.wsgi import initialize_public_application
app = initialize_public_application()
class Quiet(wss.WSGIRequestHandler):
    def log_message(self, *a): pass
srv = wss.make_server('127.0.0.1', 0, app, handler_class=Quiet)
print(srv.server_port, flush=True)
srv.serve_forever()
"""


def have_keystone():
    return os.path.exists(MANAGE) and os.path.isdir("/usr/lib/python3/dist-packages/keystone")


def http(method, url, body=None, headers=None):
    req = urllib.request.Request(url, method=method, headers=headers or {},
                                 data=json.dumps(body).encode() if body is not None else None)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


@unittest.skipUnless(have_keystone(), "python3-keystone is not installed")
class RealKeystone(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="xs-keystone-")
        d = cls.dir
        conf = os.path.join(d, "keystone.conf")
        with open(conf, "w") as f:
            f.write("[DEFAULT]\nlog_dir = %s\n[database]\nconnection = sqlite:///%s/ks.db\n"
                    "[fernet_tokens]\nkey_repository = %s/fernet\n[fernet_receipts]\n"
                    "key_repository = %s/receipts\n[token]\nprovider = fernet\n"
                    % (d, d, d, d))
        env = dict(xsm.clean_env(), OS_KEYSTONE_CONFIG_FILES=conf, PATH="/usr/bin:/bin")
        for args in (["db_sync"],
                     ["fernet_setup", "--keystone-user", "root", "--keystone-group", "root"],
                     ["bootstrap", "--bootstrap-password", PASSWORD]):
            subprocess.run([MANAGE, "--config-file", conf] + args, check=True, env=env,
                           capture_output=True, cwd=d, timeout=240)
        cls.ks_log = open(os.path.join(d, "serve.log"), "w")
        cls.ks = subprocess.Popen([PY, "-c", SERVE], stdout=subprocess.PIPE,
                                  stderr=cls.ks_log, text=True, env=env, cwd=d)
        ready, _, _ = select.select([cls.ks.stdout], [], [], 120)
        cls.ks_url = "http://127.0.0.1:%d/v3" % int(cls.ks.stdout.readline())
        cls.admin_token, cls.admin_project = cls.login("admin", PASSWORD, "admin")
        cls.demo_project = cls.make_demo_user()
        cls.demo_token, _ = cls.login("demo", "demo-pw", "demo")
        cls.host = test_api_clients.ApiHost(env={
            "ITEST_KEYSTONE_URL": cls.ks_url, "ITEST_KEYSTONE_USER": "admin",
            "ITEST_KEYSTONE_PASSWORD": PASSWORD, "ITEST_KEYSTONE_PROJECT": "admin"})
        cls.api = "http://127.0.0.1:%d" % cls.host.port

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "host", None):
            cls.host.stop()
        cls.ks.send_signal(signal.SIGTERM)
        cls.ks.wait(timeout=30)
        cls.ks.stdout.close()
        cls.ks_log.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def login(cls, user, password, project):
        status, headers, body = http("POST", cls.ks_url + "/auth/tokens", {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}})
        assert status == 201, body
        return headers["X-Subject-Token"], json.loads(body)["token"]["project"]["id"]

    @classmethod
    def make_demo_user(cls):
        h = {"X-Auth-Token": cls.admin_token}
        _, _, body = http("POST", cls.ks_url + "/projects",
                          {"project": {"name": "demo", "domain_id": "default"}}, h)
        project = json.loads(body)["project"]["id"]
        _, _, body = http("POST", cls.ks_url + "/users", {"user": {
            "name": "demo", "domain_id": "default", "password": "demo-pw"}}, h)
        user = json.loads(body)["user"]["id"]
        _, _, body = http("GET", cls.ks_url + "/roles?name=member", None, h)
        role = json.loads(body)["roles"][0]["id"]
        status, _, _ = http("PUT", cls.ks_url + "/projects/%s/users/%s/roles/%s"
                            % (project, user, role), None, h)
        assert status == 204
        return project

    def test_no_token_is_401_with_www_authenticate(self):
        status, headers, body = http("GET", self.api + "/v3/identity")
        self.assertEqual(status, 401)
        self.assertEqual(headers["WWW-Authenticate"], 'Keystone uri="%s"' % self.ks_url)
        self.assertEqual(json.loads(body)["unauthorized"]["code"], 401)

    def test_bad_token_is_401(self):
        status, _, _ = http("GET", self.api + "/v3/identity", headers={"X-Auth-Token": "junk"})
        self.assertEqual(status, 401)

    def test_admin_and_member_tokens(self):
        status, _, body = http("GET", self.api + "/v3/identity",
                               headers={"X-Auth-Token": self.admin_token})
        self.assertEqual(status, 200, body)
        who = json.loads(body)
        self.assertEqual(who["project_id"], self.admin_project)
        self.assertTrue(who["is_admin"])
        for _ in range(2):      # the second from the cache
            status, _, body = http("GET", self.api + "/v3/%s/identity" % self.demo_project,
                                   headers={"X-Auth-Token": self.demo_token})
            self.assertEqual(status, 200, body)
            who = json.loads(body)
            self.assertEqual(who["project_id"], self.demo_project)
            self.assertFalse(who["is_admin"])

    def test_other_project_in_the_url_is_refused(self):
        status, _, body = http("GET", self.api + "/v3/%s/identity" % self.admin_project,
                               headers={"X-Auth-Token": self.demo_token})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["badRequest"]["message"], "Malformed request url")

    def test_version_documents_need_no_token(self):
        status, _, body = http("GET", self.api + "/")
        self.assertEqual(status, 300)
        self.assertEqual(json.loads(body)["versions"][0]["version"], "3.70")


if __name__ == "__main__":
    unittest.main(verbosity=2)
