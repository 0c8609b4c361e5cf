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
import uuid
import xml.etree.ElementTree as ET
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
    path = "/var/lib/xcp/xapi"
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

    def watch(self, sub, pred, timeout=30):
        """event.from on `sub` until an event's snapshot satisfies pred;
        returns that snapshot."""
        deadline = time.monotonic() + timeout
        token = ""
        while True:
            left = deadline - time.monotonic()
            self.assertGreater(left, 0, "no matching event on %s" % sub)
            r = self.c("event.from", self.s, [sub], token, left)
            token = r["token"]
            for e in r["events"]:
                if "snapshot" in e and pred(e["snapshot"]):
                    return e["snapshot"]


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
        v = self.c("VDI.create", self.s, vdi_rec(sr))
        for p in self.c("SR.get_PBDs", self.s, sr):
            self.c("PBD.unplug", self.s, p)
        # xapi_sr_operations.ml check_any_managed_vdis
        self.assertEqual(self.fails("SR_NOT_EMPTY", "SR.destroy", self.s, sr), [])
        self.c("PBD.plug", self.s, self.c("SR.get_PBDs", self.s, sr)[0])
        self.c("VDI.destroy", self.s, v)
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

    def test_resize(self):
        """VDI.resize grows (space checked), the same size is a no-op,
        shrinking is SM's VDISize, a type without VDI_RESIZE is refused."""
        dc = {"server": "rs", "serverpath": "/rs"}
        self.sim.set_device_capacity(dc, 10 * GIB)
        sr = self.nfs_sr(dc=dc, name="rs")
        v = self.c("VDI.create", self.s, vdi_rec(sr))
        self.assertEqual(self.c("VDI.resize", self.s, v, str(3 * GIB)), "")
        self.assertEqual(self.c("VDI.get_virtual_size", self.s, v), str(3 * GIB))
        self.assertEqual(self.c("SR.get_virtual_allocation", self.s, sr), str(3 * GIB))
        self.c("VDI.resize", self.s, v, str(3 * GIB))
        p = self.fails("SR_BACKEND_FAILURE_79", "VDI.resize", self.s, v, str(GIB))
        self.assertEqual(p, ["", "VDI Invalid size [opterr=shrinking not allowed]", ""])
        self.assertEqual(self.c("VDI.get_virtual_size", self.s, v), str(3 * GIB))
        self.fails("SR_BACKEND_FAILURE_44", "VDI.resize", self.s, v, str(11 * GIB))
        self.assertEqual(self.c("VDI.get_virtual_size", self.s, v), str(3 * GIB))
        task = self.c("Async.VDI.resize", self.s, v, str(4 * GIB))
        self.sim.wait_idle()
        self.assertEqual(self.c("task.get_status", self.s, task), "success")
        self.assertEqual(self.c("VDI.get_virtual_size", self.s, v), str(4 * GIB))
        dc = {"target": "t", "targetIQN": "iqn.resize-test"}
        self.sim.set_device_luns(dc, [GIB])
        iscsi = self.c("SR.create", self.s, self.h1["ref"], dc, "0", "raw", "", "iscsi",
                       "user", True, {})
        w = self.c("VDI.create", self.s, vdi_rec(iscsi))
        self.assertEqual(self.fails("SR_OPERATION_NOT_SUPPORTED", "VDI.resize",
                                    self.s, w, str(2 * GIB)), [iscsi])

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
        self.sim.reset_counts()
        self.sim.drop("host.get_all", nth=1)
        for unix in (False, True):
            with self.assertRaises((http.client.RemoteDisconnected, ConnectionError)):
                self.c("host.get_all", self.s, unix=unix)
            self.sim.drop("host.get_all", nth=1)
        self.sim.clear_faults()
        self.assertEqual(len(self.c("host.get_all", self.s)), 3)
        # dropped calls were received: they count
        self.assertEqual(self.sim.counts(), {"host.get_all": 3})

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
        self.assertIsNone(out["url"])       # PATH alone: no XENSM_XAPI_URL
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
        self.assertIsNone(out["url"])

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



class LocalLogin(SimTest):
    """S1: a login on a host's unix socket is local (xapi_session.ml:
    Context.preauth = root): no password check, not forwarded, the session's
    host is that host."""

    def test_unix_login_is_local_on_every_host(self):
        for name in ("h1", "h2", "h3"):
            h = self.sim.host(name)
            s = self.c("session.login_with_password", "root", "not-the-password", "2.0",
                       "local-test", host=name, unix=True)
            self.assertEqual(self.c("session.get_this_host", s, s, host=name, unix=True),
                             h["ref"])
            rec = self.c("session.get_record", s, s, host=name, unix=True)
            self.assertFalse(rec["pool"])
            self.assertTrue(rec["is_local_superuser"])
            self.assertEqual((rec["auth_user_name"], rec["originator"]),
                             ("root", "local-test"))
            # a session of the pool: valid on the master's TCP port ...
            self.assertEqual(len(self.c("host.get_all", s, host="h1")), 3)
            if name != "h1":
                # ... not on the member's: it is not a pool session
                self.assertEqual(self.fails("HOST_IS_SLAVE", "host.get_all", s, host=name),
                                 [self.h1["address"]])
            self.c("session.logout", s, host=name, unix=True)
        # TCP logins are checked and belong to the master, as before
        self.fails("SESSION_AUTHENTICATION_FAILED", "session.login_with_password",
                   "root", "nope")
        s = self.sim.login("h1")
        self.assertEqual(self.c("session.get_this_host", s, s), self.h1["ref"])

    def test_no_legacy_login(self):
        """The transitional legacy_unix_login option is gone: a config that
        names it is refused, and so is set_option."""
        with self.assertRaises(simctl.XapiFailure) as cm:
            self.sim.set_option("legacy_unix_login", True)
        self.assertEqual(cm.exception.code, "INVALID_VALUE")
        self.assertNotIn("legacy_unix_login", self.sim.options())
        self.fails("SESSION_AUTHENTICATION_FAILED", "session.login_with_password",
                   "root", "nope", host="h1")
        s = self.c("session.login_with_password", "root", "nope", "2.0", "t", host="h2",
                   unix=True)
        self.assertEqual(self.c("session.get_this_host", s, s, host="h2", unix=True),
                         self.sim.host("h2")["ref"])


