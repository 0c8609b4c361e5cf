#!/usr/bin/env python3
"""Tests of the xapi simulator, through Python's xmlrpc.client over HTTP and
over the unix sockets, and on the raw bytes of its responses."""

import http.client
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import xmlrpc.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simctl  # noqa: E402
from simctl import XapiFailure  # noqa: E402

GIB = 1 << 30

VDI_REC = {"name_label": "v", "name_description": "", "virtual_size": str(GIB),
           "type": "user", "sharable": False, "read_only": False,
           "other_config": {}, "xenstore_data": {}, "sm_config": {}, "tags": []}

NFS = {"server": "nfs1", "serverpath": "/export/a"}


def vdi_rec(sr, **kw):
    r = dict(VDI_REC, SR=sr)
    r.update(kw)
    return r


# A plugin that answers with what it was given (argv[1] and env), or
# misbehaves on request, or calls back into xapi with the caller's session.
PLUGIN = r'''#!/usr/bin/env python3
import http.client, json, os, socket, sys, xmlrpc.client
call = sys.argv[1]
params, fn = xmlrpc.client.loads(call)
session, args = params
def reply(s):
    sys.stdout.write(s)
    sys.exit(0)
if fn == "echo":
    reply(xmlrpc.client.dumps(({"Status": "Success", "Value": json.dumps(
        {"argv": sys.argv[1:], "fn": fn, "session": session, "args": args,
         "url": os.environ.get("XENSM_XAPI_URL")})},), methodresponse=True))
if fn == "compact":
    reply("<methodResponse><params><param><value><struct><member><name>Status"
          "</name><value>Success</value></member><member><name>Value</name>"
          "<value/></member></struct></value></param></params></methodResponse>")
if fn == "fail":
    reply(xmlrpc.client.dumps(({"Status": "Failure", "ErrorDescription":
        ["SR_BACKEND_FAILURE_73", "", "NFS mount error", ""]},), methodresponse=True))
if fn == "garbage":
    reply("this is not xml")
if fn == "exit":
    sys.stdout.write("partial")
    sys.stderr.write("boom")
    sys.exit(3)
if fn == "callback":
    path = os.environ["XENSM_XAPI_URL"][len("unix:"):]
    class C(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX)
            self.sock.connect(path)
    c = C("localhost")
    c.request("POST", "/", xmlrpc.client.dumps((session,), "host.get_all"))
    (resp,), _ = xmlrpc.client.loads(c.getresponse().read())
    reply(xmlrpc.client.dumps(({"Status": "Success",
                                 "Value": json.dumps(resp)},), methodresponse=True))
reply(xmlrpc.client.dumps(({"Status": "Failure", "ErrorDescription":
    ["UNKNOWN_XENAPI_PLUGIN_FUNCTION", fn]},), methodresponse=True))
'''


POOLS = [("p1", ["h1", "h2", "h3"]), ("p2", ["k1"])]
SHARED = {}


def setUpModule():
    # one simulator for every SimTest class: start-up costs ~1 s
    plugdir = tempfile.TemporaryDirectory(prefix="xapisim-plugins-")
    path = os.path.join(plugdir.name, "testplug")
    with open(path, "w", encoding="utf-8") as f:
        f.write(PLUGIN)
    os.chmod(path, stat.S_IRWXU)
    SHARED["plugdir"] = plugdir
    SHARED["sim"] = simctl.Simulator(pools=POOLS, plugin_dir=plugdir.name)


def tearDownModule():
    if "sim" in SHARED:
        SHARED.pop("sim").stop()
    if "plugdir" in SHARED:
        SHARED.pop("plugdir").cleanup()


class SimTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sim = SHARED["sim"]
        cls.s = cls.sim.login("h1")
        cls.h1 = cls.sim.host("h1")

    def setUp(self):
        self.sim.clear_faults()

    def c(self, method, *params, host="h1", unix=False):
        return self.sim.call(host, method, *params, unix=unix)

    def fails(self, code, method, *params, host="h1", unix=False):
        with self.assertRaises(XapiFailure) as cm:
            self.c(method, *params, host=host, unix=unix)
        self.assertEqual(cm.exception.code, code, cm.exception.description)
        return cm.exception.params

    def nfs_sr(self, shared=True, dc=None, name="sr"):
        return self.c("SR.create", self.s, self.h1["ref"], dc or NFS, "0", name,
                      "", "nfs", "user", shared, {})


