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
import sqlite3
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import osclients  # noqa: E402
import test_api_clients  # noqa: E402
import xsm  # noqa: E402

PY = DEBIAN_PY = "/usr/bin/python3"
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


class Keystone:
    """Debian's Keystone, started once for the module (setUpModule)."""

    @classmethod
    def start(cls):
        cls.dir = tempfile.mkdtemp(prefix="xs-keystone-")
        d = cls.dir
        conf = os.path.join(d, "keystone.conf")
        with open(conf, "w") as f:
            f.write("[DEFAULT]\nlog_dir = %s\n[database]\nconnection = sqlite:///%s/ks.db\n"
                    "[fernet_tokens]\nkey_repository = %s/fernet\n[fernet_receipts]\n"
                    "key_repository = %s/receipts\n[token]\nprovider = fernet\n"
                    # bcrypt's fewest rounds: every client run logs in.
                    "[identity]\npassword_hash_rounds = 4\n"
                    % (d, d, d, d))
        env = dict(xsm.clean_env(), OS_KEYSTONE_CONFIG_FILES=conf, PATH="/usr/bin:/bin")
        for args in (["db_sync"],
                     ["fernet_setup", "--keystone-user", "root", "--keystone-group", "root"],
                     ["bootstrap", "--bootstrap-password", PASSWORD]):
            subprocess.run([MANAGE, "--config-file", conf] + args, check=True, env=env,
                           capture_output=True, cwd=d, timeout=240)
            if args == ["db_sync"]:
                # WAL (kept in the file): creating an endpoint reads and writes
                # on two connections in one request, which the rollback
                # journal answers with "database is locked".
                with sqlite3.connect(os.path.join(d, "ks.db")) as db:
                    db.execute("PRAGMA journal_mode=WAL")
        cls.ks_log = open(os.path.join(d, "serve.log"), "w")
        cls.ks = subprocess.Popen([PY, "-c", SERVE], stdout=subprocess.PIPE,
                                  stderr=cls.ks_log, text=True, env=env, cwd=d)
        ready, _, _ = select.select([cls.ks.stdout], [], [], 120)
        assert ready, "Keystone did not start"
        cls.ks_url = "http://127.0.0.1:%d/v3" % int(cls.ks.stdout.readline())
        cls.admin_token, cls.admin_project = cls.login("admin", PASSWORD, "admin")
        cls.demo_project = cls.make_demo_user()
        cls.demo_token, _ = cls.login("demo", "demo-pw", "demo")

    @classmethod
    def log_tail(cls):
        cls.ks_log.flush()
        with open(os.path.join(cls.dir, "serve.log")) as f:
            served = f.read()[-3000:]
        path = os.path.join(cls.dir, "keystone.log")
        if not os.path.exists(path):
            return served
        with open(path) as f:
            return served + f.read()[-3000:]

    @classmethod
    def stop(cls):
        if getattr(cls, "ks", None) is None:
            return
        cls.ks.send_signal(signal.SIGTERM)
        cls.ks.wait(timeout=30)
        cls.ks.stdout.close()
        cls.ks_log.close()
        shutil.rmtree(cls.dir, ignore_errors=True)
        cls.ks = None

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



def setUpModule():
    if have_keystone():
        Keystone.start()


def tearDownModule():
    Keystone.stop()


@unittest.skipUnless(have_keystone(), "python3-keystone is not installed")
class RealKeystone(unittest.TestCase):
    """The phase A host (itest_api_host) validating against Keystone."""

    @classmethod
    def setUpClass(cls):
        cls.ks_url = Keystone.ks_url
        cls.admin_token, cls.admin_project = Keystone.admin_token, Keystone.admin_project
        cls.demo_token, cls.demo_project = Keystone.demo_token, Keystone.demo_project
        cls.host = test_api_clients.ApiHost(env={
            "ITEST_KEYSTONE_URL": cls.ks_url, "ITEST_KEYSTONE_USER": "admin",
            "ITEST_KEYSTONE_PASSWORD": PASSWORD, "ITEST_KEYSTONE_PROJECT": "admin"})
        cls.api = "http://127.0.0.1:%d" % cls.host.port

    @classmethod
    def tearDownClass(cls):
        cls.host.stop()

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