class Drivers(SimTest):
    """S4: the SR types of a real host, as xapi-project/sm's drivers are."""

    def test_lun_per_vdi(self):
        for t, dc in (("iscsi", {"target": "10.9.9.9", "targetIQN": "iqn.luns"}),
                      ("hba", {"type": "FC"})):
            with self.subTest(type=t):
                self.sim.set_device_luns(dc, [4 * GIB, 2 * GIB, 8 * GIB])
                sr = self.c("SR.create", self.s, self.h1["ref"], dc, "0", t, "", t,
                            "user", True, {})
                luns = self.c("SR.get_VDIs", self.s, sr)
                self.assertEqual(len(luns), 3)
                self.assertFalse(any(self.c("VDI.get_managed", self.s, v) for v in luns))
                self.assertEqual(self.c("SR.get_physical_size", self.s, sr), str(14 * GIB))
                self.assertEqual(self.c("SR.get_physical_utilisation", self.s, sr), "0")
                # LUNperVDI.py: the smallest unmanaged LUN that is large enough
                v = self.c("VDI.create", self.s, vdi_rec(sr, name_label="wanted",
                                                         other_config={"k": "v"}))
                self.assertIn(v, luns)
                rec = self.c("VDI.get_record", self.s, v)
                self.assertEqual(rec["virtual_size"], str(2 * GIB))
                self.assertTrue(rec["managed"])
                self.assertEqual(rec["name_label"], "")        # not the requested one
                self.assertEqual(rec["other_config"], {"k": "v"})
                self.assertEqual(rec["sm_config"]["backend-kind"], "vbd")
                self.assertEqual(self.c("SR.get_physical_utilisation", self.s, sr),
                                 str(2 * GIB))
                big = self.c("VDI.create", self.s, vdi_rec(sr, virtual_size=str(5 * GIB)))
                self.assertEqual(self.c("VDI.get_virtual_size", self.s, big), str(8 * GIB))
                self.assertEqual(self.fails("SR_BACKEND_FAILURE_44", "VDI.create", self.s,
                                            vdi_rec(sr, virtual_size=str(5 * GIB))),
                                 ["", "There is insufficient space", ""])
                # destroy: xapi drops the record; the LUN stays, unmanaged,
                # and the next scan finds it again without its tags
                self.c("VDI.destroy", self.s, v)
                self.fails("HANDLE_INVALID", "VDI.get_record", self.s, v)
                self.c("SR.scan", self.s, sr)
                again = self.c("VDI.get_by_uuid", self.s, rec["uuid"])
                self.assertFalse(self.c("VDI.get_managed", self.s, again))
                self.assertEqual(self.c("VDI.get_other_config", self.s, again), {})
                self.assertEqual(self.fails("VDI_NOT_MANAGED", "VDI.destroy", self.s, again),
                                 [again])
        # a target without a free LUN: SRNoSpace
        sr = self.c("SR.create", self.s, self.h1["ref"],
                    {"target": "10.9.9.10", "targetIQN": "iqn.empty"}, "0", "e", "",
                    "iscsi", "user", True, {})
        self.assertEqual(self.fails("SR_BACKEND_FAILURE_44", "VDI.create", self.s,
                                    vdi_rec(sr)), ["", "There is insufficient space", ""])

    def test_declared_drivers(self):
        """The config's "drivers" declares a driver a test needs (netapp) or
        changes one (iscsi making new VDIs)."""
        cfg = {"drivers": {
            "netapp": {"name": "NetApp", "capabilities": ["SR_PROBE", "VDI_CREATE",
                                                          "VDI_DELETE", "VDI_CLONE",
                                                          "VDI_SNAPSHOT"],
                       "required": [["target", 120, "Netapp Target parameter missing"],
                                    ["username", 121, "Netapp Username parameter missing"],
                                    ["password", 122, "Netapp Password parameter missing"],
                                    ["aggregate", 123, "Netapp Aggregate parameter missing"]],
                       "optional": ["FlexVols"]},
            "iscsi": {"vdis": "file"}}}
        with simctl.Simulator(pools=[("p", ["m"])], config=cfg) as sim:
            s = sim.login()
            m = sim.host("m")["ref"]
            sm = {r["type"]: r for r in sim.call("m", "SM.get_all_records", s).values()}
            self.assertEqual(sm["netapp"]["capabilities"],
                             ["SR_PROBE", "VDI_CREATE", "VDI_DELETE", "VDI_CLONE",
                              "VDI_SNAPSHOT"])
            self.assertEqual(sm["netapp"]["configuration"],
                             {"target": "required", "username": "required",
                              "password": "required", "aggregate": "required",
                              "FlexVols": "optional"})
            with self.assertRaises(XapiFailure) as cm:
                sim.call("m", "SR.create", s, m, {"target": "t", "username": "u"}, "0",
                         "n", "", "netapp", "user", True, {})
            self.assertEqual(cm.exception.description,
                             ["SR_BACKEND_FAILURE_122", "", "Netapp Password parameter missing",
                              ""])
            sr = sim.call("m", "SR.create", s, m, {"target": "t", "username": "u",
                                                   "password": "p", "aggregate": "a"},
                          "0", "n", "", "netapp", "user", True, {})
            v = sim.call("m", "VDI.create", s, vdi_rec(sr))
            sim.call("m", "VDI.clone", s, v, {})
            sr = sim.call("m", "SR.create", s, m, {"target": "t", "targetIQN": "i"}, "0",
                          "i", "", "iscsi", "user", True, {})
            v = sim.call("m", "VDI.create", s, vdi_rec(sr, name_label="mine"))
            self.assertEqual(sim.call("m", "VDI.get_name_label", s, v), "mine")
            with self.assertRaises(XapiFailure) as cm:
                sim.call("m", "VDI.clone", s, v, {})
            self.assertEqual(cm.exception.description, ["SR_OPERATION_NOT_SUPPORTED", sr])
    def test_pool_sm_drivers(self):
        """A pool's "sm_drivers" lists the SM records it has (a host whose
        sm-plugins whitelist is narrower): the others are unknown drivers
        there, as on a real pool without them; other pools keep them all."""
        cfg = {"pools": [{"name": "narrow", "hosts": ["n1"], "sm_drivers": ["ext", "lvm"]},
                         {"name": "full", "hosts": ["f1"]}]}
        with simctl.Simulator(config=cfg) as sim:
            s = sim.login("n1")
            n1 = sim.host("n1")["ref"]
            types = sorted(r["type"] for r in sim.call("n1", "SM.get_all_records", s).values())
            self.assertEqual(types, ["ext", "lvm"])
            self.assertEqual(sim.call("n1", "SR.get_supported_types", s), ["ext", "lvm"])
            with self.assertRaises(XapiFailure) as cm:
                sim.call("n1", "SR.create", s, n1, NFS, "0", "n", "", "nfs", "user", True, {})
            self.assertEqual(cm.exception.description, ["SR_UNKNOWN_DRIVER", "nfs"])
            s2 = sim.login("f1")
            full = {r["type"] for r in sim.call("f1", "SM.get_all_records", s2).values()}
            self.assertIn("nfs", full)
            self.assertIn("iscsi", full)
        with self.assertRaises(RuntimeError) as cm:
            simctl.Simulator(config={"pools": [{"name": "p", "hosts": ["x1"],
                                                "sm_drivers": ["netapp"]}]}, timeout=10)
        self.assertIn("rc=2", str(cm.exception))

    def test_declared_drivers_refused(self):
        for bad in ({"drivers": {"x": {"vdis": "tape"}}},
                    {"drivers": {"x": {"required": [["k"]]}}},
                    {"sm_capabilities": {"netapp": ["SR_PROBE"]}}):
            with self.subTest(cfg=bad), self.assertRaises(RuntimeError) as cm:
                simctl.Simulator(config=bad, timeout=10)
            self.assertIn("rc=2", str(cm.exception))