class StartupAndWire(SimTest):
    def test_startup_line(self):
        info = self.sim.info
        self.assertEqual([p["name"] for p in info["pools"]], ["p1", "p2"])
        p1 = info["pools"][0]
        self.assertEqual(p1["master"], "h1")
        self.assertEqual([h["name"] for h in p1["hosts"]], ["h1", "h2", "h3"])
        ports, addresses = set(), set()
        for p in info["pools"]:
            for h in p["hosts"]:
                # every host its own loopback address, all on one port
                self.assertRegex(h["address"], r"^127\.0\.0\.\d+$")
                self.assertEqual(h["url"], "http://%s:%d/" % (h["address"], h["port"]))
                self.assertTrue(stat.S_ISSOCK(os.stat(h["unix"]).st_mode))
                self.assertRegex(h["ref"], r"^OpaqueRef:[0-9a-f-]{36}$")
                ports.add(h["port"])
                addresses.add(h["address"])
        self.assertEqual(len(ports), 1)
        self.assertEqual(len(addresses), 4)
        self.assertEqual(info["pools"][0]["hosts"][0]["address"], "127.0.0.1")

    def test_compact_untyped_bytes(self):
        body = xmlrpc.client.dumps((self.s, self.h1["ref"]), "host.get_record")
        raw = self.sim.raw_bytes("h1", body.encode()).decode()
        self.assertTrue(raw.startswith('<?xml version="1.0"?><methodResponse>'))
        self.assertNotIn("<string>", raw)
        self.assertNotIn("\n", raw)
        self.assertIn("<member><name>Status</name><value>Success</value></member>", raw)
        self.assertIn("<name>name_label</name><value>h1</value>", raw)
        self.assertIn("<name>enabled</name><value><boolean>1</boolean></value>", raw)
        # int64 as a decimal string, empty strings as <value/>
        self.assertRegex(raw, r"<name>API_version_major</name><value>2</value>")
        self.assertIn("<name>external_auth_type</name><value/>", raw)
        self.assertIn("<name>other_config</name><value><struct></struct></value>", raw)
        self.assertIn("<name>PBDs</name><value><array><data>", raw)
        self.assertNotIn("<int>", raw)
        self.assertNotIn("<i4>", raw)

    def test_failure_bytes_and_escaping(self):
        raw = self.sim.raw_bytes("h1", xmlrpc.client.dumps(
            ("root", "<&>\""), "session.login_with_password").encode()).decode()
        self.assertIn("<name>Status</name><value>Failure</value>", raw)
        self.assertIn("<name>ErrorDescription</name><value><array><data>"
                      "<value>SESSION_AUTHENTICATION_FAILED</value><value>root</value>", raw)
        ref = self.c("SR.create", self.s, self.h1["ref"],
                     {"server": "a&b<c>\"d", "serverpath": "/p q=r"}, "0",
                     "l<&>", "", "nfs", "user", False, {})
        raw = self.sim.raw_bytes("h1", xmlrpc.client.dumps(
            (self.s, ref), "SR.get_record").encode()).decode()
        self.assertIn("<value>l&lt;&amp;&gt;</value>", raw)

    def test_both_transports(self):
        for host, unix in (("h1", False), ("h1", True), ("h2", True), ("k1", False)):
            with self.sim.proxy(host, unix=unix) as px:
                r = px.session.login_with_password("root", "password", "2.0", "t")
                self.assertEqual(r["Status"], "Success", (host, unix, r))
                hosts = px.host.get_all(r["Value"])
                self.assertEqual(hosts["Status"], "Success")
                self.assertEqual(len(hosts["Value"]), 1 if host == "k1" else 3)

    def test_chunked_request_refused(self):
        # http_svr.ml read_body: "We require a content-length: HTTP header"
        body = xmlrpc.client.dumps((self.s,), "pool.get_all").encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.h1["port"], timeout=10)
        try:
            conn.putrequest("POST", "/RPC2")
            conn.putheader("Content-Type", "text/xml")
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for i in range(0, len(body), 50):
                part = body[i:i + 50]
                conn.send(b"%x\r\n%s\r\n" % (len(part), part))
            conn.send(b"0\r\n\r\n")
            resp = conn.getresponse()
            page = resp.read().decode()
        finally:
            conn.close()
        self.assertEqual((resp.status, resp.reason), (500, "Internal Error"))
        self.assertIn("We require a content-length", page)
        self.assertEqual(len(self.c("pool.get_all", self.s)), 1)

    def test_hostile_input_keeps_serving(self):
        bodies = [b"", b"<?xml version='1.0'?>", b"<methodCall><methodName>",
                  b"<methodCall><methodName>host.get_all</methodName><params><param>"
                  b"<value><struct><member><name>a</name></member></struct></value>"
                  b"</param></params></methodCall>",
                  b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]><methodCall><methodName>&a;"
                  b"</methodName><params/></methodCall>",
                  b"<methodCall><methodName>SR.create</methodName><params>" +
                  b"<param><value><array><data>" * 50 + b"</data></array></value></param>" * 50 +
                  b"</params></methodCall>",
                  bytes(range(256))]
        unparsable = {bodies[0], bodies[1], bodies[2], bodies[-1]}
        for body in bodies:
            for unix in (False, True):
                status, headers, raw = simctl.post(
                    self.h1["unix"] if unix else self.h1["url"], body, unix=unix)
                if status == 200:
                    # parsed by Python's XML-RPC parser: an API error
                    self.assertNotIn(body, unparsable)
                    (r,), _ = xmlrpc.client.loads(raw)
                    self.assertEqual(r["Status"], "Failure", body)
                else:
                    self.assert_internal_error(status, headers, raw)
        conn = http.client.HTTPConnection("127.0.0.1", self.h1["port"], timeout=10)
        try:
            conn.putrequest("POST", "/")
            conn.putheader("Content-Length", "-5")
            conn.endheaders()
            self.assertEqual(conn.getresponse().status, 500)
        finally:
            conn.close()
        with self.assertRaises(XapiFailure) as cm:
            self.sim.add_fault("not a struct")
        self.assertEqual(cm.exception.code, "INVALID_VALUE")
        with self.assertRaises(XapiFailure):
            self.sim.control("set_sr_capacity", "no-such-sr")
        self.assertEqual(len(self.c("host.get_all", self.s)), 3)

    def assert_internal_error(self, status, headers, raw):
        """http_svr.ml response_internal_error: no XML-RPC answer at all."""
        self.assertEqual(status, 500)
        self.assertEqual(headers["Content-Type"], "text/html")
        self.assertEqual(headers["Connection"], "close")
        self.assertEqual(headers["Cache-Control"], "no-cache, no-store")
        self.assertTrue(raw.startswith(b"<html><body><h1>HTTP 500 internal server "
                                       b"error</h1>"), raw)

    def test_not_a_methodcall(self):
        # api_server.ml: only Server_error gets an XML-RPC answer; a parse
        # error escapes to http_svr.ml, which answers 500 and closes
        for body in (b"<nonsense", b"<methodResponse><params/></methodResponse>"):
            status, headers, raw = simctl.post(self.h1["url"], body)
            self.assert_internal_error(status, headers, raw)
        status, _, _ = simctl.post(self.h1["url"], b"", path="/nope")
        self.assertEqual(status, 404)

    def test_body_over_300k_refused(self):
        # Constants.http_limit_max_rpc_size
        big = xmlrpc.client.dumps((self.s, "x" * (300 * 1024)), "host.get_by_name_label")
        status, headers, raw = simctl.post(self.h1["url"], big.encode())
        self.assert_internal_error(status, headers, raw)
        self.assertIn(b"Client_requested_size_over_limit", raw)
        ok = xmlrpc.client.dumps((self.s, "x" * (290 * 1024)), "host.get_by_name_label")
        (r,), _ = xmlrpc.client.loads(simctl.post(self.h1["url"], ok.encode())[2])
        self.assertEqual(r, {"Status": "Success", "Value": []})


