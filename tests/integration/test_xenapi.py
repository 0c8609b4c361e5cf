#!/usr/bin/env python3
"""The XenAPI client (common/xs_xenapi.c) against real servers.

Runs groups of the C program itest_xenapi (tests/integration/test_xenapi.c):
  - against a misbehaving XML-RPC server written here with Python's own
    xmlrpc.client codec (non-XML, HTTP 500, faults, dropped connections, a
    slow server, a huge reply), over TCP, a unix socket and https with a
    self-signed certificate;
  - against the xapi simulator (tests/xapisim), started with simctl.py, for
    every typed helper, HOST_IS_SLAVE, SESSION_INVALID, injected failures,
    delays and dropped connections, over TCP and the unix socket.

Environment (set by ctest): XENSM_PROG_* (the programs), XENSM_SOURCE_DIR.
"""

import http.server
import os
import shutil
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import unittest
import xmlrpc.client

SOURCE = os.environ.get("XENSM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xsm  # noqa: E402

PROGRAM = xsm.program("itest_xenapi")
GROUP_TIMEOUT = 120


def run_group(testcase, group, env):
    """Runs one group of itest_xenapi; fails testcase with its output on failure."""
    full = dict(os.environ)
    full.update(env)
    proc = subprocess.run([PROGRAM, group], env=full, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=GROUP_TIMEOUT)
    output = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        testcase.fail("itest_xenapi %s exited %d:\n%s" % (group, proc.returncode, output))
    testcase.assertIn("PASSED", output)
    return output


# ---------------------------------------------------------------------------
#  A misbehaving XML-RPC server; the method name picks the misbehaviour
# ---------------------------------------------------------------------------

HUGE_BYTES = 65 * 1024 * 1024           # over the client's 64 MiB bound


class FakeHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    release = None                      # threading.Event set by the test

    def log_message(self, fmt, *args):  # quiet
        pass

    def _send(self, body, status=200, ctype="text/xml"):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _reply(self, value):
        self._send(xmlrpc.client.dumps((value,), methodresponse=True, allow_none=False))

    def _peer(self):
        if isinstance(self.client_address, tuple) and self.client_address:
            return "%s:%s" % self.client_address[:2]
        return "unix-%d" % id(self.request)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        params, method = xmlrpc.client.loads(body)
        if method == "test.echo":
            self._reply({"Status": "Success", "Value": list(params)})
        elif method == "test.get_headers":
            self._reply({"Status": "Success", "Value": {
                "content_type": self.headers.get("Content-Type", ""),
                "user_agent": self.headers.get("User-Agent", ""),
                "path": self.path,
                "peer": self._peer()}})
        elif method == "test.peer":
            self._reply({"Status": "Success", "Value": self._peer()})
        elif method == "test.not_xml":
            self._send("<html>this is not XML-RPC", ctype="text/html")
        elif method == "test.not_struct":
            self._reply("just a string")
        elif method == "test.bad_status":
            self._reply({"Status": "Maybe", "Value": "x"})
        elif method == "test.no_value":
            self._reply({"Status": "Success"})
        elif method == "test.empty_failure":
            self._reply({"Status": "Failure", "ErrorDescription": []})
        elif method == "test.truncated":
            self._send('<?xml version="1.0"?><methodResponse><params><param><value><struct>')
        elif method == "test.failure":
            self._reply({"Status": "Failure",
                         "ErrorDescription": ["SR_BACKEND_FAILURE_73", "", "NFS mount error", ""]})
        elif method == "test.fault":
            self._send(xmlrpc.client.dumps(xmlrpc.client.Fault(7, "boom"), methodresponse=True))
        elif method == "test.http500":
            self._send("internal error", status=500, ctype="text/plain")
        elif method == "test.drop":
            self.close_connection = True            # no response at all
        elif method == "test.slow":
            self.release.wait(30)
            self.close_connection = True
        elif method == "test.huge":
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(HUGE_BYTES))
            self.end_headers()
            chunk = b" " * (1024 * 1024)
            try:
                for _ in range(HUGE_BYTES // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass                                # the client hung up: expected
            self.close_connection = True
        else:
            self._reply({"Status": "Failure",
                         "ErrorDescription": ["MESSAGE_METHOD_UNKNOWN", method]})


class TCPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True


class UnixServer(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True


def start_thread(server):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    return thread


class FakeServerTest(unittest.TestCase):
    """The client against a misbehaving server: TCP, unix socket, https."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="xensm-xenapi-")
        cls.release = threading.Event()
        handler = type("Handler", (FakeHandler,), {"release": cls.release})
        cls.servers = []
        cls.tcp = TCPServer(("127.0.0.1", 0), handler)
        cls.servers.append(cls.tcp)
        cls.sock_path = os.path.join(cls.tmp, "xapi.sock")
        cls.unix = UnixServer(cls.sock_path, handler)
        cls.servers.append(cls.unix)
        cls.https = None
        if shutil.which("openssl"):
            cls.cert = os.path.join(cls.tmp, "cert.pem")
            key = os.path.join(cls.tmp, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
                            "-out", cls.cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(cls.cert, key)
            cls.https = TCPServer(("127.0.0.1", 0), handler)
            cls.https.socket = ctx.wrap_socket(cls.https.socket, server_side=True)
            cls.servers.append(cls.https)
        for server in cls.servers:
            start_thread(server)

    @classmethod
    def tearDownClass(cls):
        cls.release.set()
        for server in cls.servers:
            server.shutdown()
            server.server_close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_fake_server_over_tcp(self):
        run_group(self, "fake", {"XT_URL": "http://127.0.0.1:%d/" % self.tcp.server_address[1],
                                 "XT_TIMEOUT_MS": "500"})

    def test_fake_server_over_unix_socket(self):
        run_group(self, "fake", {"XT_URL": "unix:" + self.sock_path, "XT_TIMEOUT_MS": "500"})

    def test_https(self):
        if not self.https:
            self.skipTest("openssl is not installed (scripts/deps installs it)")
        run_group(self, "https", {
            "XT_URL": "https://127.0.0.1:%d/" % self.https.server_address[1],
            "XT_CA_FILE": self.cert,
            "XT_PLAIN_AS_HTTPS_URL": "https://127.0.0.1:%d/" % self.tcp.server_address[1]})


# ---------------------------------------------------------------------------
#  The xapi simulator: a pool of a master and a member
# ---------------------------------------------------------------------------

SIMCTL = os.path.join(SOURCE, "tests", "xapisim", "simctl.py")
if os.path.exists(SIMCTL):
    sys.path.insert(0, os.path.dirname(SIMCTL))
    import simctl  # noqa: E402


@unittest.skipUnless(os.path.exists(SIMCTL), "tests/xapisim has not landed yet")
class SimulatorTest(unittest.TestCase):
    """Every helper, HOST_IS_SLAVE, SESSION_INVALID, injected failures,
    timeouts and dropped connections, over TCP and the unix socket."""

    @classmethod
    def setUpClass(cls):
        cls.sim = simctl.Simulator(pools=[("p1", ["h1", "h2"])],
                                   users={"root": "xensm-test-pw"})
        master, member = cls.sim.host("h1"), cls.sim.host("h2")
        cls.env = {"XT_URL": master["url"], "XT_MEMBER_URL": member["url"],
                   "XT_SIM_URL": master["url"], "XT_USER": "root",
                   "XT_PASS": "xensm-test-pw", "XT_TIMEOUT_MS": "400",
                   "XT_HOST_UUID": master["uuid"]}
        cls.master, cls.member = master, member

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.sim.clear_faults()

    def test_helpers_over_tcp(self):
        run_group(self, "sim", self.env)

    def test_helpers_over_unix_socket(self):
        run_group(self, "sim", dict(self.env, XT_URL="unix:" + self.master["unix"]))

    def test_member_unix_socket_reaches_the_pool(self):
        # xapi's local socket on a member: the login is local (the session
        # the member's own), every other call goes to the master; no
        # HOST_IS_SLAVE.
        run_group(self, "sim", dict(self.env, XT_URL="unix:" + self.member["unix"],
                                    XT_HOST_UUID=self.member["uuid"]))

    def test_host_is_slave_is_followed(self):
        run_group(self, "member", self.env)

    def test_faults_over_tcp(self):
        run_group(self, "faults", self.env)

    def test_faults_over_unix_socket(self):
        run_group(self, "faults", dict(self.env, XT_URL="unix:" + self.master["unix"]))

    def test_no_session_left_behind(self):
        """Every client the group made logged out when destroyed."""
        self.sim.expire_sessions()
        run_group(self, "sim", self.env)
        pool = self.sim.dump()["pools"][0]
        self.assertEqual(pool["sessions"], 0, pool)


if __name__ == "__main__":
    unittest.main(verbosity=2)