class DriverStderr(SimTest):
    """S8: SR_BACKEND_FAILURE_* is ["", reason, the driver's stderr]
    (sm_exec.ml)."""

    def test_driver_text_in_the_error(self):
        text = "mount.nfs: access denied by server; mount -o password=hunter2"
        self.sim.set_driver_stderr(text, "nfs")
        try:
            p = self.fails("SR_BACKEND_FAILURE_101", "SR.create", self.s, self.h1["ref"],
                           {"server": "s"}, "0", "x", "", "nfs", "user", True, {})
            self.assertEqual(p, ["", "The request is missing the serverpath parameter",
                                 text])
            p = self.fails("SR_BACKEND_FAILURE_90", "SR.create", self.s, self.h1["ref"],
                           {}, "0", "x", "", "ext", "user", False, {})
            self.assertEqual(p[2], "")
            dc = {"server": "stderr", "serverpath": "/small"}
            self.sim.set_device_capacity(dc, GIB)
            sr = self.nfs_sr(dc=dc)
            p = self.fails("SR_BACKEND_FAILURE_44", "VDI.create", self.s,
                           vdi_rec(sr, virtual_size=str(2 * GIB)))
            self.assertEqual(p, ["", "There is insufficient space", text])
            self.sim.set_driver_stderr("every driver", "*")
            p = self.fails("SR_BACKEND_FAILURE_90", "SR.create", self.s, self.h1["ref"],
                           {}, "0", "x", "", "ext", "user", False, {})
            self.assertEqual(p[2], "every driver")
        finally:
            self.sim.set_driver_stderr("", "nfs")
            self.sim.set_driver_stderr("", "*")


class Tasks(SimTest):
    """S6: Async.* calls, task records (xapi_task.ml, taskHelper.ml,
    server_helpers.ml)."""

    def tearDown(self):
        self.sim.clear_faults()
        self.sim.wait_idle()

    def test_async_success(self):
        sr = self.nfs_sr()
        t = self.c("Async.VDI.create", self.s, vdi_rec(sr, name_label="async"))
        self.assertRegex(t, r"^OpaqueRef:[0-9a-f-]{36}$")
        self.sim.wait_idle()
        rec = self.c("task.get_record", self.s, t)
        self.assertEqual(rec["status"], "success")
        self.assertEqual(rec["progress"], 1.0)
        self.assertEqual(rec["name_label"], "Async.VDI.create")
        self.assertEqual(rec["error_info"], [])
        self.assertEqual(rec["allowed_operations"], [])
        self.assertEqual(rec["resident_on"], self.h1["ref"])
        self.assertEqual(rec["type"], "<none/>")
        self.assertNotEqual(str(rec["finished"]), "19700101T00:00:00Z")
        # task.result is the XML-RPC value of the result (Xmlrpc.to_string)
        m = re.fullmatch(r"<value>(OpaqueRef:[0-9a-f-]{36})</value>", rec["result"])
        self.assertIsNotNone(m, rec["result"])
        self.assertEqual(self.c("VDI.get_name_label", self.s, m.group(1)), "async")
        self.assertEqual(self.c("task.get_status", self.s, t), "success")
        self.assertEqual(self.c("task.get_result", self.s, t), rec["result"])
        self.assertIn(t, self.c("task.get_all_records", self.s))
        self.assertIn(t, self.c("task.get_all", self.s))
        self.assertIn(t, self.c("session.get_tasks", self.s, self.s))
        self.assertEqual(self.c("task.get_by_uuid", self.s, rec["uuid"]), t)
        self.c("task.destroy", self.s, t)
        self.assertEqual(self.fails("HANDLE_INVALID", "task.get_record", self.s, t),
                         ["task", t])
        # a void result, a string result
        t = self.c("Async.SR.scan", self.s, sr)
        self.sim.wait_idle()
        self.assertEqual(self.c("task.get_result", self.s, t), "<value></value>")
        t = self.c("Async.host.call_plugin", self.s, self.h1["ref"], "testplug",
                   "compact", {})
        self.sim.wait_idle()
        self.assertEqual(self.c("task.get_status", self.s, t), "success")

    def test_async_failures(self):
        sr = self.nfs_sr()
        bad = "OpaqueRef:00000000-0000-0000-0000-000000000000"
        # errors of the implementation end in the task
        t = self.c("Async.VDI.destroy", self.s, bad)
        self.sim.wait_idle()
        rec = self.c("task.get_record", self.s, t)
        self.assertEqual(rec["status"], "failure")
        self.assertEqual(rec["error_info"], ["HANDLE_INVALID", "VDI", bad])
        self.assertEqual(rec["result"], "")
        self.sim.fail("VDI.create", "SR_BACKEND_FAILURE_78", ["", "VDI creation failed", ""])
        t = self.c("Async.VDI.create", self.s, vdi_rec(sr))
        self.sim.wait_idle()
        self.assertEqual(self.c("task.get_error_info", self.s, t),
                         ["SR_BACKEND_FAILURE_78", "", "VDI creation failed", ""])
        self.assertEqual(self.c("task.get_status", self.s, t), "failure")
        # the server's checks answer at once, without a task
        self.assertEqual(self.fails("MESSAGE_PARAMETER_COUNT_MISMATCH", "Async.VDI.create",
                                    self.s), ["VDI.create", "1", "0"])
        self.fails("SESSION_INVALID", "Async.SR.scan", "OpaqueRef:x", sr)
        rec = vdi_rec(sr)
        del rec["virtual_size"]
        self.fails("INTERNAL_ERROR", "Async.VDI.create", self.s, rec)
        self.assertEqual(self.fails("HOST_IS_SLAVE", "Async.SR.scan", self.s, sr, host="h2"),
                         [self.h1["address"]])

    def test_async_only_where_xapi_has_it(self):
        sr = self.nfs_sr()
        for name, params in (("Async.session.get_this_host", (self.s, self.s)),
                             ("Async.SR.get_record", (self.s, sr)),
                             ("Async.SR.get_supported_types", (self.s,)),
                             ("Async.task.get_all", (self.s,))):
            self.assertEqual(self.fails("Fault", name, *params),
                             ["No async mode for this operation (rpc: %s)" % name[6:]])
        self.assertEqual(self.fails("MESSAGE_METHOD_UNKNOWN", "Async.SR.frobnicate",
                                    self.s), ["SR.frobnicate"])
        # implicit constructors and destructors have an Async form
        sr2 = self.c("SR.introduce", self.s, "", "async-pbd", "", "nfs", "user", True)
        t = self.c("Async.PBD.create", self.s, {"host": self.h1["ref"], "SR": sr2,
                                                 "device_config": NFS})
        self.sim.wait_idle()
        self.assertEqual(self.c("task.get_status", self.s, t), "success")
        self.assertEqual(len(self.c("SR.get_PBDs", self.s, sr2)), 1)

    def test_progress_then_cancel(self):
        sr = self.nfs_sr()
        self.sim.delay("VDI.create", 30, nth=1, repeat=False)
        t = self.c("Async.VDI.create", self.s, vdi_rec(sr, name_label="cancelled"))
        snap = self.watch("task/" + t, lambda r: r["progress"] > 0)
        self.assertEqual(snap["status"], "pending")
        self.assertLess(snap["progress"], 1.0)
        self.assertEqual(snap["allowed_operations"], ["cancel"])
        self.c("task.cancel", self.s, t)
        self.sim.wait_idle()
        rec = self.c("task.get_record", self.s, t)
        self.assertEqual(rec["status"], "cancelled")
        self.assertEqual(rec["error_info"], ["TASK_CANCELLED", t])
        self.assertEqual(rec["progress"], 1.0)
        self.assertEqual(self.c("VDI.get_by_name_label", self.s, "cancelled"), [])

    def test_cancel_too_late(self):
        sr = self.nfs_sr()
        self.sim.delay("VDI.create", 1.5, nth=1, repeat=False, when="after")
        t = self.c("Async.VDI.create", self.s, vdi_rec(sr, name_label="made-anyway"))
        self.watch("vdi", lambda r: r["name_label"] == "made-anyway")
        self.c("task.cancel", self.s, t)
        self.sim.wait_idle()
        self.assertEqual(self.c("task.get_status", self.s, t), "success")
        self.assertEqual(len(self.c("VDI.get_by_name_label", self.s, "made-anyway")), 1)

    def test_destroy_while_pending_and_other_config(self):
        sr = self.nfs_sr()
        self.sim.delay("VDI.create", 30, nth=1, repeat=False)
        t1 = self.c("Async.VDI.create", self.s, vdi_rec(sr))
        self.watch("sr/" + sr, lambda r: list(r["current_operations"].values())
                   == ["vdi_create"])
        t = self.c("Async.SR.scan", self.s, sr)          # waits for t1
        self.c("task.add_to_other_config", self.s, t, "xensm-request", "r1")
        self.assertEqual(self.fails("MAP_DUPLICATE_KEY", "task.add_to_other_config",
                                    self.s, t, "xensm-request", "r2"),
                         ["task", "other_config", t, "xensm-request"])
        self.c("task.set_other_config", self.s, t, {"xensm-request": "r3", "a": "b"})
        self.assertEqual(self.c("task.get_other_config", self.s, t),
                         {"xensm-request": "r3", "a": "b"})
        self.c("task.remove_from_other_config", self.s, t, "a")
        # xapi_task.ml destroy: a pending task goes when it finishes
        self.c("task.destroy", self.s, t)
        self.assertEqual(self.c("task.get_status", self.s, t), "pending")
        self.assertIn("destroy", self.c("task.get_current_operations", self.s, t).values())
        # xapi_task.ml cancel sets current_operations to the cancel alone:
        # a destroy asked for before is forgotten
        self.c("task.destroy", self.s, t1)
        self.c("task.cancel", self.s, t1)
        self.sim.wait_idle()
        self.fails("HANDLE_INVALID", "task.get_record", self.s, t)
        self.assertEqual(self.c("task.get_status", self.s, t1), "cancelled")
        self.c("task.destroy", self.s, t1)
        self.fails("HANDLE_INVALID", "task.get_record", self.s, t1)

    def test_sync_calls_run_in_tasks(self):
        """context.ml: a call of a message with an Async form runs in a task
        in the database, even when synchronous; it goes when the call ends."""
        sr = self.nfs_sr()
        self.sim.delay("VDI.create", 30, nth=1, repeat=False)
        out = {}

        def create():
            try:
                out["value"] = self.c("VDI.create", self.s, vdi_rec(sr, name_label="sync"))
            except XapiFailure as e:
                out["error"] = e.description
        th = threading.Thread(target=create)
        th.start()
        snap = self.watch("task", lambda r: r["name_label"] == "VDI.create"
                          and r["status"] == "pending")
        t = self.c("task.get_by_uuid", self.s, snap["uuid"])
        self.c("task.cancel", self.s, t)
        th.join()
        self.assertEqual(out, {"error": ["TASK_CANCELLED", t]})
        self.fails("HANDLE_INVALID", "task.get_record", self.s, t)
        self.assertEqual(self.c("VDI.get_by_name_label", self.s, "sync"), [])
        # reads have no task
        before = len(self.c("task.get_all", self.s))
        self.c("SR.get_record", self.s, sr)
        self.assertEqual(len(self.c("task.get_all", self.s)), before)