class Sessions(SimTest):
    def test_login_logout(self):
        s = self.sim.login("h1")
        self.assertRegex(s, r"^OpaqueRef:[0-9a-f-]{36}$")
        self.assertEqual(self.c("session.get_this_host", s, s), self.h1["ref"])
        self.c("session.logout", s)
        self.assertEqual(self.fails("SESSION_INVALID", "host.get_all", s), [s])
        # two trailing params may be omitted
        s2 = self.c("session.login_with_password", "root", "password")
        self.assertTrue(s2.startswith("OpaqueRef:"))

    def test_bad_credentials(self):
        p = self.fails("SESSION_AUTHENTICATION_FAILED",
                       "session.login_with_password", "root", "nope", "2.0", "x")
        self.assertEqual(p[0], "root")
        self.fails("SESSION_AUTHENTICATION_FAILED",
                   "session.login_with_password", "admin", "password")

    def test_host_is_slave(self):
        # xapi_session.ml: [Pool_role.get_master_address ()], the address
        # alone; session_check.ml: the master's host.address
        p = self.fails("HOST_IS_SLAVE", "session.login_with_password",
                       "root", "password", "2.0", "t", host="h2")
        self.assertEqual(p, [self.h1["address"]])
        self.assertEqual(p, [self.c("host.get_address", self.s, self.h1["ref"])])
        # a session used over a member's TCP port: HOST_IS_SLAVE as well
        p = self.fails("HOST_IS_SLAVE", "host.get_all", self.s, host="h3")
        self.assertEqual(p, [self.h1["address"]])
        # over a member's unix socket, calls are forwarded to the master
        s = self.sim.login("h2", unix=True)
        self.assertEqual(len(self.c("host.get_all", s, host="h2", unix=True)), 3)
        self.assertEqual(len(self.c("host.get_all", s, host="h1")), 3)

    def test_host_is_slave_names_a_reachable_master(self):
        # the address and the port the client already uses reach the master
        p = self.fails("HOST_IS_SLAVE", "session.login_with_password",
                       "root", "password", host="h3")
        url = "http://%s:%d/" % (p[0], self.sim.host("h3")["port"])
        self.assertEqual(url, self.h1["url"])
        status, _, raw = simctl.post(url, xmlrpc.client.dumps(
            ("root", "password"), "session.login_with_password").encode())
        (r,), _ = xmlrpc.client.loads(raw)
        self.assertEqual(r["Status"], "Success", r)

    def test_sessions_are_per_pool(self):
        self.fails("SESSION_INVALID", "host.get_all", self.s, host="k1")
        self.fails("SESSION_INVALID", "host.get_all", "OpaqueRef:nope")
        self.fails("SESSION_INVALID", "host.get_all", "")

    def test_expire_now(self):
        s = self.sim.login("h1")
        k = self.sim.login("k1")
        self.assertGreaterEqual(self.sim.expire_sessions(), 2)
        self.fails("SESSION_INVALID", "host.get_all", s)
        self.fails("SESSION_INVALID", "host.get_all", k, host="k1")
        type(self).s = self.sim.login("h1")

    def test_ttl(self):
        self.sim.set_session_ttl(0.3)
        try:
            s = self.sim.login("h1")
            self.c("host.get_all", s)          # use refreshes it
            time.sleep(0.5)                    # the behaviour under test is elapsed time
            self.fails("SESSION_INVALID", "host.get_all", s)
        finally:
            self.sim.set_session_ttl(0)
            type(self).s = self.sim.login("h1")


class Validation(SimTest):
    def test_unknown_method(self):
        self.assertEqual(self.fails("MESSAGE_METHOD_UNKNOWN", "SR.frobnicate", self.s),
                         ["SR.frobnicate"])
        self.fails("MESSAGE_METHOD_UNKNOWN", "nonsense", self.s)

    def test_not_implemented(self):
        self.assertEqual(self.fails("NOT_IMPLEMENTED", "network.get_all", self.s),
                         ["network.get_all"])

    def test_parameter_count(self):
        self.assertEqual(
            self.fails("MESSAGE_PARAMETER_COUNT_MISMATCH", "VDI.destroy", self.s),
            ["VDI.destroy", "1", "0"])
        self.assertEqual(
            self.fails("MESSAGE_PARAMETER_COUNT_MISMATCH", "SR.get_record",
                       self.s, "a", "b"),
            ["SR.get_record", "1", "2"])
        self.assertEqual(
            self.fails("MESSAGE_PARAMETER_COUNT_MISMATCH", "SR.create", self.s,
                       self.h1["ref"], NFS, "0", "n", "d", "nfs", "user"),
            ["SR.create", "8", "7"])
        # optional trailing sm_config of SR.create may be omitted
        sr = self.c("SR.create", self.s, self.h1["ref"], NFS, "0", "n", "d",
                    "nfs", "user", True)
        self.assertTrue(sr.startswith("OpaqueRef:"))

    def test_handle_and_uuid(self):
        bad = "OpaqueRef:00000000-0000-0000-0000-000000000000"
        self.assertEqual(self.fails("HANDLE_INVALID", "SR.get_record", self.s, bad),
                         ["SR", bad])
        self.assertEqual(self.fails("HANDLE_INVALID", "VDI.destroy", self.s, bad),
                         ["VDI", bad])
        u = "11111111-2222-3333-4444-555555555555"
        self.assertEqual(self.fails("UUID_INVALID", "SR.get_by_uuid", self.s, u),
                         ["SR", u])
        self.assertEqual(self.fails("UUID_INVALID", "VDI.get_by_uuid", self.s, u),
                         ["VDI", u])
        h = self.c("host.get_by_uuid", self.s, self.h1["uuid"])
        self.assertEqual(h, self.h1["ref"])
        # a ref of another pool is invalid here
        k1 = self.sim.host("k1")["ref"]
        self.fails("HANDLE_INVALID", "host.get_record", self.s, k1)

    def test_types_checked_before_session(self):
        # xapi unmarshals params before checking the session
        self.assertEqual(self.fails("FIELD_TYPE_ERROR", "SR.create", "OpaqueRef:x",
                                    self.h1["ref"], NFS, "0", "n", "d", "nfs",
                                    "user", "yes", {}), ["shared"])
        self.fails("SESSION_INVALID", "SR.get_record", "OpaqueRef:x", "OpaqueRef:y")

    def test_field_types(self):
        self.assertEqual(self.fails("FIELD_TYPE_ERROR", "SR.create", self.s,
                                    self.h1["ref"], NFS, "0", "n", "d", "nfs",
                                    "user", "yes", {}), ["shared"])
        sr = self.nfs_sr()
        self.assertEqual(self.fails("FIELD_TYPE_ERROR", "VDI.create", self.s,
                                    vdi_rec(sr, virtual_size="ten")), ["virtual_size"])
        self.assertEqual(self.fails("FIELD_TYPE_ERROR", "VDI.create", self.s,
                                    vdi_rec(sr, type="bogus")), ["type"])
        self.assertEqual(self.fails("FIELD_TYPE_ERROR", "VDI.create", self.s,
                                    vdi_rec(sr, sharable="false")), ["sharable"])

    def test_vdi_create_required_fields(self):
        sr = self.nfs_sr()
        for field in ("SR", "virtual_size", "type", "sharable", "read_only",
                      "other_config"):
            rec = vdi_rec(sr)
            del rec[field]
            p = self.fails("INTERNAL_ERROR", "VDI.create", self.s, rec)
            self.assertIn("Field %s not present" % field, p[0])
        # fields with defaults may be left out
        rec = {k: v for k, v in vdi_rec(sr).items()
               if k not in ("name_label", "name_description", "xenstore_data",
                            "sm_config", "tags")}
        self.assertTrue(self.c("VDI.create", self.s, rec).startswith("OpaqueRef:"))


