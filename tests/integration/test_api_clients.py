"""Phase A of the Block Storage API, proved with the real clients.

itest_api_host serves xs_api (xs_http + router + version documents + stub
routes) on a zloop; Debian's cinder, openstack and openstacksdk discover it,
list (following next links through 2,500 volumes), show, create (an answer
given later from a timer), and see Cinder's errors; over http on 127.0.0.1
and [::1] and over https with a certificate made here by openssl.
"""
import os
import re
import json
import select
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import osclients  # noqa: E402
import xsm  # noqa: E402

HOST = xsm.program("itest_api_host")


class ApiHost:
    """One itest_api_host; stopped (SIGTERM, waited for) by stop ()."""

    def __init__(self, listen="127.0.0.1:0", cert=None, key=None, env=None):
        argv = [HOST, listen] + ([cert, key] if cert else [])
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=xsm.clean_env(**(env or {})))
        ready, _, _ = select.select([self.proc.stdout], [], [], xsm.READY_TIMEOUT)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError("itest_api_host did not start: %r %s" % (line, self.stderr))
        self.port = int(line.split()[1])
        self.stderr = ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        _, self.stderr = self.proc.communicate(timeout=30)
        return self.proc.returncode


@unittest.skipUnless(osclients.have_clients(), "the OpenStack clients are not installed")
class RealClients(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.host = ApiHost()
        cls.root = "http://127.0.0.1:%d" % cls.host.port
        cls.clients = osclients.Clients(cls.root)

    @classmethod
    def tearDownClass(cls):
        cls.clients.close()
        assert cls.host.stop() == 0, cls.host.stderr

    @osclients.real_clients
    def test_cinder_discovery_and_list(self):
        out = self.clients.cinder("version-list").stdout
        self.assertIn("3.70", out)
        rows = self.clients.cinder_table("list")
        self.assertEqual(sorted(r["Name"] for r in rows), ["vol-1", "vol-2", "vol-3"])
        self.assertEqual({r["Volume Type"] for r in rows}, {"gold"})

    @osclients.real_clients
    def test_cinder_with_the_project_in_the_url(self):
        rows = self.clients.cinder_table("list", project_in_url=True)
        self.assertEqual(len(rows), 3)
        shown = self.clients.cinder_table("show", "00000000-0000-4000-8000-000000000002")
        fields = {r["Property"]: r["Value"] for r in shown}
        self.assertEqual(fields["name"], "vol-2")
        self.assertEqual(fields["status"], "available")

    @osclients.real_clients
    def test_cinder_type_list(self):
        rows = self.clients.cinder_table("type-list")
        self.assertEqual([r["Name"] for r in rows], ["gold"])

    @osclients.real_clients
    def test_cinder_sees_cinder_errors(self):
        r = self.clients.cinder("show", "6f4a2b3c-0000-4000-8000-00000000dead", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("No volume with a name or ID of", r.stderr)
        # A fault from the server, shown as the clients show Cinder's:
        r = self.clients.cinder("create", "--name", "x" * 300, "1", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Invalid input for field/attribute name", r.stderr)
        self.assertIn("(HTTP 400)", r.stderr)

    @osclients.real_clients
    def test_openstack_volume_commands(self):
        vols = self.clients.openstack_json("volume", "list")
        self.assertEqual(sorted(v["Name"] for v in vols), ["vol-1", "vol-2", "vol-3"])
        shown = self.clients.openstack_json("volume", "show", "vol-1")
        self.assertEqual(shown["id"], "00000000-0000-4000-8000-000000000001")
        types = self.clients.openstack_json("volume", "type", "list")
        self.assertEqual([t["Name"] for t in types], ["gold"])
        zones = self.clients.openstack_json("availability", "zone", "list", "--volume")
        self.assertEqual(zones[0]["Zone Name"], "za")

    @osclients.real_clients
    def test_openstack_volume_create_answered_later(self):
        created = self.clients.openstack_json("volume", "create", "--size", "2", "web")
        self.assertEqual(created["name"], "web")
        self.assertEqual(created["status"], "creating")
        self.assertEqual(created["size"], 2)

    @osclients.real_clients
    def test_openstack_error_message(self):
        r = self.clients.openstack("volume", "show", "no-such-volume", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("No volume with a name or ID of 'no-such-volume' exists", r.stderr)

    @osclients.real_clients
    def test_sdk_discovery_list_and_create(self):
        out = self.clients.sdk(
            "ep = conn.block_storage.get_endpoint_data()\n"
            "out['min'] = str(ep.min_microversion)\n"
            "out['max'] = str(ep.max_microversion)\n"
            "out['names'] = sorted(v.name for v in conn.block_storage.volumes())\n"
            "v = conn.block_storage.create_volume(size=1, name='sdk')\n"
            "out['created'] = [v.name, v.status]\n")
        self.assertEqual(out["min"], "(3, 0)")
        self.assertEqual(out["max"], "(3, 70)")
        self.assertEqual(out["names"], ["vol-1", "vol-2", "vol-3"])
        self.assertEqual(out["created"], ["sdk", "creating"])

    def test_metrics_text(self):
        with urllib.request.urlopen(self.root + "/metrics", timeout=30) as r:
            self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
            self.assertRegex(r.headers["x-openstack-request-id"], r"^req-[0-9a-f-]{36}$")
            text = r.read().decode()
        self.assertIn("# TYPE xensm_api_create_seconds histogram", text)
        self.assertRegex(text, r'xensm_api_create_seconds_bucket\{route="volume.create",'
                               r'le="\+Inf"\} \d+')


def get(url, context=None, method="GET", body=None):
    """(status, parsed JSON) of one request."""
    req = urllib.request.Request(url, method=method, data=None if body is None else
                                 json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60, context=context) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def make_cert(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


class RawHttp(unittest.TestCase):
    """What the clients above do, request by request over urllib, against the
    same host: in every pass, and what drives xs_http, the router, paging,
    the version documents and the faults in the AddressSanitizer pass
    (XENSM_TEST_CLIENTS=off)."""

    @classmethod
    def setUpClass(cls):
        cls.host = ApiHost(env={"ITEST_VOLUMES": "2500"})
        cls.root = "http://127.0.0.1:%d" % cls.host.port

    @classmethod
    def tearDownClass(cls):
        assert cls.host.stop() == 0, cls.host.stderr

    def test_discovery(self):
        st, body = get(self.root + "/")
        self.assertEqual(st, 300)
        [v3] = [v for v in body["versions"] if v["id"] == "v3.0"]
        self.assertEqual((v3["min_version"], v3["version"]), ("3.0", "3.70"))
        st, body = get(self.root + "/v3/")
        self.assertEqual((st, body["versions"][0]["version"]), (200, "3.70"))

    def follow(self, url):
        """Every item of a list, following the absolute next links."""
        seen = []
        while url:
            st, body = get(url)
            self.assertEqual(st, 200, body)
            seen += body["volumes"]
            links = body.get("volumes_links") or []
            self.assertIn(len(links), (0, 1))
            url = links[0]["href"] if links else None
            if url:
                self.assertTrue(url.startswith(self.root + "/v3/proj1/volumes"), url)
        return seen

    def test_lists_follow_every_page(self):
        detail = self.follow(self.root + "/v3/proj1/volumes/detail")
        self.assertEqual(len({v["id"] for v in detail}), 2500)
        self.assertEqual(len(detail), 2500)
        self.assertEqual(detail[0]["status"], "available")
        summary = self.follow(self.root + "/v3/proj1/volumes?limit=300")
        self.assertEqual([v["id"] for v in summary], [v["id"] for v in detail])

    def test_show_create_types_zones_and_faults(self):
        st, body = get(self.root + "/v3/proj1/volumes/00000000-0000-4000-8000-000000000002")
        self.assertEqual((st, body["volume"]["name"], body["volume"]["status"]),
                         (200, "vol-2", "available"))
        st, body = get(self.root + "/v3/proj1/volumes/6f4a2b3c-0000-4000-8000-00000000dead")
        self.assertEqual((st, list(body)), (404, ["itemNotFound"]))
        st, body = get(self.root + "/v3/proj1/volumes", method="POST",
                       body={"volume": {"size": 2, "name": "web"}})
        self.assertEqual((st, body["volume"]["name"], body["volume"]["status"],
                          body["volume"]["size"]), (202, "web", "creating", 2))
        st, body = get(self.root + "/v3/proj1/volumes", method="POST",
                       body={"volume": {"size": 1, "name": "x" * 300}})
        self.assertEqual(st, 400, body)
        self.assertIn("Invalid input for field/attribute name", body["badRequest"]["message"])
        st, body = get(self.root + "/v3/proj1/types")
        self.assertEqual([t["name"] for t in body["volume_types"]], ["gold"])
        st, body = get(self.root + "/v3/proj1/os-availability-zone")
        self.assertEqual(body["availabilityZoneInfo"][0]["zoneName"], "za")

    def test_https_with_cacert_and_ipv6(self):
        tmp = tempfile.mkdtemp(prefix="xs-api-tls-")
        self.addCleanup(shutil.rmtree, tmp, True)
        cert, key = make_cert(tmp)
        host = ApiHost(cert=cert, key=key)
        try:
            root = "https://127.0.0.1:%d" % host.port
            st, body = get(root + "/v3/proj1/volumes/detail",
                           context=ssl.create_default_context(cafile=cert))
            self.assertEqual((st, len(body["volumes"])), (200, 3))
            with self.assertRaises(urllib.error.URLError) as caught:     # no CA: refused
                get(root + "/v3/proj1/volumes", context=ssl.create_default_context())
            self.assertIn("CERTIFICATE_VERIFY_FAILED", str(caught.exception))
        finally:
            self.assertEqual(host.stop(), 0, host.stderr)
        host = ApiHost(listen="[::1]:0")
        try:
            st, body = get("http://[::1]:%d/v3/proj1/volumes/detail" % host.port)
            self.assertEqual((st, len(body["volumes"])), (200, 3))
        finally:
            self.assertEqual(host.stop(), 0, host.stderr)


@unittest.skipUnless(osclients.have_clients(), "the OpenStack clients are not installed")
class Paging(unittest.TestCase):
    """2,500 volumes: each client follows the absolute next links."""

    @classmethod
    def setUpClass(cls):
        cls.host = ApiHost(env={"ITEST_VOLUMES": "2500"})
        cls.clients = osclients.Clients("http://127.0.0.1:%d" % cls.host.port)

    @classmethod
    def tearDownClass(cls):
        cls.clients.close()
        assert cls.host.stop() == 0, cls.host.stderr

    @osclients.real_clients
    def test_cinder_lists_every_page(self):
        rows = self.clients.cinder_table("list")
        self.assertEqual(len(rows), 2500)
        self.assertEqual(len({r["ID"] for r in rows}), 2500)

    @osclients.real_clients
    def test_openstack_lists_every_page(self):
        self.assertEqual(len(self.clients.openstack_json("volume", "list")), 2500)

    @osclients.real_clients
    def test_sdk_pages_with_a_small_limit(self):
        out = self.clients.sdk(
            "ids = [v.id for v in conn.block_storage.volumes(limit=300)]\n"
            "out['n'] = len(ids)\n"
            "out['unique'] = len(set(ids))\n")
        self.assertEqual(out, {"n": 2500, "unique": 2500})


@unittest.skipUnless(osclients.have_clients(), "the OpenStack clients are not installed")
class Transports(unittest.TestCase):
    @osclients.real_clients
    def test_https_with_cacert(self):
        tmp = tempfile.mkdtemp(prefix="xs-api-tls-")
        try:
            cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", cert, "-days", "2", "-subj",
                            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                           check=True, capture_output=True)
            host = ApiHost(cert=cert, key=key)
            try:
                root = "https://127.0.0.1:%d" % host.port
                with osclients.Clients(root, cacert=cert) as c:
                    self.assertEqual(len(c.cinder_table("list")), 3)
                    self.assertEqual(len(c.openstack_json("volume", "list")), 3)
                    out = c.sdk("out['max'] = str(conn.block_storage"
                                ".get_endpoint_data().max_microversion)\n")
                    self.assertEqual(out["max"], "(3, 70)")
                with osclients.Clients(root) as c:      # no CA: refused
                    r = c.cinder("list", check=False)
                    self.assertNotEqual(r.returncode, 0)
            finally:
                self.assertEqual(host.stop(), 0, host.stderr)
        finally:
            shutil.rmtree(tmp)

    @osclients.real_clients
    def test_ipv6_loopback(self):
        host = ApiHost(listen="[::1]:0")
        try:
            with osclients.Clients("http://[::1]:%d" % host.port) as c:
                self.assertEqual(len(c.cinder_table("list")), 3)
                self.assertEqual(len(c.openstack_json("volume", "list")), 3)
        finally:
            self.assertEqual(host.stop(), 0, host.stderr)

    def test_noauth_refused_off_loopback(self):
        proc = subprocess.run([HOST, "0.0.0.0:0"], capture_output=True, text=True, timeout=30,
                              env=xsm.clean_env())
        self.assertEqual(proc.returncode, 1)
        self.assertIn("api_allow_insecure = true", proc.stderr)
        self.assertEqual(proc.stdout, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