class Queue(SimTest):
    """S6: conflicting operations on one SR wait for each other
    (message_forwarding.ml with_sr_marked / with_sr_andor_vdi, helpers.ml
    retry, xapi_sr_operations.ml check_parallel_ops)."""

    def tearDown(self):
        self.sim.clear_faults()
        self.sim.wait_idle()

    def marked(self, sr, ops):
        return self.watch("sr/" + sr, lambda r: sorted(r["current_operations"].values())
                          == sorted(ops))

    def test_operations_queue_on_one_sr(self):
        sr = self.nfs_sr()
        other = self.nfs_sr(name="other")
        self.sim.delay("VDI.create", 30, nth=1, repeat=False)
        t1 = self.c("Async.VDI.create", self.s, vdi_rec(sr, name_label="first"))
        snap = self.marked(sr, ["vdi_create"])
        self.assertEqual(snap["current_operations"], {t1: "vdi_create"})
        self.assertEqual(snap["allowed_operations"], [])
        t2 = self.c("Async.SR.scan", self.s, sr)
        t3 = self.c("Async.VDI.create", self.s, vdi_rec(sr, name_label="second"))
        t4 = self.c("Async.VDI.create", self.s, vdi_rec(other, name_label="elsewhere"))
        done = self.watch("task/" + t4, lambda r: r["status"] != "pending")
        self.assertEqual(done["status"], "success")      # another SR: not held up
        for t in (t2, t3):
            self.assertEqual(self.c("task.get_status", self.s, t), "pending")
            self.assertEqual(self.c("task.get_allowed_operations", self.s, t), ["cancel"])
        self.assertEqual(self.c("SR.get_current_operations", self.s, sr), {t1: "vdi_create"})
        self.assertFalse(json.loads(self.sim.control("wait_idle", "0.2"))["idle"])
        self.c("task.cancel", self.s, t1)
        self.sim.wait_idle()
        self.assertEqual([self.c("task.get_status", self.s, t) for t in (t1, t2, t3)],
                         ["cancelled", "success", "success"])
        self.assertEqual(self.c("SR.get_current_operations", self.s, sr), {})
        self.assertIn("scan", self.c("SR.get_allowed_operations", self.s, sr))
        self.assertEqual(self.c("VDI.get_by_name_label", self.s, "first"), [])
        self.assertEqual(len(self.c("VDI.get_by_name_label", self.s, "second")), 1)

    def test_queue_gives_up_with_other_operation_in_progress(self):
        sr = self.nfs_sr()
        v = self.c("VDI.create", self.s, vdi_rec(sr))
        self.sim.set_option("queue_max_wait", 0.3)
        try:
            self.sim.delay("VDI.create", 30, nth=1, repeat=False)
            t1 = self.c("Async.VDI.create", self.s, vdi_rec(sr))
            self.marked(sr, ["vdi_create"])
            busy = ["SR", sr, "vdi_create", t1]
            self.assertEqual(self.fails("OTHER_OPERATION_IN_PROGRESS", "SR.scan", self.s, sr),
                             busy)
            self.assertEqual(self.fails("OTHER_OPERATION_IN_PROGRESS", "VDI.destroy", self.s,
                                        v), busy)
            # checks that come first fail at once (xapi_sr_operations.ml)
            self.assertEqual(self.fails("SR_HAS_PBD", "SR.forget", self.s, sr), [sr])
            self.c("task.cancel", self.s, t1)
        finally:
            self.sim.set_option("queue_max_wait", 7200)

    def test_cancel_while_queued(self):
        sr = self.nfs_sr()
        self.sim.delay("VDI.create", 30, nth=1, repeat=False)
        t1 = self.c("Async.VDI.create", self.s, vdi_rec(sr))
        self.marked(sr, ["vdi_create"])
        t2 = self.c("Async.SR.scan", self.s, sr)
        self.c("task.cancel", self.s, t2)
        done = self.watch("task/" + t2, lambda r: r["status"] != "pending")
        self.assertEqual((done["status"], done["error_info"]),
                         ("cancelled", ["TASK_CANCELLED", t2]))
        self.assertEqual(self.c("task.get_status", self.s, t1), "pending")
        self.c("task.cancel", self.s, t1)

    def test_plugs_run_side_by_side(self):
        sr = self.nfs_sr()
        pbds = self.c("SR.get_PBDs", self.s, sr)
        for p in pbds:
            self.c("PBD.unplug", self.s, p)
        self.sim.delay("PBD.plug", 30, nth=1, repeat=True)
        tasks = [self.c("Async.PBD.plug", self.s, p) for p in pbds[:2]]
        snap = self.marked(sr, ["plug", "plug"])
        self.assertEqual(sorted(snap["current_operations"]), sorted(tasks))
        self.assertEqual(self.c("task.get_resident_on", self.s, tasks[1]),
                         self.c("PBD.get_host", self.s, pbds[1]))
        t3 = self.c("Async.SR.scan", self.s, sr)        # not with plugs
        for t in tasks:
            self.c("task.cancel", self.s, t)
        done = self.watch("task/" + t3, lambda r: r["status"] != "pending")
        # both plugs were cancelled: no PBD plugged, the scan finds none
        self.assertEqual(done["error_info"], ["SR_NO_PBDS", sr])

    def test_unplug_waits_for_vdi_operations(self):
        sr = self.nfs_sr()
        v = self.c("VDI.create", self.s, vdi_rec(sr))
        self.sim.delay("VDI.snapshot", 30, nth=1, repeat=False)
        t1 = self.c("Async.VDI.snapshot", self.s, v, {})
        self.marked(sr, ["vdi_snapshot"])
        self.assertEqual(self.c("VDI.get_current_operations", self.s, v), {t1: "snapshot"})
        self.assertNotIn("destroy", self.c("VDI.get_allowed_operations", self.s, v))
        pbd = self.c("SR.get_PBDs", self.s, sr)[0]
        t2 = self.c("Async.PBD.unplug", self.s, pbd)
        t3 = self.c("Async.VDI.destroy", self.s, v)
        self.c("task.cancel", self.s, t1)
        self.sim.wait_idle()
        self.assertEqual([self.c("task.get_status", self.s, t) for t in (t1, t2, t3)],
                         ["cancelled", "success", "success"])
        self.assertFalse(self.c("PBD.get_currently_attached", self.s, pbd))