class Storage(SimTest):
    def test_device_config_checks(self):
        cases = [
            ("nfs", {}, "SR_BACKEND_FAILURE_102"),
            ("nfs", {"server": "s"}, "SR_BACKEND_FAILURE_101"),
            ("lvmoiscsi", {}, "SR_BACKEND_FAILURE_95"),
            ("lvmoiscsi", {"target": "t"}, "SR_BACKEND_FAILURE_96"),
            ("lvmoiscsi", {"target": "t", "targetIQN": "i"}, "SR_BACKEND_FAILURE_107"),
            ("lvmohba", {}, "SR_BACKEND_FAILURE_107"),
            ("iscsi", {"target": "t"}, "SR_BACKEND_FAILURE_96"),
            ("smb", {}, "SR_BACKEND_FAILURE_102"),
            ("ext", {}, "SR_BACKEND_FAILURE_90"),
            ("lvm", {}, "SR_BACKEND_FAILURE_90"),
            ("file", {}, "SR_BACKEND_FAILURE_94"),
            ("iso", {}, "SR_BACKEND_FAILURE_94"),
            ("udev", {}, "SR_BACKEND_FAILURE_94"),
        ]
        before = len(self.sim.dump()["pools"][0]["SRs"])
        for t, dc, code in cases:
            with self.subTest(type=t, dc=dc):
                p = self.fails(code, "SR.create", self.s, self.h1["ref"], dc, "0",
                               "x", "", t, "user", t not in ("ext", "lvm", "file"), {})
                self.assertEqual(len(p), 3)
                self.assertEqual(p[0], "")
                self.assertTrue(p[1])
        self.assertEqual(len(self.sim.dump()["pools"][0]["SRs"]), before)
        self.fails("SR_UNKNOWN_DRIVER", "SR.create", self.s, self.h1["ref"], {}, "0",
                   "x", "", "zfs", "user", True, {})
        # no NetApp or EqualLogic driver in xapi-project/sm
        for t in ("netapp", "equal"):
            self.assertEqual(self.fails("SR_UNKNOWN_DRIVER", "SR.create", self.s,
                                        self.h1["ref"], {"target": "t", "username": "u",
                                                         "password": "p"},
                                        "0", "x", "", t, "user", True, {}), [t])
        # hba needs nothing; smb only its server (SMBSR: guest access)
        self.c("SR.create", self.s, self.h1["ref"], {}, "0", "x", "", "hba",
               "user", True, {})
        self.c("SR.create", self.s, self.h1["ref"], {"server": "//s/share"}, "0", "x",
               "", "smb", "user", True, {})

    def test_create_shared_makes_pbds_on_every_host(self):
        sr = self.nfs_sr()
        pbds = self.c("SR.get_PBDs", self.s, sr)
        self.assertEqual(len(pbds), 3)
        hosts = set()
        for p in pbds:
            rec = self.c("PBD.get_record", self.s, p)
            self.assertTrue(rec["currently_attached"])
            self.assertEqual(rec["SR"], sr)
            self.assertEqual(rec["device_config"], NFS)
            hosts.add(rec["host"])
        self.assertEqual(hosts, {self.sim.host(h)["ref"] for h in ("h1", "h2", "h3")})
        rec = self.c("SR.get_record", self.s, sr)
        self.assertTrue(rec["shared"])
        self.assertEqual(rec["type"], "nfs")
        self.assertEqual(rec["physical_size"], str(1 << 40))
        self.assertEqual(rec["physical_utilisation"], "0")
        self.assertEqual(self.c("SR.get_by_uuid", self.s, rec["uuid"]), sr)
        self.assertIn(sr, self.c("SR.get_by_name_label", self.s, "sr"))
        self.assertIn(sr, self.c("SR.get_all_records", self.s))

    def test_create_local_on_member(self):
        h3 = self.sim.host("h3")["ref"]
        sr = self.c("SR.create", self.s, h3, {"device": "/dev/sdb"}, "0", "local",
                    "", "ext", "user", False, {})
        pbds = self.c("SR.get_PBDs", self.s, sr)
        self.assertEqual(len(pbds), 1)
        self.assertEqual(self.c("PBD.get_record", self.s, pbds[0])["host"], h3)

    def test_passwords_move_to_secrets(self):
        dc = {"server": "//s/share", "username": "u", "password": "hunter2"}
        sr = self.c("SR.create", self.s, self.h1["ref"], dc, "0", "n", "", "smb",
                    "user", True, {})
        pbd = self.c("SR.get_PBDs", self.s, sr)[0]
        got = self.c("PBD.get_device_config", self.s, pbd)
        self.assertNotIn("password", got)
        self.assertRegex(got["password_secret"], r"^[0-9a-f-]{36}$")
        dc = {"target": "t", "targetIQN": "iqn", "SCSIid": "36", "chapuser": "c",
              "chappassword": "hunter3"}
        sr = self.c("SR.create", self.s, self.h1["ref"], dc, "0", "n", "", "lvmoiscsi",
                    "user", True, {})
        got = self.c("PBD.get_device_config", self.s, self.c("SR.get_PBDs", self.s, sr)[0])
        self.assertEqual(sorted(got), ["SCSIid", "chappassword_secret", "chapuser",
                                       "target", "targetIQN"])
        self.assertNotIn("hunter2", json.dumps(self.sim.dump()))
        self.assertNotIn("hunter3", json.dumps(self.sim.dump()))

    def test_introduce_pbd_forget_cycle(self):
        sr = self.nfs_sr(name="cycle")
        u = self.c("SR.get_uuid", self.s, sr)
        v = self.c("VDI.create", self.s, vdi_rec(sr, name_label="keep",
                                                 other_config={"xensm-volume": "x"}))
        vu = self.c("VDI.get_uuid", self.s, v)
        self.assertEqual(self.fails("SR_HAS_PBD", "SR.forget", self.s, sr), [sr])
        for p in self.c("SR.get_PBDs", self.s, sr):
            self.c("PBD.unplug", self.s, p)
            self.assertFalse(self.c("PBD.get_currently_attached", self.s, p))
        self.c("SR.forget", self.s, sr)
        self.fails("HANDLE_INVALID", "SR.get_record", self.s, sr)
        self.fails("UUID_INVALID", "VDI.get_by_uuid", self.s, vu)
        # introduce: the record only, sizes unknown until attached
        sr2 = self.c("SR.introduce", self.s, u, "cycle", "", "nfs", "user", True, {})
        self.assertEqual(self.fails("SR_UUID_EXISTS", "SR.introduce", self.s, u, "x",
                                    "", "nfs", "user", True), [u])
        rec = self.c("SR.get_record", self.s, sr2)
        self.assertEqual(rec["PBDs"], [])
        self.assertEqual(rec["physical_size"], "-1")
        self.assertEqual(self.fails("SR_NO_PBDS", "SR.scan", self.s, sr2), [sr2])
        pbd = self.c("PBD.create", self.s, {"host": self.h1["ref"], "SR": sr2,
                                             "device_config": NFS, "other_config": {}})
        p = self.fails("PBD_EXISTS", "PBD.create", self.s,
                       {"host": self.h1["ref"], "SR": sr2, "device_config": NFS})
        self.assertEqual(p, [sr2, self.h1["ref"], pbd])
        self.assertFalse(self.c("PBD.get_currently_attached", self.s, pbd))
        self.c("PBD.plug", self.s, pbd)
        self.c("SR.scan", self.s, sr2)
        v2 = self.c("VDI.get_by_uuid", self.s, vu)
        rec = self.c("VDI.get_record", self.s, v2)
        self.assertEqual(rec["name_label"], "keep")
        self.assertEqual(rec["other_config"], {})
        self.assertEqual(self.c("SR.get_physical_size", self.s, sr2), str(1 << 40))
        self.fails("OPERATION_NOT_ALLOWED", "PBD.destroy", self.s, pbd)
        self.c("PBD.unplug", self.s, pbd)
        self.c("PBD.destroy", self.s, pbd)
        self.assertEqual(self.c("SR.get_PBDs", self.s, sr2), [])

    def test_plug_needs_storage_and_config(self):
        sr = self.c("SR.introduce", self.s, "", "ghost", "", "nfs", "user", True, {})
        pbd = self.c("PBD.create", self.s, {"host": self.h1["ref"], "SR": sr,
                                             "device_config": {"server": "s"}})
        self.fails("SR_BACKEND_FAILURE_101", "PBD.plug", self.s, pbd)
        # pre-provisioned storage can be introduced and attached
        u = self.sim.add_storage({"type": "nfs", "device_config": NFS,
                                  "physical_size": 50 * GIB,
                                  "vdis": [{"name_label": "old", "virtual_size": GIB}]})
        sr = self.c("SR.introduce", self.s, u, "old", "", "nfs", "user", True, {})
        pbd = self.c("PBD.create", self.s, {"host": self.h1["ref"], "SR": sr,
                                             "device_config": NFS})
        self.c("PBD.plug", self.s, pbd)
        self.assertEqual(self.c("SR.get_physical_size", self.s, sr), str(50 * GIB))
        self.assertEqual(self.c("SR.get_physical_utilisation", self.s, sr), str(GIB))
        self.assertEqual(len(self.c("VDI.get_by_name_label", self.s, "old")), 1)
        # an introduced SR with no storage behind it cannot be plugged
        sr = self.c("SR.introduce", self.s, "", "ghost2", "", "nfs", "user", True, {})
        pbd = self.c("PBD.create", self.s, {"host": self.h1["ref"], "SR": sr,
                                             "device_config": NFS})
        self.fails("SR_BACKEND_FAILURE_47", "PBD.plug", self.s, pbd)

    def test_probe(self):
        dc = {"server": "probe-srv", "serverpath": "/probe"}
        sr = self.nfs_sr(dc=dc, name="probed")
        u = self.c("SR.get_uuid", self.s, sr)
        out = self.c("SR.probe", self.s, self.h1["ref"], dc, "nfs")
        self.assertIn("<UUID>%s</UUID>" % u, out)
        self.fails("SR_BACKEND_FAILURE_102", "SR.probe", self.s, self.h1["ref"], {}, "nfs", {})

    def test_destroy(self):
        sr = self.nfs_sr(name="doomed")
        u = self.c("SR.get_uuid", self.s, sr)
        self.fails("SR_HAS_PBD", "SR.destroy", self.s, sr)
        for p in self.c("SR.get_PBDs", self.s, sr):
            self.c("PBD.unplug", self.s, p)
        self.c("SR.destroy", self.s, sr)
        self.assertNotIn(u, self.sim.dump()["storage"])
        self.fails("HANDLE_INVALID", "SR.get_record", self.s, sr)

    def test_update_and_setters(self):
        sr = self.nfs_sr(name="upd")
        u = self.c("SR.get_uuid", self.s, sr)
        self.sim.set_sr_capacity(u, 7 * GIB)
        self.c("SR.update", self.s, sr)
        self.assertEqual(self.c("SR.get_physical_size", self.s, sr), str(7 * GIB))
        un = self.c("SR.introduce", self.s, "", "unplugged", "", "nfs", "user", True)
        self.assertEqual(self.fails("SR_NO_PBDS", "SR.update", self.s, un), [un])
        self.c("SR.set_name_label", self.s, sr, "renamed")
        self.assertEqual(self.c("SR.get_name_label", self.s, sr), "renamed")
        self.c("SR.add_to_other_config", self.s, sr, "xensm-backend", "3")
        self.assertEqual(self.c("SR.get_other_config", self.s, sr), {"xensm-backend": "3"})
        self.c("SR.remove_from_other_config", self.s, sr, "xensm-backend")
        self.assertEqual(self.c("SR.get_other_config", self.s, sr), {})
        self.assertIn("lvmoiscsi", self.c("SR.get_supported_types", self.s))

    def test_sm_records(self):
        recs = self.c("SM.get_all_records", self.s)
        by_type = {r["type"]: r for r in recs.values()}
        # the sm drivers xapi.conf's sm-plugins lets xapi register
        self.assertEqual(sorted(by_type), ["dummy", "ext", "file", "hba", "iscsi", "iso",
                                           "lvm", "lvmohba", "lvmoiscsi", "nfs", "smb",
                                           "udev"])
        self.assertEqual(sorted(self.c("SR.get_supported_types", self.s)), sorted(by_type))
        for t in ("nfs", "lvmoiscsi", "lvmohba", "iscsi", "hba", "smb", "ext", "lvm",
                  "file"):
            caps = by_type[t]["capabilities"]
            self.assertIn("VDI_CREATE", caps)
            self.assertIn("SR_PROBE", caps)
            clones = t not in ("iscsi", "hba")
            self.assertEqual("VDI_CLONE" in caps, clones, t)
            self.assertEqual("VDI_SNAPSHOT" in caps, clones, t)
            self.assertEqual(set(by_type[t]["features"]), set(caps))
            # smint.ml drops what it does not know
            self.assertNotIn("ATOMIC_PAUSE", caps)
        # RawISCSISR.py / HBASR.py CAPABILITIES, verbatim
        for t in ("iscsi", "hba"):
            self.assertEqual(by_type[t]["capabilities"],
                             ["SR_PROBE", "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH",
                              "VDI_DETACH", "VDI_INTRODUCE"])
        self.assertEqual(by_type["nfs"]["features"]["VDI_RESET_ON_BOOT"], "2")
        self.assertEqual(by_type["nfs"]["features"]["VDI_CREATE"], "1")
        self.assertNotIn("VDI_CREATE", by_type["udev"]["capabilities"])
        self.assertEqual(by_type["nfs"]["configuration"]["server"],
                         "hostname or IP address of NFS server (required)")
        self.assertEqual(by_type["lvmoiscsi"]["name_label"], "LVHD over iSCSI")
        self.assertEqual(by_type["nfs"]["driver_filename"], "/opt/xensource/sm/nfsSR")