def client_env(home, user, password, project):
    """The clients' environment for password authentication with the real
    Keystone (the password in OS_PASSWORD, never in argv)."""
    return {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "XDG_CACHE_HOME": os.path.join(home, ".cache"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "OS_AUTH_URL": Keystone.ks_url, "OS_IDENTITY_API_VERSION": "3",
            "OS_USERNAME": user, "OS_PASSWORD": password, "OS_PROJECT_NAME": project,
            "OS_USER_DOMAIN_ID": "default", "OS_PROJECT_DOMAIN_ID": "default",
            "OS_INTERFACE": "public"}


class _ClassCleanups:
    def __init__(self, cls):
        self.cls = cls

    def addCleanup(self, fn, *args, **kwargs):
        self.cls.addClassCleanup(fn, *args, **kwargs)


@unittest.skipUnless(have_keystone(), "python3-keystone is not installed")
@unittest.skipUnless(os.path.exists("/usr/bin/openstack"), "openstackclient is not installed")
class CatalogWithRealKeystone(unittest.TestCase):
    """A real xensm-catalogd (api_auth = keystone), four agents and the
    simulator, found by the unmodified clients through Keystone's service
    catalog, users authenticated by password: the setup of docs/API.md."""

    @classmethod
    def setUpClass(cls):
        ks = Keystone
        cls.workdir = tempfile.mkdtemp(prefix="xsm-api-ks-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        pw = os.path.join(cls.workdir, "keystone.pw")
        with open(pw, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(pw, 0o600)
        cls.w = xsm.World(_ClassCleanups(cls), cls.workdir, catalog_cfg=(
            "api_auth = keystone\nkeystone_url = %s\nkeystone_user = admin\n"
            "keystone_project = admin\nkeystone_password_file = %s\n" % (ks.ks_url, pw)))
        w = cls.w
        w.ok("sm", "flavor_create", "gold", "NFS in za")
        w.ok("--yes", "sm", "backend_add", "gold", "nfs", "name_label=gold-1",
             "server=filer", "serverpath=/g1", "zone=za")
        w.wait_attached({"za": 1})
        h = {"X-Auth-Token": ks.admin_token}
        # No image service: openstackclient's `volume create` needs Glance in
        # the catalog (it builds an image client for --image), so creates go
        # through cinder and the SDK here (docs/API.md).
        for name, kind in (("cinderv3", "volumev3"), ("xensm", "block-storage")):
            status, _, body = http("POST", ks.ks_url + "/services",
                                   {"service": {"name": name, "type": kind, "enabled": True}}, h)
            assert status == 201, (body, Keystone.log_tail())
            service = json.loads(body)["service"]["id"]
            status, _, body = http("POST", ks.ks_url + "/endpoints", {"endpoint": {
                "service_id": service, "interface": "public",
                "url": w.api_root + "/v3/%(project_id)s"}}, h)
            assert status == 201, (body, Keystone.log_tail())
        cls.home = tempfile.mkdtemp(prefix="xs-osclients-")
        cls.addClassCleanup(shutil.rmtree, cls.home, True)

    def openstack(self, user, password, project, *args, check=True, program="openstack"):
        argv = [program] + list(args)
        r = subprocess.run(argv, env=client_env(self.home, user, password, project),
                           capture_output=True, text=True, timeout=180,
                           stdin=subprocess.DEVNULL)
        if check:
            self.assertEqual(r.returncode, 0, "%s\n%s\n%s" % (argv, r.stdout, r.stderr))
        return r

    @osclients.real_clients
    def test_users_create_list_and_delete_through_the_service_catalog(self):
        demo = ("demo", "demo-pw", "demo")
        admin = ("admin", PASSWORD, "admin")
        types = json.loads(self.openstack(*admin, "volume", "type", "list", "-f", "json").stdout)
        self.assertEqual([t["Name"] for t in types], ["gold"])
        table = osclients.parse_table(self.openstack(
            *demo, "create", "--volume-type", "gold", "--name", "web", "1",
            program="/usr/bin/cinder").stdout)
        made = {row["Property"]: row["Value"] for row in table}
        self.assertEqual((made["volume_type"], made["size"]), ("gold", "1"))
        vol = self.w.volumes()[made["id"]]
        self.assertEqual(vol["project"], Keystone.demo_project)
        shown = json.loads(self.openstack(*demo, "volume", "show", made["id"],
                                          "-f", "json").stdout)
        self.assertEqual((shown["status"], shown["size"]), ("available", 1), shown)
        mine = json.loads(self.openstack(*demo, "volume", "list", "-f", "json").stdout)
        self.assertEqual([v["ID"] for v in mine], [made["id"]])
        # The SDK, by password, through the catalog's block-storage endpoint.
        sdk = self.openstack(*demo, "-c", (
            "import openstack\nconn = openstack.connect()\n"
            "v = conn.create_volume(size=1, volume_type='gold', name='db', wait=True)\n"
            "print('SDK', v.id, v.status)\nconn.delete_volume(v.id, wait=True)\n"
            "print('GONE', conn.get_volume(v.id))\n"), program=DEBIAN_PY).stdout.split()
        self.assertEqual((sdk[0], sdk[2], sdk[3:]), ("SDK", "available", ["GONE", "None"]))
        self.assertNotIn(sdk[1], self.w.tagged_vdis())
        # The admin's project holds none of it; a wrong password gets no token.
        theirs = json.loads(self.openstack(*admin, "volume", "list", "-f", "json").stdout)
        self.assertNotIn(made["id"], [v["ID"] for v in theirs])
        bad = self.openstack("demo", "wrong-pw", "demo", "volume", "list", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("401", bad.stderr)
        # A member may not make volume types (the admin role may).
        denied = self.openstack(*demo, "volume", "type", "create", "platinum", check=False)
        self.assertNotEqual(denied.returncode, 0)
        self.assertIn("403", denied.stderr)
        self.openstack(*demo, "volume", "delete", made["id"])
        self.assertEqual(json.loads(self.openstack(*demo, "volume", "list", "-f", "json")
                                    .stdout), [])
        self.assertNotIn(made["id"], self.w.tagged_vdis())
        self.assertNotIn(PASSWORD, self.w.catalogd.log())

    def test_tokens_create_list_and_delete_over_http(self):
        """What the clients do above, over raw HTTP with Keystone's tokens
        (runs in the AddressSanitizer pass too, XENSM_TEST_CLIENTS=off)."""
        demo = {"X-Auth-Token": Keystone.demo_token}
        admin = {"X-Auth-Token": Keystone.admin_token}
        base = self.w.api_root + "/v3/" + Keystone.demo_project
        st, _, body = http("POST", base + "/volumes", {"volume": {
            "size": 1, "volume_type": "gold", "name": "raw"}}, demo)
        self.assertEqual(st, 202, body)
        uuid = json.loads(body)["volume"]["id"]
        self.assertEqual(self.w.volumes()[uuid]["project"], Keystone.demo_project)

        def status():
            st, _, body = http("GET", base + "/volumes/" + uuid, None, demo)
            self.assertIn(st, (200, 404), body)
            return json.loads(body)["volume"]["status"] if st == 200 else None
        self.w.wait_until("raw available", lambda: status() == "available", timeout=60)
        st, _, body = http("GET", base + "/volumes", None, demo)
        self.assertIn(uuid, [v["id"] for v in json.loads(body)["volumes"]])
        # The admin's project holds none of it; no token, a bad one: 401.
        st, _, body = http("GET", "%s/v3/%s/volumes" % (self.w.api_root, Keystone.admin_project),
                           None, admin)
        self.assertEqual(st, 200, body)
        self.assertNotIn(uuid, [v["id"] for v in json.loads(body)["volumes"]])
        self.assertEqual(http("GET", base + "/volumes")[0], 401)
        self.assertEqual(http("GET", base + "/volumes", None, {"X-Auth-Token": "junk"})[0], 401)
        # A member may not make volume types.
        st, _, body = http("POST", base + "/types", {"volume_type": {"name": "platinum"}}, demo)
        self.assertEqual(st, 403, body)
        st, _, body = http("DELETE", base + "/volumes/" + uuid, None, demo)
        self.assertEqual(st, 202, body)
        self.w.wait_until("raw deleted", lambda: status() is None
                          and uuid not in self.w.tagged_vdis(), timeout=60)
        self.assertNotIn(PASSWORD, self.w.catalogd.log())


if __name__ == "__main__":
    unittest.main(verbosity=2)