class Vbds(SimTest):
    """S6: VBDs: an attached VDI is in use (xapi_vdi.ml, xapi_pbd.ml,
    xapi_vbd_helpers.ml)."""

    def test_attached_vdi_is_in_use(self):
        sr = self.nfs_sr()
        v = self.c("VDI.create", self.s, vdi_rec(sr))
        vbd = self.sim.attach_vdi(self.c("VDI.get_uuid", self.s, v))
        rec = self.c("VBD.get_record", self.s, vbd)
        dom0 = self.c("host.get_control_domain", self.s, self.h1["ref"])
        self.assertEqual((rec["VM"], rec["VDI"], rec["mode"], rec["currently_attached"]),
                         (dom0, v, "RW", True))
        self.assertTrue(self.c("VM.get_is_control_domain", self.s, dom0))
        self.assertEqual(self.c("VM.get_resident_on", self.s, dom0), self.h1["ref"])
        self.assertEqual(self.c("VDI.get_VBDs", self.s, v), [vbd])
        self.assertIn(vbd, self.c("VM.get_VBDs", self.s, dom0))
        self.assertEqual(self.fails("VDI_IN_USE", "VDI.destroy", self.s, v), [v, "destroy"])
        allowed = self.c("VDI.get_allowed_operations", self.s, v)
        self.assertNotIn("destroy", allowed)
        self.assertIn("snapshot", allowed)
        self.c("VDI.snapshot", self.s, v, {})         # a live operation
        pbds = {self.c("PBD.get_host", self.s, p): p for p in self.c("SR.get_PBDs", self.s, sr)}
        self.assertEqual(self.fails("VDI_IN_USE", "PBD.unplug", self.s, pbds[self.h1["ref"]]),
                         [v])
        h2 = self.sim.host("h2")["ref"]
        self.c("PBD.unplug", self.s, pbds[h2])       # nothing attached on h2
        self.c("PBD.plug", self.s, pbds[h2])
        self.assertEqual(self.fails("OPERATION_NOT_ALLOWED", "VBD.destroy", self.s, vbd),
                         ["VBD '%s' still attached to '%s'"
                          % (rec["uuid"], self.c("VM.get_uuid", self.s, dom0))])
        self.c("VBD.unplug", self.s, vbd)
        self.assertEqual(self.fails("DEVICE_ALREADY_DETACHED", "VBD.unplug", self.s, vbd),
                         [vbd])
        self.c("VDI.destroy", self.s, v)
        self.fails("HANDLE_INVALID", "VBD.get_record", self.s, vbd)

    def test_vbd_calls(self):
        sr = self.nfs_sr()
        v = self.c("VDI.create", self.s, vdi_rec(sr))
        h2 = self.sim.host("h2")["ref"]
        dom0 = self.c("host.get_control_domain", self.s, h2)
        rec = {"VM": dom0, "VDI": v, "userdevice": "autodetect", "bootable": False,
               "mode": "RO", "type": "Disk", "empty": False, "other_config": {},
               "qos_algorithm_type": "", "qos_algorithm_params": {}}
        vbd = self.c("VBD.create", self.s, rec)
        self.assertFalse(self.c("VBD.get_currently_attached", self.s, vbd))
        self.assertEqual(self.c("VBD.get_userdevice", self.s, vbd), "0")
        self.c("VBD.plug", self.s, vbd)
        self.assertEqual(self.fails("DEVICE_ALREADY_ATTACHED", "VBD.plug", self.s, vbd),
                         [vbd])
        pbd = [p for p in self.c("SR.get_PBDs", self.s, sr)
               if self.c("PBD.get_host", self.s, p) == h2][0]
        self.assertEqual(self.fails("VDI_IN_USE", "PBD.unplug", self.s, pbd), [v])
        self.c("VBD.unplug", self.s, vbd)
        self.c("VBD.destroy", self.s, vbd)
        del rec["mode"]
        self.assertIn("Field mode not present",
                      self.fails("INTERNAL_ERROR", "VBD.create", self.s, rec)[0])