class Vdis(SimTest):
    def test_capacity(self):
        dc = {"server": "small", "serverpath": "/s"}
        self.sim.set_device_capacity(dc, 10 * GIB)
        sr = self.nfs_sr(dc=dc, name="small")
        self.assertEqual(self.c("SR.get_physical_size", self.s, sr), str(10 * GIB))
        a = self.c("VDI.create", self.s, vdi_rec(sr, virtual_size=str(6 * GIB)))
        self.assertEqual(self.c("SR.get_virtual_allocation", self.s, sr), str(6 * GIB))
        self.assertEqual(self.c("SR.get_physical_utilisation", self.s, sr), str(6 * GIB))
        p = self.fails("SR_BACKEND_FAILURE_44", "VDI.create", self.s,
                       vdi_rec(sr, virtual_size=str(5 * GIB)))
        self.assertEqual(p, ["", "There is insufficient space", ""])
        self.fails("SR_BACKEND_FAILURE_44", "VDI.clone", self.s, a)
        self.c("VDI.create", self.s, vdi_rec(sr, virtual_size=str(4 * GIB)))
        self.c("VDI.destroy", self.s, a)
        self.assertEqual(self.c("SR.get_virtual_allocation", self.s, sr), str(4 * GIB))
        u = self.c("SR.get_uuid", self.s, sr)
        self.sim.set_sr_capacity(u, 3 * GIB)
        self.assertEqual(self.c("SR.get_physical_size", self.s, sr), str(3 * GIB))
        self.fails("SR_BACKEND_FAILURE_44", "VDI.create", self.s,
                   vdi_rec(sr, virtual_size="1"))

    def test_create_record_and_lookup(self):
        sr = self.nfs_sr()
        v = self.c("VDI.create", self.s, vdi_rec(sr, name_label="xensm-abc",
                                                 other_config={"xensm-volume": "abc"}))
        rec = self.c("VDI.get_record", self.s, v)
        self.assertEqual(rec["SR"], sr)
        self.assertEqual(rec["virtual_size"], str(GIB))
        self.assertEqual(rec["other_config"], {"xensm-volume": "abc"})
        self.assertFalse(rec["is_a_snapshot"])
        self.assertEqual(rec["snapshot_of"], "OpaqueRef:NULL")
        self.assertEqual(self.c("VDI.get_by_name_label", self.s, "xensm-abc"), [v])
        self.assertEqual(self.c("VDI.get_by_name_label", self.s, "none"), [])
        self.assertEqual(self.c("VDI.get_by_uuid", self.s, rec["uuid"]), v)
        self.assertEqual(self.c("VDI.get_uuid", self.s, v), rec["uuid"])
        self.assertIn(v, self.c("VDI.get_all_records", self.s))
        self.assertIn(v, self.c("SR.get_VDIs", self.s, sr))
        self.c("VDI.add_to_other_config", self.s, v, "k", "v")
        self.assertEqual(self.c("VDI.get_other_config", self.s, v)["k"], "v")
        dumped = [x for x in self.sim.dump()["pools"][0]["VDIs"] if x["ref"] == v][0]
        self.assertEqual(dumped["other_config"]["xensm-volume"], "abc")
        self.c("VDI.destroy", self.s, v)
        self.fails("HANDLE_INVALID", "VDI.get_record", self.s, v)

    def test_clone_snapshot(self):
        sr = self.nfs_sr()
        v = self.c("VDI.create", self.s, vdi_rec(sr, name_label="base"))
        snap = self.c("VDI.snapshot", self.s, v, {})
        rec = self.c("VDI.get_record", self.s, snap)
        self.assertTrue(rec["is_a_snapshot"])
        self.assertEqual(rec["snapshot_of"], v)
        self.assertEqual(self.c("VDI.get_snapshots", self.s, v), [snap])
        clone = self.c("VDI.clone", self.s, v)      # driver_params omitted
        rec = self.c("VDI.get_record", self.s, clone)
        self.assertFalse(rec["is_a_snapshot"])
        self.assertEqual(rec["virtual_size"], str(GIB))
        self.assertEqual(self.c("SR.get_virtual_allocation", self.s, sr), str(3 * GIB))
        dc = {"target": "t", "targetIQN": "iqn.clone-test"}
        self.sim.set_device_luns(dc, [GIB])
        iscsi = self.c("SR.create", self.s, self.h1["ref"], dc, "0", "raw", "", "iscsi",
                       "user", True, {})
        w = self.c("VDI.create", self.s, vdi_rec(iscsi))
        self.assertEqual(self.fails("SR_OPERATION_NOT_SUPPORTED", "VDI.clone",
                                    self.s, w, {}), [iscsi])
        self.fails("SR_OPERATION_NOT_SUPPORTED", "VDI.snapshot", self.s, w, {})

    def test_needs_attached_sr(self):
        sr = self.nfs_sr(name="detached")
        for p in self.c("SR.get_PBDs", self.s, sr):
            self.c("PBD.unplug", self.s, p)
        self.assertEqual(self.fails("SR_NO_PBDS", "VDI.create", self.s, vdi_rec(sr)),
                         [sr])


class Faults(SimTest):
    def test_fail_nth(self):
        self.sim.reset_counts()
        self.sim.fail("host.get_all", "SR_BACKEND_FAILURE_73", ["", "boom", ""], nth=2)
        self.c("host.get_all", self.s)
        self.assertEqual(self.fails("SR_BACKEND_FAILURE_73", "host.get_all", self.s),
                         ["", "boom", ""])
        self.c("host.get_all", self.s)
        self.assertEqual(self.sim.counts()["host.get_all"], 3)
        self.assertEqual(self.sim.faults()[0]["fired"], 1)

    def test_fail_repeat_and_clear(self):
        self.sim.fail("pool.get_all", "INTERNAL_ERROR", ["x"], nth=2, repeat=True)
        self.c("pool.get_all", self.s)
        for _ in range(3):
            self.fails("INTERNAL_ERROR", "pool.get_all", self.s)
        self.sim.clear_faults()
        self.assertEqual(len(self.c("pool.get_all", self.s)), 1)

    def test_fail_does_not_run_the_call(self):
        sr = self.nfs_sr()
        self.sim.fail("VDI.create", "SR_FULL", [str(GIB), "0"])
        self.fails("SR_FULL", "VDI.create", self.s, vdi_rec(sr))
        self.assertEqual(self.c("SR.get_VDIs", self.s, sr), [])

    def test_fail_on_one_host(self):
        self.sim.fail("host.get_all", "INTERNAL_ERROR", host="h2", repeat=True)
        self.c("host.get_all", self.s)
        s = self.sim.login("h2", unix=True)
        self.fails("INTERNAL_ERROR", "host.get_all", s, host="h2", unix=True)

    def test_delay_does_not_block_others(self):
        self.sim.delay("pool.get_master", 1.0)
        pool = self.c("pool.get_all", self.s)[0]
        result = {}

        def slow():
            t = time.monotonic()
            result["v"] = self.c("pool.get_master", self.s, pool)
            result["t"] = time.monotonic() - t
        th = threading.Thread(target=slow)
        th.start()
        t = time.monotonic()
        self.c("host.get_all", self.s, unix=True)
        self.c("host.get_all", self.s)
        fast = time.monotonic() - t
        th.join()
        self.assertEqual(result["v"], self.h1["ref"])
        self.assertGreaterEqual(result["t"], 1.0)
        self.assertLess(fast, 0.9)

    def test_drop(self):
        self.sim.drop("host.get_all", nth=1)
        for unix in (False, True):
            with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
                self.c("host.get_all", self.s, unix=unix)
            self.sim.drop("host.get_all", nth=1)
        self.sim.clear_faults()
        self.assertEqual(len(self.c("host.get_all", self.s)), 3)

    def test_drop_after_runs_the_call(self):
        sr = self.nfs_sr()
        self.sim.drop("VDI.create", when="after")
        with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
            self.c("VDI.create", self.s, vdi_rec(sr, name_label="lost-reply"))
        self.assertEqual(len(self.c("VDI.get_by_name_label", self.s, "lost-reply")), 1)

    def test_bad_rule(self):
        with self.assertRaises(XapiFailure):
            self.sim.add_fault({"method": "x", "action": "explode"})
        with self.assertRaises(XapiFailure):
            self.sim.control("no_such_control")