class Events(SimTest):
    """S6: event.from (xapi_event.ml, event_types.ml)."""

    def test_event_from(self):
        self.nfs_sr(name="there-before")
        r = self.c("event.from", self.s, ["sr"], "", 0)
        self.assertRegex(r["token"], r"^\d{20},\d{20}$")
        self.assertEqual(sorted(r), ["events", "token", "valid_ref_counts"])
        self.assertTrue(r["events"])
        for e in r["events"]:
            self.assertEqual(sorted(e), ["class", "id", "operation", "ref", "snapshot",
                                         "timestamp"])
            self.assertEqual((e["class"], e["operation"], e["timestamp"]),
                             ("sr", "add", "0.0"))
            self.assertRegex(e["id"], r"^\d+$")
            self.assertIn("uuid", e["snapshot"])
        self.assertEqual(r["valid_ref_counts"]["sr"], len(self.c("SR.get_all", self.s)))
        token = r["token"]
        sr = self.nfs_sr(name="evented")
        r = self.c("event.from", self.s, ["SR"], token, 10)
        adds = [e for e in r["events"] if e["ref"] == sr]
        self.assertEqual([e["operation"] for e in adds], ["add"])
        self.assertEqual(adds[0]["snapshot"]["name_label"], "evented")
        token = r["token"]
        self.c("SR.set_name_label", self.s, sr, "renamed")
        r = self.c("event.from", self.s, ["sr/" + sr], token, 10)
        self.assertEqual([(e["operation"], e["snapshot"]["name_label"]) for e in r["events"]],
                         [("mod", "renamed")])
        token = r["token"]
        for p in self.c("SR.get_PBDs", self.s, sr):
            self.c("PBD.unplug", self.s, p)
        self.c("SR.forget", self.s, sr)
        r = self.c("event.from", self.s, ["sr/" + sr], token, 10)
        dels = [e for e in r["events"] if e["operation"] == "del"]
        self.assertEqual(len(dels), 1)
        self.assertNotIn("snapshot", dels[0])
        # nothing new: empty after the timeout, the same token
        token = r["token"]
        r = self.c("event.from", self.s, ["sr/" + sr], token, 0.2)
        self.assertEqual((r["events"], r["token"]), ([], token))
        self.assertEqual(self.fails("EVENT_FROM_TOKEN_PARSE_FAILURE", "event.from", self.s,
                                    ["sr"], "nonsense", 1), ["nonsense"])

    def test_counts_are_i4(self):
        body = xmlrpc.client.dumps((self.s, ["pool"], "", 0.0), "event.from")
        raw = self.sim.raw_bytes("h1", body.encode()).decode()
        self.assertIn("<member><name>pool</name><value><i4>1</i4></value></member>", raw)

    def test_task_events_and_waiting(self):
        r = self.c("event.from", self.s, ["task"], "", 0)
        out = {}

        def wait():
            out["r"] = self.c("event.from", self.s, ["task"], r["token"], 30)
        th = threading.Thread(target=wait)
        th.start()
        # a waiting event.from is not work in flight
        self.sim.wait_idle()
        sr = self.nfs_sr()
        t = self.c("Async.SR.scan", self.s, sr)
        th.join()
        self.assertIn(t, [e["ref"] for e in out["r"]["events"]])
        self.sim.wait_idle()
        r2 = self.c("event.from", self.s, ["task/" + t], "", 10)
        self.assertEqual([(e["operation"], e["snapshot"]["status"]) for e in r2["events"]],
                         [("add", "success")])
        self.c("task.destroy", self.s, t)
        r3 = self.c("event.from", self.s, ["task/" + t], r2["token"], 10)
        self.assertEqual([e["operation"] for e in r3["events"]], ["del"])


class WaitIdle(SimTest):
    def test_wait_idle(self):
        sr = self.nfs_sr()
        self.sim.delay("VDI.create", 30, nth=1, repeat=False)
        t = self.c("Async.VDI.create", self.s, vdi_rec(sr))
        busy = json.loads(self.sim.control("wait_idle", "0.1"))
        self.assertEqual(busy, {"idle": False, "in_flight": 0, "pending_tasks": 1})
        self.c("task.cancel", self.s, t)
        self.assertEqual(self.sim.wait_idle(), {"idle": True, "in_flight": 0,
                                                "pending_tasks": 0})
        self.assertEqual(self.c("task.get_status", self.s, t), "cancelled")
        # and a task that succeeds: done when wait_idle returns
        t = self.c("Async.VDI.create", self.s, vdi_rec(sr))
        self.sim.wait_idle()
        self.assertEqual(self.c("task.get_status", self.s, t), "success")


class Counts(SimTest):
    def test_counts_per_host_and_session(self):
        self.sim.reset_counts()
        s2 = self.c("session.login_with_password", "root", "", "2.0", "bench", host="h2",
                    unix=True)
        for _ in range(2):
            self.c("host.get_all", s2, host="h2", unix=True)
        self.c("pool.get_all", self.s)
        sr = self.nfs_sr()
        self.c("Async.SR.scan", self.s, sr)
        self.sim.wait_idle()
        cc = self.sim.call_counts()
        self.assertEqual(cc["hosts"]["h2"], {"total": 3, "methods": {
            "session.login_with_password": 1, "host.get_all": 2}})
        self.assertEqual(cc["hosts"]["h1"]["methods"], {
            "pool.get_all": 1, "SR.create": 1, "Async.SR.scan": 1})
        sess = cc["sessions"][s2]
        self.assertEqual((sess["user"], sess["originator"], sess["this_host"], sess["pool"]),
                         ("root", "bench", "h2", False))
        self.assertEqual(sess["methods"], {"session.login_with_password": 1,
                                           "host.get_all": 2})
        self.assertEqual(cc["sessions"][self.s]["total"], 3)
        self.assertEqual(cc["total"], 6)
        self.assertEqual(cc["methods"], self.sim.counts())
        self.assertGreaterEqual(cc["seconds"], 0)
        self.sim.reset_counts()
        self.assertEqual(self.sim.call_counts()["total"], 0)