class Plugins(SimTest):
    def test_call_plugin_protocol(self):
        h2 = self.sim.host("h2")
        out = json.loads(self.c("host.call_plugin", self.s, h2["ref"], "testplug",
                                "echo", {"a": "1", "b": "", "c": "x<&>y"}))
        self.assertEqual(out["fn"], "echo")
        # forwarded to a member: a new pool session of that host
        # (message_forwarding.ml call_slave_with_session), gone afterwards
        self.assertNotEqual(out["session"], self.s)
        self.assertEqual(self.fails("SESSION_INVALID", "host.get_all", out["session"]),
                         [out["session"]])
        self.assertEqual(out["args"], {"a": "1", "b": "", "c": "x<&>y"})
        self.assertEqual(out["url"], "unix:" + h2["unix"])
        argv = out["argv"]
        self.assertEqual(len(argv), 1)
        self.assertEqual(argv[0], (
            "<methodCall><methodName>echo</methodName><params><param><value>%s"
            "</value></param><param><value><struct><member><name>a</name><value>1"
            "</value></member><member><name>b</name><value/></member><member><name>"
            "c</name><value>x&lt;&amp;&gt;y</value></member></struct></value></param>"
            "</params></methodCall>" % out["session"]))
        # on the master itself: the caller's own session
        out = json.loads(self.c("host.call_plugin", self.s, self.h1["ref"], "testplug",
                                "echo", {}))
        self.assertEqual(out["session"], self.s)
        self.assertEqual(out["url"], "unix:" + self.h1["unix"])

    def test_plugin_values_and_failures(self):
        ref = self.h1["ref"]
        self.assertEqual(self.c("host.call_plugin", self.s, ref, "testplug",
                                "compact", {}), "")
        self.assertEqual(self.fails("SR_BACKEND_FAILURE_73", "host.call_plugin",
                                    self.s, ref, "testplug", "fail", {}),
                         ["", "NFS mount error", ""])
        self.assertEqual(self.fails("UNKNOWN_XENAPI_PLUGIN_FUNCTION", "host.call_plugin",
                                    self.s, ref, "testplug", "nope", {}), ["nope"])
        p = self.fails("XENAPI_PLUGIN_FAILURE", "host.call_plugin", self.s, ref,
                       "testplug", "garbage", {})
        self.assertEqual(p[:2], ["failed to parse plugin output", "this is not xml"])
        p = self.fails("XENAPI_PLUGIN_FAILURE", "host.call_plugin", self.s, ref,
                       "testplug", "exit", {})
        self.assertEqual(p, ["non-zero exit", "partial", "boom"])
        self.assertEqual(self.fails("XENAPI_MISSING_PLUGIN", "host.call_plugin",
                                    self.s, ref, "../testplug", "echo", {}),
                         ["../testplug"])

    def test_fault_on_one_plugin_function(self):
        ref = self.h1["ref"]
        self.sim.fail("host.call_plugin", "SR_BACKEND_FAILURE_44",
                      ["", "There is insufficient space", ""], param={3: "compact"},
                      repeat=True)
        self.fails("SR_BACKEND_FAILURE_44", "host.call_plugin", self.s, ref,
                   "testplug", "compact", {})
        out = json.loads(self.c("host.call_plugin", self.s, ref, "testplug", "echo", {}))
        self.assertEqual(out["fn"], "echo")
        self.assertEqual(self.sim.faults()[0]["seen"], 1)

    def test_plugin_calls_back(self):
        h3 = self.sim.host("h3")
        out = json.loads(self.c("host.call_plugin", self.s, h3["ref"], "testplug",
                                "callback", {}))
        self.assertEqual(out["Status"], "Success")
        self.assertEqual(len(out["Value"]), 3)