class OfficialClient(SimTest):
    """The simulator through the official XenAPI.py (Debian's
    python3-os-xenapi, installed by scripts/deps)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        try:
            from os_xenapi.client import XenAPI
        except ImportError:
            # the package's modules live in Debian's python3, not in a
            # python3 of its own (pyenv)
            sys.path.append("/usr/lib/python3/dist-packages")
            try:
                from os_xenapi.client import XenAPI
            except ImportError as e:
                raise RuntimeError("python3-os-xenapi is not installed "
                                   "(bash scripts/deps installs it): %s" % e)
        cls.XenAPI = XenAPI

        class UDSTransport(XenAPI.UDSTransport):
            """This XenAPI.py (os-xenapi 0.3.4) wrote send_request for
            Python 2's xmlrpclib; Python 3's passes the host and a debug flag
            and expects the connection made and the body sent.  Only that
            method is replaced."""

            def send_request(self, host, handler, request_body, debug=False):
                connection = self.make_connection(host)
                connection.putrequest("POST", handler)
                for key, value in self._extra_headers:
                    connection.putheader(key, value)
                self.send_content(connection, request_body)
                return connection
        cls.UDSTransport = UDSTransport

    def session(self, host, unix=False):
        h = self.sim.host(host)
        if unix:
            self.assertNotIn("_", h["unix"])
            return self.XenAPI.Session("http://%s/" % h["unix"].replace("/", "_"),
                                       transport=self.UDSTransport())
        return self.XenAPI.Session(h["url"])

    def test_login_over_unix_socket(self):
        x = self.session("h2", unix=True)
        x.xenapi.login_with_password("root", "", "2.0", "xenapi-test")
        self.assertEqual(x.xenapi.session.get_this_host(x.handle), self.sim.host("h2")["ref"])
        self.assertEqual(x.API_version, "2.21")
        self.assertEqual(len(x.xenapi.host.get_all()), 3)
        x.xenapi.session.logout()

    def test_login_over_tcp_and_host_is_slave(self):
        h3 = self.sim.host("h3")
        with self.assertRaises(self.XenAPI.Failure) as cm:
            self.session("h3").xenapi.login_with_password("root", "password")
        self.assertEqual(cm.exception.details, ["HOST_IS_SLAVE", self.h1["address"]])
        # the master: its address, on the port already in use
        x = self.XenAPI.Session("http://%s:%d/" % (cm.exception.details[1], h3["port"]))
        x.xenapi.login_with_password("root", "password", "2.0", "xenapi-test")
        self.assertEqual(x.xenapi.session.get_this_host(x.handle), self.h1["ref"])
        with self.assertRaises(self.XenAPI.Failure) as cm:
            self.session("h1").xenapi.login_with_password("root", "wrong")
        self.assertEqual(cm.exception.details,
                         ["SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"])
        # SESSION_INVALID: XenAPI.py logs in again and retries
        self.sim.expire_sessions()
        type(self).s = self.sim.login("h1")
        self.assertEqual(len(x.xenapi.host.get_all()), 3)
        x.xenapi.session.logout()

    def test_async_task_follow_up(self):
        x = self.session("h1")
        x.xenapi.login_with_password("root", "password")
        sr = x.xenapi.SR.create(self.h1["ref"], NFS, "0", "xenapi", "", "nfs", "user", True,
                                {})
        self.sim.delay("VDI.create", 0.5, nth=1, repeat=False)
        task = x.xenapi.Async.VDI.create(vdi_rec(sr, name_label="via-xenapi"))
        # follow the task with event.from until it finishes
        token, status = "", "pending"
        event_from = getattr(x.xenapi.event, "from")
        while status == "pending":
            r = event_from(["task/" + task], token, 30.0)
            token = r["token"]
            for e in r["events"]:
                status = e.get("snapshot", {}).get("status", status)
        self.assertEqual(status, "success")
        result = x.xenapi.task.get_result(task)
        vdi = ET.fromstring(result).text
        self.assertEqual(x.xenapi.VDI.get_name_label(vdi), "via-xenapi")
        x.xenapi.task.destroy(task)
        task = x.xenapi.Async.VDI.destroy("OpaqueRef:nope")
        self.sim.wait_idle()
        self.assertEqual(x.xenapi.task.get_error_info(task),
                         ["HANDLE_INVALID", "VDI", "OpaqueRef:nope"])
        x.xenapi.session.logout()

    def test_call_plugin_and_errors(self):
        x = self.session("h1")
        x.xenapi.login_with_password("root", "password")
        out = json.loads(x.xenapi.host.call_plugin(self.sim.host("h2")["ref"], "testplug",
                                                   "echo", {"a": "b"}))
        self.assertEqual(out["args"], {"a": "b"})
        with self.assertRaises(self.XenAPI.Failure) as cm:
            x.xenapi.host.call_plugin(self.h1["ref"], "testplug", "fail", {})
        self.assertEqual(cm.exception.details,
                         ["SR_BACKEND_FAILURE_73", "", "NFS mount error", ""])
        with self.assertRaises(self.XenAPI.Failure) as cm:
            x.xenapi.SR.get_record()
        self.assertEqual(cm.exception.details,
                         ["MESSAGE_PARAMETER_COUNT_MISMATCH", "SR.get_record", "1", "0"])
        self.sim.set_driver_stderr("driver said: secret=s3cr3t", "nfs")
        try:
            with self.assertRaises(self.XenAPI.Failure) as cm:
                x.xenapi.SR.create(self.h1["ref"], {"server": "s"}, "0", "x", "", "nfs",
                                   "user", True, {})
        finally:
            self.sim.set_driver_stderr("", "nfs")
        self.assertEqual(cm.exception.details,
                         ["SR_BACKEND_FAILURE_101", "",
                          "The request is missing the serverpath parameter",
                          "driver said: secret=s3cr3t"])
        x.xenapi.session.logout()


class PluginEnvironment(unittest.TestCase):
    """S2/S3: a plugin runs as on its host: only PATH in its environment, in
    a private mount namespace where the host's socket is /var/lib/xcp/xapi
    and its inventory /etc/xensource-inventory; no timeout."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="xapisim-env-")
        plugins = cls.plugins = os.path.join(cls.tmp.name, "plugins")
        os.mkdir(plugins)
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "envplugin.py")
        dst = os.path.join(plugins, "envplugin")
        with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as g:
            g.write(f.read())
        os.chmod(dst, 0o755)
        cls.bind = os.path.join(cls.tmp.name, "bind")
        os.mkdir(cls.bind)
        with open(os.path.join(cls.bind, "marker"), "w", encoding="utf-8") as f:
            f.write("bound")
        cls.target = "/opt/xapisim-test-%s" % os.getpid()
        cfg = {"plugin_files": {"/etc/xensm/plugin.cfg":
                                "host = @HOST_UUID@\nmaster = @MASTER_ADDRESS@\n"},
               "plugin_binds": [{"source": cls.bind, "target": cls.target}]}
        cls.sim = simctl.Simulator(pools=[("p1", ["h1", "h2"])], plugin_dir=plugins,
                                   config=cfg, env={"XENSM_HELPER_PATH": "/nowhere",
                                                    "XENSM_LOG_LEVEL": "debug"})
        cls.s = cls.sim.login("h1")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.tmp.cleanup()

    def plugin(self, host, fn, args):
        return self.sim.call("h1", "host.call_plugin", self.s, self.sim.host(host)["ref"],
                             "envplugin", fn, args)

    def test_plugin_sees_its_host(self):
        h1 = self.sim.host("h1")
        for name in ("h1", "h2"):
            h = self.sim.host(name)
            out = json.loads(self.plugin(name, "env", {
                "files": "/etc/xensm/plugin.cfg,%s/marker" % self.target}))
            env = {k: v for k, v in out["env"].items() if not k.endswith("SAN_OPTIONS")}
            self.assertEqual(env, {"PATH": "/sbin:/usr/sbin:/bin:/usr/bin"})
            self.assertEqual((out["argc"], out["uid"]), (2, 0))
            dom0 = self.sim.call("h1", "host.get_control_domain", self.s, h["ref"])
            self.assertIn("INSTALLATION_UUID='%s'\n" % h["uuid"], out["inventory"])
            self.assertIn("CONTROL_DOMAIN_UUID='%s'\n" % self.sim.call(
                "h1", "VM.get_uuid", self.s, dom0), out["inventory"])
            self.assertEqual(out["pool_conf"],
                             "master" if name == "h1" else "slave:" + h1["address"])
            self.assertEqual(out["files"], {
                "/etc/xensm/plugin.cfg": "host = %s\nmaster = %s\n" % (h["uuid"],
                                                                      h1["address"]),
                self.target + "/marker": "bound"})
            # the host's own xapi through /var/lib/xcp/xapi, with the
            # plugin's session: that host, both on the master and a member
            self.assertIs(out["socket"], True)
            self.assertEqual(out["this_host"], {"Status": "Success", "Value": h["ref"]})
            self.assertEqual(out["this_host_uuid"]["Value"], h["uuid"])
            self.assertEqual(out["master"]["Value"], h1["ref"])

    def test_namespace_leaves_nothing(self):
        probe = "/etc/xapisim-probe-%s" % uuid.uuid4()
        self.assertEqual(self.plugin("h2", "write", {"path": probe, "text": "x"}), "")
        self.assertFalse(os.path.exists(probe))
        self.assertFalse(os.path.exists(self.target))
        self.assertFalse(os.path.exists("/etc/xensm/plugin.cfg")
                         and open("/etc/xensm/plugin.cfg").read().startswith("host = "))

    def test_no_legacy_plugin_env(self):
        """legacy_plugin_env is gone: the simulator's XENSM_* variables never
        reach a plugin (PATH alone, as forkhelpers.ml gives), and a config
        naming the option is refused at start."""
        out = json.loads(self.plugin("h2", "env", {}))
        env = {k: v for k, v in out["env"].items() if not k.endswith("SAN_OPTIONS")}
        self.assertEqual(env, {"PATH": "/sbin:/usr/sbin:/bin:/usr/bin"})
        with self.assertRaises(simctl.XapiFailure):
            self.sim.set_option("legacy_plugin_env", True)
        with self.assertRaises(Exception):
            simctl.Simulator(pools=[("p", ["m"])], config={"legacy_plugin_env": False},
                             timeout=10)

    def test_exec_plugin_raw_argv(self):
        """sim.exec_plugin: the plugin as host.call_plugin runs it (the
        host's files, PATH alone) with argv as the test gives it."""
        call = xmlrpc.client.dumps(("OpaqueRef:x", {}), "env")
        out = self.sim.exec_plugin("h2", "envplugin", [call])
        self.assertEqual(out["returncode"], 0, out)
        (resp,), _ = xmlrpc.client.loads(out["stdout"])
        got = json.loads(resp["Value"])
        self.assertIn("INSTALLATION_UUID='%s'\n" % self.sim.host("h2")["uuid"],
                      got["inventory"])
        self.assertEqual(got["argc"], 2)
        out = self.sim.exec_plugin("h1", "envplugin", ["not xml", "two"])
        self.assertNotEqual(out["returncode"], 0)
        self.assertIn("Traceback", out["stderr"])
        with self.assertRaises(simctl.XapiFailure) as cm:
            self.sim.exec_plugin("h1", "nosuchplugin", [call])
        self.assertEqual(cm.exception.code, "XENAPI_MISSING_PLUGIN")

    def test_runs_as_long_as_it_needs(self):
        """No timeout (xapi_plugins.ml: execute_command_get_output without
        one); the simulator still stops with a plugin running."""
        fifo = os.path.join(self.tmp.name, "fifo")
        pid_file = os.path.join(self.tmp.name, "pid")
        os.mkfifo(fifo)
        try:
            t = self.sim.call("h1", "Async.host.call_plugin", self.s,
                              self.sim.host("h2")["ref"], "envplugin", "block",
                              {"fifo": fifo, "pid_file": pid_file})
            with open(fifo, "w", encoding="utf-8") as f:
                # open() returned: the plugin is running, reading the FIFO
                self.assertFalse(json.loads(self.sim.control("wait_idle", "0.5"))["idle"])
                f.write("released\n")
            self.sim.wait_idle()
            self.assertEqual(self.sim.call("h1", "task.get_result", self.s, t),
                             "<value>released</value>")
            sim = simctl.Simulator(pools=[("p", ["m"])], plugin_dir=self.plugins)
            try:
                s = sim.login()
                sim.call("m", "Async.host.call_plugin", s, sim.host("m")["ref"], "envplugin",
                         "block", {"fifo": fifo, "pid_file": pid_file})
                with open(fifo, "w", encoding="utf-8"):
                    with open(pid_file, encoding="utf-8") as f:
                        pid = int(f.read())
                    sim.proc.terminate()
                    self.assertEqual(sim.proc.wait(5), 0)
            finally:
                sim.stop()
            try:
                with open("/proc/%d/stat" % pid, encoding="utf-8") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                state = "gone"
            self.assertIn(state, ("gone", "Z", "X"))
        finally:
            os.unlink(fifo)


if __name__ == "__main__":
    unittest.main(verbosity=2)