class Lifecycle(unittest.TestCase):
    def test_command_line_flags(self):
        """--pool/--user/--physical-size without a config file; the start-up
        line is the first and only stdout line."""
        with tempfile.TemporaryDirectory() as d:
            proc = subprocess.Popen(
                [sys.executable, simctl.XAPISIM, "--unix-dir", d, "--pool", "a:x,y",
                 "--pool", "b:z", "--user", "op:secret", "--physical-size", str(GIB)],
                stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
            try:
                info = json.loads(proc.stdout.readline())
                self.assertEqual([(p["name"], p["master"], len(p["hosts"]))
                                  for p in info["pools"]], [("a", "x", 2), ("b", "z", 1)])
                x = info["pools"][0]["hosts"][0]
                self.assertEqual(x["unix"], os.path.join(d, "x.sock"))
                status, _, raw = simctl.post(x["url"], xmlrpc.client.dumps(
                    ("op", "secret"), "session.login_with_password").encode())
                (r,), _ = xmlrpc.client.loads(raw)
                self.assertEqual(r["Status"], "Success")
                sid = r["Value"]
                _, _, raw = simctl.post(x["url"], xmlrpc.client.dumps(
                    (sid, x["ref"], {"server": "s", "serverpath": "/p"}, "0", "n", "",
                     "nfs", "user", True), "SR.create").encode())
                (r,), _ = xmlrpc.client.loads(raw)
                _, _, raw = simctl.post(x["url"], xmlrpc.client.dumps(
                    (sid, r["Value"]), "SR.get_physical_size").encode())
                (r,), _ = xmlrpc.client.loads(raw)
                self.assertEqual(r["Value"], str(GIB))
            finally:
                proc.terminate()
                self.assertEqual(proc.wait(5), 0)
                self.assertEqual(proc.stdout.read(), b"")
                proc.stdout.close()
            self.assertEqual(sorted(os.listdir(d)), [])

    def test_config_storage_and_capabilities(self):
        u = "12345678-1234-1234-1234-123456789abc"
        cfg = {"storage": [{"uuid": u, "type": "lvmohba", "physical_size": 5 * GIB,
                            "device_config": {"SCSIid": "360a98"},
                            "vdis": [{"name_label": "a", "virtual_size": GIB}]}],
               "sm_capabilities": {"lvmohba": ["SR_PROBE", "VDI_ATTACH"]}}
        with simctl.Simulator(pools=[("p", ["m"])], config=cfg) as sim:
            s = sim.login()
            out = sim.call("m", "SR.probe", s, sim.host("m")["ref"],
                           {"SCSIid": "360a98"}, "lvmohba", {})
            self.assertIn(u, out)
            sr = sim.call("m", "SR.introduce", s, u, "hba", "", "lvmohba", "user", True)
            pbd = sim.call("m", "PBD.create", s, {"host": sim.host("m")["ref"], "SR": sr,
                                                  "device_config": {"SCSIid": "360a98"}})
            sim.call("m", "PBD.plug", s, pbd)
            self.assertEqual(sim.call("m", "SR.get_physical_utilisation", s, sr), str(GIB))
            with self.assertRaises(XapiFailure) as cm:
                sim.call("m", "VDI.create", s, vdi_rec(sr))
            self.assertEqual(cm.exception.description, ["SR_OPERATION_NOT_SUPPORTED", sr])
            sm = [r for r in sim.call("m", "SM.get_all_records", s).values()
                  if r["type"] == "lvmohba"][0]
            self.assertEqual(sm["capabilities"], ["SR_PROBE", "VDI_ATTACH"])

    def test_sigterm_cleans_up(self):
        sim = simctl.Simulator(pools=[("solo", ["a"])],
                               config={"users": {"admin": "pw"}})
        try:
            sock = sim.host("a")["unix"]
            self.assertTrue(os.path.exists(sock))
            s = sim.call("a", "session.login_with_password", "admin", "pw")
            self.assertTrue(s.startswith("OpaqueRef:"))
            sim.proc.terminate()
            self.assertEqual(sim.proc.wait(5), 0)
            self.assertFalse(os.path.exists(sock))
        finally:
            sim.stop()

    def test_bad_config(self):
        for cfg in ({"pools": [{"name": "x", "master": "z", "hosts": ["a"]}]},
                    {"pools": [{"name": "x", "hosts": ["a", "a"]}]},
                    {"pools": [{"name": "x", "hosts": ["a"]}],
                     "storage": [{"device_config": {}}]},
                    {"pools": [{"name": "x", "hosts": ["a"]}],
                     "capacity": [{"match": {}, "physical_size": "lots"}]}):
            with self.subTest(cfg=cfg), self.assertRaises(RuntimeError) as cm:
                simctl.Simulator(config=cfg, timeout=10)
            self.assertIn("rc=2", str(cm.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
