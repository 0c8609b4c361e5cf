#!/usr/bin/env python3
"""The xensm xapi plugin (xe-plugin/) against the xapi simulator, run the
way xapi runs it.

Every function goes through the simulator's host.call_plugin: the plugin is
exec'd with one argument (the methodCall xapi builds), PATH alone in its
environment, in a private mount namespace where its host's socket is
/var/lib/xcp/xapi, its inventory /etc/xensource-inventory and its settings
file the one the test lays there (plugin_files); the settings name the
built helper program xensm-xapi, which the plugin exec()s for the functions
that call xapi. Input xapi never sends (malformed XML, a stale session, no
argument) goes through sim.exec_plugin: the same namespace and environment,
argv as the test gives it; such a run must exit 0 with exactly one
methodResponse on stdout. Responses are parsed with Python's xmlrpc.client
(an XML-RPC implementation independent of ours).

Environment (set by ctest): XENSM_PROG_* (the programs), XENSM_SOURCE_DIR.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("XENSM_SOURCE_DIR", os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import xsm  # noqa: E402

PLUGIN = xsm.program("xensm")
HELPER = xsm.program("xensm-xapi")
sys.path.insert(0, os.path.join(SOURCE, "tests", "xapisim"))
import simctl  # noqa: E402

TIMEOUT = 60


def new_uuid():
    return str(uuid.uuid4())


def settings_path():
    """Where the built plugin reads its settings (its --help says)."""
    out = subprocess.run([PLUGIN, "--help"], capture_output=True, timeout=TIMEOUT,
                         check=True).stdout.decode()
    return re.search(r"^Settings: (\S+)", out, re.M).group(1)


class Syslog:
    """A syslog socket of the test's own, bound at /dev/log in the plugins'
    mount namespace (plugin_binds): what the plugin and its helper log.

    A thread drains the socket as messages come: a unix datagram socket
    queues only net.unix.max_dgram_qlen (often 10) messages, and syslog(3)
    blocks the plugin once the queue is full."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "log.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.05)
        self.lock = threading.Lock()
        self.lines = []
        self.running = True
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        # recv under the lock (briefly: 50 ms timeout), so that read() never
        # misses a datagram the thread has taken but not yet stored
        while self.running:
            with self.lock:
                try:
                    data = self.sock.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                self.lines.append(data.decode("utf-8", "replace"))
            time.sleep(0)

    def read(self):
        """Every message logged since the last read. syslog(3) has sent each
        datagram before the plugin exits: those the thread has not taken yet
        are still queued, and are taken here without waiting."""
        with self.lock:
            while True:
                try:
                    data = self.sock.recv(65536, socket.MSG_DONTWAIT)
                except (BlockingIOError, socket.timeout):
                    break
                self.lines.append(data.decode("utf-8", "replace"))
            out, self.lines = self.lines, []
        return out

    def close(self):
        self.running = False
        self.thread.join()
        self.sock.close()


def plugin_world(extra_settings="", pools=(("p1", ["h1", "h2"]),), syslog=None, **config):
    """A simulator whose hosts have the plugin installed as on a real host:
    the plugin in the plugin dir, its settings file naming the built helper,
    and (with `syslog`) the test's syslog socket at /dev/log."""
    top = tempfile.mkdtemp(prefix="xensm-plugin-test-")
    plugins = os.path.join(top, "plugins")
    os.mkdir(plugins)
    if syslog:
        config.setdefault("plugin_binds", []).append({"source": syslog.path,
                                                      "target": "/dev/log"})
    os.symlink(os.path.abspath(PLUGIN), os.path.join(plugins, "xensm"))
    settings = "[plugin]\nhelper = %s\nlog_level = debug\n%s" % (
        os.path.abspath(HELPER), extra_settings)
    config = dict(config)
    config.setdefault("plugin_files", {})[settings_path()] = settings
    config["pools"] = [{"name": n, "master": h[0], "hosts": list(h)} for n, h in pools]
    try:
        sim = simctl.Simulator(config=config, plugin_dir=plugins)
    except BaseException:
        shutil.rmtree(top, ignore_errors=True)
        raise
    sim.plugins = plugins
    stop = sim.stop

    def stop_and_remove():                  # the plugin dir goes with the simulator
        try:
            return stop()
        finally:
            shutil.rmtree(top, ignore_errors=True)
    sim.stop = stop_and_remove
    return sim


class Xapi:
    """A minimal XenAPI client (Python's xmlrpc.client) for checking what the
    plugin did, independently of our C client."""

    def __init__(self, url):
        self.proxy = xmlrpc.client.ServerProxy(url)
        reply = self.proxy.session.login_with_password("root", "password", "2.0", "test")
        assert reply["Status"] == "Success", reply
        self.session = reply["Value"]

    def close(self):
        self.proxy("close")()

    def call(self, method, *params):
        obj = self.proxy
        for part in method.split("."):
            obj = getattr(obj, part)
        return obj(self.session, *params)

    def __call__(self, method, *params):
        reply = self.call(method, *params)
        if reply["Status"] != "Success":
            raise RuntimeError("%s: %r" % (method, reply["ErrorDescription"]))
        return reply["Value"]


class PluginTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        for path in (PLUGIN, HELPER):
            if not os.path.exists(path):
                raise RuntimeError("%s is missing: build the tree first" % path)
        # A real iscsi SR (RawISCSISR, LUN per VDI) hands out existing LUNs on
        # VDI.create and keeps their names; the refusal test needs a VDI the
        # plugin made on an SR without VDI_CLONE/VDI_SNAPSHOT, so the iscsi
        # driver here makes new VDIs (capabilities as the real driver's).
        cls.logdir = tempfile.TemporaryDirectory(prefix="xensm-plugin-log-")
        cls.syslog = Syslog(cls.logdir.name)
        cls.sim = plugin_world(drivers={"iscsi": {"vdis": "file"}}, syslog=cls.syslog)
        try:
            cls.master = cls.sim.host("h1")
            cls.member = cls.sim.host("h2")
            cls.xapi = Xapi(cls.master["url"])
            cls.host = cls.master["ref"]
            cls.host_uuid = cls.master["uuid"]
        except Exception:
            cls.sim.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.xapi.close()
        cls.sim.stop()
        cls.syslog.close()
        cls.logdir.cleanup()

    def setUp(self):
        self.syslog.read()

    def tearDown(self):
        self.sim.clear_faults()

    def assertLogged(self, text):
        """`text` is in a message the plugin logged since the last check."""
        lines = self.syslog.read()
        self.assertTrue(any(text in line for line in lines), (text, lines))
        return lines

    # ---- running the plugin as xapi does ---------------------------------

    def run_raw(self, request_argv, host="h1"):
        """Runs the plugin for `host` with argv[1:] = request_argv (what xapi
        never sends); returns stdout text after checking the exit status and
        that stdout holds one response."""
        run = self.sim.exec_plugin(host, "xensm", request_argv)
        out = run["stdout"]
        self.assertEqual(run["returncode"], 0, "plugin exited %d: %s" % (run["returncode"],
                                                                       run["stderr"]))
        self.assertEqual(out.count("<methodResponse>"), 1, out)
        self.assertEqual(out.count("</methodResponse>"), 1, out)
        self.assertTrue(out.rstrip().endswith("</methodResponse>"), out)
        return out

    def parse(self, out):
        params, method = xmlrpc.client.loads(out)
        self.assertIsNone(method)
        self.assertEqual(len(params), 1)
        result = params[0]
        self.assertIsInstance(result, dict)
        self.assertIn(result["Status"], ("Success", "Failure"))
        if result["Status"] == "Success":
            self.assertEqual(set(result), {"Status", "Value"})
            self.assertIsInstance(result["Value"], str)
        else:
            self.assertEqual(set(result), {"Status", "ErrorDescription"})
            self.assertTrue(all(isinstance(x, str) for x in result["ErrorDescription"]))
        return result

    def plugin(self, fn, args=None, session=None, host="h1"):
        """fn through host.call_plugin on `host`, or, with a session of the
        test's own choosing, run directly with that session."""
        if session is not None:
            request = xmlrpc.client.dumps((session, args or {}), fn)
            return self.parse(self.run_raw([request], host=host))
        reply = self.xapi.call("host.call_plugin", self.sim.host(host)["ref"], "xensm", fn,
                               args or {})
        if reply["Status"] == "Failure":
            self.assertNotEqual(reply["ErrorDescription"][0], "XENAPI_PLUGIN_FAILURE", reply)
        return self.parse(xmlrpc.client.dumps((reply,), methodresponse=True))

    def ok(self, fn, args=None, **kw):
        result = self.plugin(fn, args, **kw)
        self.assertEqual(result["Status"], "Success", result)
        return json.loads(result["Value"])

    def fails(self, fn, args=None, code=None, **kw):
        result = self.plugin(fn, args, **kw)
        self.assertEqual(result["Status"], "Failure", result)
        if code:
            self.assertEqual(result["ErrorDescription"][0], code, result)
        return result["ErrorDescription"]

    # ---- fixtures through XenAPI -----------------------------------------

    def nfs_args(self, **extra):
        args = {"type": "nfs", "device_config:server": "filer-%s" % new_uuid()[:8],
                "device_config:serverpath": "/export/xensm"}
        args.update(extra)
        return args

    def new_nfs_sr(self):
        value = self.ok("sr_attach", self.nfs_args(name_label="test nfs"))
        return value["sr_uuid"]

    def vdis_of(self, volume):
        refs = self.xapi("VDI.get_by_name_label", "xensm-" + volume)
        return [self.xapi("VDI.get_record", r) for r in refs]

    # ---- functions that do not call xapi -----------------------------------

    def test_ping_and_version(self):
        # Answered by the plugin itself: no call reaches xapi.
        self.sim.reset_counts()
        self.assertEqual(self.ok("ping", session="OpaqueRef:none")["reply"], "pong")
        version = self.ok("version", session="OpaqueRef:none")
        self.assertRegex(version["version"], r"^\d+\.\d+\.\d+$")
        self.assertEqual(self.sim.call_counts()["total"], 0)

    def test_help(self):
        proc = subprocess.run([PLUGIN, "--help"], capture_output=True, timeout=TIMEOUT)
        self.assertEqual(proc.returncode, 0)
        self.assertIn(b"Settings: ", proc.stdout)
        for fn in ("ping", "version", "host_info", "sr_attach", "sr_detach", "sr_stats",
                   "vdi_create", "vdi_destroy", "vdi_clone", "vdi_snapshot", "vdi_find",
                   "vdi_resize"):
            self.assertIn(fn.encode(), proc.stdout)

    # ---- protocol errors -----------------------------------------------------

    def test_unknown_function(self):
        desc = self.fails("reformat_everything", code="UNKNOWN_XENAPI_PLUGIN_FUNCTION")
        self.assertEqual(desc, ["UNKNOWN_XENAPI_PLUGIN_FUNCTION", "reformat_everything"])

    def test_malformed_xml(self):
        for doc in ("<methodCall><methodName>ping", "", "ping", "<a/>",
                    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><methodCall>'
                    "<methodName>&e;</methodName></methodCall>"):
            result = self.parse(self.run_raw([doc]))
            self.assertEqual(result["Status"], "Failure")
            self.assertEqual(result["ErrorDescription"][0], "XENSM_BAD_REQUEST", doc)
            self.assertNotIn("root:", "".join(result["ErrorDescription"]))
        # Not one argument, as xapi always gives.
        for argv in ([], ["a", "b"]):
            result = self.parse(self.run_raw(argv))
            self.assertEqual(result["ErrorDescription"][0], "XENSM_BAD_REQUEST")

    def test_missing_session_and_args(self):
        for params in ((), ({},), (self.xapi.session,), (self.xapi.session, "x"),
                       (self.xapi.session, {"sr_uuid": 5})):
            result = self.parse(self.run_raw([xmlrpc.client.dumps(params, "sr_stats")]))
            self.assertEqual(result["Status"], "Failure")
            self.assertEqual(result["ErrorDescription"][0], "XENSM_BAD_REQUEST", params)

    def test_missing_and_invalid_args(self):
        desc = self.fails("vdi_create", {"sr_uuid": new_uuid(), "size": "10"},
                          code="XENSM_MISSING_ARGUMENT")
        self.assertEqual(desc[1:3], ["vdi_create", "volume_uuid"])
        desc = self.fails("vdi_create", {"sr_uuid": new_uuid(), "volume_uuid": new_uuid(),
                                         "size": "ten"}, code="XENSM_INVALID_ARGUMENT")
        self.assertEqual(desc[1:3], ["vdi_create", "size"])
        desc = self.fails("sr_stats", {"sr_uuid": "../../etc"}, code="XENSM_INVALID_ARGUMENT")
        self.assertIn("sr_uuid", desc[-1])
        desc = self.fails("sr_attach", {"type": "nfs", "device_config:server": "x"},
                          code="XENSM_MISSING_ARGUMENT")
        self.assertIn("device_config:serverpath", desc[-1])
        self.fails("sr_attach", {"type": "zfs"}, code="XENSM_INVALID_ARGUMENT")

    def test_invalid_session(self):
        bogus = "OpaqueRef:" + new_uuid()
        desc = self.fails("sr_stats", {"sr_uuid": new_uuid()}, session=bogus,
                          code="SESSION_INVALID")
        # xapi's error as xapi gives it (the caller holds that ref anyway) ...
        self.assertEqual(desc, ["SESSION_INVALID", bogus])
        # ... but the ref, a secret, never reaches the log.
        lines = self.assertLogged("SESSION_INVALID")
        self.assertNotIn(bogus, "".join(lines))

    # ---- host_info -------------------------------------------------------------

    def test_host_info(self):
        info = self.ok("host_info")
        self.assertEqual(info["uuid"], self.host_uuid)
        self.assertEqual(info["name_label"], self.xapi("host.get_name_label", self.host))
        self.assertTrue(info["is_pool_master"])
        self.assertEqual(info["pool_master_uuid"], self.host_uuid)

    def test_acts_on_the_host_it_runs_on(self):
        """On a member, xapi hands the plugin the caller's session, which
        belongs to the master: the plugin still acts on its own host, the
        one of its inventory (audit P1)."""
        info = self.ok("host_info", host="h2")
        self.assertEqual(info["uuid"], self.member["uuid"])
        self.assertFalse(info["is_pool_master"])
        self.assertEqual(info["pool_master_uuid"], self.host_uuid)
        # A local SR made through h2 is h2's: its device, its only PBD.
        value = self.ok("sr_attach", {"type": "ext", "device_config:device": "/dev/sdb"},
                        host="h2")
        sr = self.xapi("SR.get_by_uuid", value["sr_uuid"])
        pbds = self.xapi("SR.get_PBDs", sr)
        self.assertEqual([self.xapi("PBD.get_host", p) for p in pbds], [self.member["ref"]])
        # and a shared one gets h2's PBD plugged
        value = self.ok("sr_attach", self.nfs_args(), host="h2")
        sr = self.xapi("SR.get_by_uuid", value["sr_uuid"])
        self.assertTrue(self.pbd_of(sr, self.member["ref"])["currently_attached"])

    def test_settings_xapi_url(self):
        """xapi_url in the settings file points the helper elsewhere (here:
        its host's own TCP port)."""
        sim = plugin_world("xapi_url = http://@HOST_ADDRESS@:@PORT@/\n", pools=(("p", ["m"]),))
        try:
            s = sim.login("m")
            sim.reset_counts()
            info = json.loads(sim.call("m", "host.call_plugin", s, sim.host("m")["ref"],
                                       "xensm", "host_info", {}))
            self.assertEqual(info["uuid"], sim.host("m")["uuid"])
            counts = sim.call_counts()
            self.assertGreater(counts["hosts"]["m"]["methods"].get("host.get_record", 0), 0)
        finally:
            sim.stop()

    def test_bad_settings_are_reported(self):
        """A settings file that cannot be used: every function that calls
        xapi answers XENSM_CONFIG_ERROR naming the file and line; ping still
        answers."""
        sim = plugin_world("no_such_key = 1\n", pools=(("p", ["m"]),))
        try:
            s = sim.login("m")
            ref = sim.host("m")["ref"]
            self.assertEqual(json.loads(sim.call("m", "host.call_plugin", s, ref, "xensm",
                                                 "ping", {}))["reply"], "pong")
            with self.assertRaises(simctl.XapiFailure) as cm:
                sim.call("m", "host.call_plugin", s, ref, "xensm", "host_info", {})
            self.assertEqual(cm.exception.code, "XENSM_CONFIG_ERROR")
            self.assertIn("no_such_key", cm.exception.params[0])
        finally:
            sim.stop()

    # ---- SRs -------------------------------------------------------------------

    def pbd_of(self, sr_ref, host_ref):
        for pbd in self.xapi("SR.get_PBDs", sr_ref):
            rec = self.xapi("PBD.get_record", pbd)
            if rec["host"] == host_ref:
                return rec
        return None

    def test_sr_attach_creates_shared_sr(self):
        value = self.ok("sr_attach", self.nfs_args(name_label="gold nfs"))
        self.assertTrue(value["created"])
        self.assertFalse(value["introduced"])
        sr = self.xapi("SR.get_by_uuid", value["sr_uuid"])
        rec = self.xapi("SR.get_record", sr)
        self.assertEqual(rec["type"], "nfs")
        self.assertEqual(rec["name_label"], "gold nfs")
        self.assertTrue(rec["shared"])
        self.assertTrue(self.pbd_of(sr, self.host)["currently_attached"])
        # Attaching again changes nothing and makes no second PBD.
        again = self.ok("sr_attach", self.nfs_args(sr_uuid=value["sr_uuid"]))
        self.assertFalse(again["created"])
        self.assertFalse(again["introduced"])
        self.assertFalse(again["pbd_created"])
        self.assertFalse(again["plugged"])
        self.assertEqual(len(self.xapi("SR.get_PBDs", sr)), len(rec["PBDs"]))

    def test_sr_detach_then_introduce(self):
        sr_uuid = self.new_nfs_sr()
        volume = new_uuid()
        vdi = self.ok("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": volume,
                                     "size": str(1 << 30)})
        detached = self.ok("sr_detach", {"sr_uuid": sr_uuid})
        self.assertTrue(detached["forgotten"])
        self.assertGreaterEqual(detached["unplugged"], 1)
        reply = self.xapi.call("SR.get_by_uuid", sr_uuid)
        self.assertEqual(reply["ErrorDescription"][0], "UUID_INVALID")
        # Detaching again: already detached is fine.
        self.assertFalse(self.ok("sr_detach", {"sr_uuid": sr_uuid})["forgotten"])
        # Never destroyed: introducing it again brings the VDI back.
        args = {"type": "nfs", "sr_uuid": sr_uuid, "device_config:server": "filer",
                "device_config:serverpath": "/export/xensm"}
        value = self.ok("sr_attach", args)
        self.assertTrue(value["introduced"])
        self.assertTrue(value["pbd_created"])
        self.assertTrue(value["plugged"])
        self.assertEqual(value["sr_uuid"], sr_uuid)
        sr = self.xapi("SR.get_by_uuid", sr_uuid)
        self.assertTrue(self.pbd_of(sr, self.host)["currently_attached"])
        # The VDI is on the storage still. (xapi keeps other_config in its
        # database, not on the SR, so the reintroduced VDI has lost its
        # xensm-volume tag: the catalog keeps each volume's vdi_uuid.)
        back = self.xapi("VDI.get_by_uuid", vdi["vdi_uuid"])
        self.assertEqual(self.xapi("VDI.get_SR", back), sr)

    def test_sr_attach_existing_pbd(self):
        """An SR xapi knows with an unplugged PBD for this host: plugged, not remade."""
        sr_uuid = self.new_nfs_sr()
        sr = self.xapi("SR.get_by_uuid", sr_uuid)
        pbd = self.pbd_of(sr, self.host)
        ref = [p for p in self.xapi("SR.get_PBDs", sr)
               if self.xapi("PBD.get_host", p) == self.host][0]
        self.xapi("PBD.unplug", ref)
        value = self.ok("sr_attach", self.nfs_args(sr_uuid=sr_uuid))
        self.assertFalse(value["pbd_created"])
        self.assertTrue(value["plugged"])
        self.assertEqual(self.pbd_of(sr, self.host)["uuid"], pbd["uuid"])

    def test_sr_stats(self):
        sr_uuid = self.new_nfs_sr()
        self.ok("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": new_uuid(),
                               "size": str(3 << 30)})
        stats = self.ok("sr_stats", {"sr_uuid": sr_uuid})
        rec = self.xapi("SR.get_record", self.xapi("SR.get_by_uuid", sr_uuid))
        self.assertEqual(stats["physical_size"], int(rec["physical_size"]))
        self.assertEqual(stats["virtual_allocation"], int(rec["virtual_allocation"]))
        self.assertEqual(stats["physical_utilisation"], int(rec["physical_utilisation"]))
        self.assertGreaterEqual(stats["virtual_allocation"], 3 << 30)
        self.assertEqual(stats["type"], "nfs")
        for cap in ("VDI_CREATE", "VDI_DELETE", "VDI_CLONE", "VDI_SNAPSHOT"):
            self.assertIn(cap, stats["capabilities"])
        self.fails("sr_stats", {"sr_uuid": new_uuid()}, code="UUID_INVALID")

    def test_xapi_error_passthrough(self):
        self.sim.control("add_fault", {"method": "SR.create", "action": "fail",
                                           "code": "SR_BACKEND_FAILURE_73",
                                           "params": ["", "NFS mount error", "server unreachable"]})
        desc = self.fails("sr_attach", self.nfs_args(), code="SR_BACKEND_FAILURE_73")
        # exactly xapi's params; the message naming the SR is in syslog
        self.assertEqual(desc, ["SR_BACKEND_FAILURE_73", "", "NFS mount error",
                                "server unreachable"])
        self.assertLogged("new nfs SR: SR.create failed: SR_BACKEND_FAILURE_73")
        # A missing device_config key as the SM driver reports it.
        sr_uuid = self.new_nfs_sr()
        self.sim.control("add_fault", {"method": "VDI.create", "action": "fail",
                                           "code": "SR_FULL", "params": ["1", "2"]})
        volume = new_uuid()
        desc = self.fails("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": volume,
                                         "size": "1024"}, code="SR_FULL")
        self.assertEqual(desc, ["SR_FULL", "1", "2"])
        self.assertLogged("volume %s: VDI.create failed" % volume)
        self.assertEqual(self.vdis_of(volume), [])

    def test_logs_go_to_syslog(self):
        """xapi throws a plugin's stderr away when it exits 0: the plugin and
        its helper log to syslog, with their own names and at the level of
        the settings file (debug here), and a secret in a driver's stderr is
        redacted there."""
        self.fails("vdi_find", {"volume_uuid": new_uuid()}, code="XENSM_NOT_FOUND")
        lines = self.assertLogged("xensm-xapi[")
        self.assertTrue(any("xensm-plugin[" in line and "function vdi_find" in line
                            for line in lines), lines)
        self.sim.set_driver_stderr("mount -o password=hunter2 failed", "nfs")
        try:
            desc = self.fails("sr_attach", {"type": "nfs", "device_config:server": "s",
                                            "device_config:serverpath": "/p",
                                            "sr_uuid": new_uuid()},
                              code="SR_BACKEND_FAILURE_47")
        finally:
            self.sim.set_driver_stderr("", "nfs")
        # the caller gets xapi's error as xapi gives it; the log never the secret
        self.assertEqual(desc[3], "mount -o password=hunter2 failed")
        lines = self.assertLogged("password=******")
        self.assertNotIn("hunter2", "".join(lines))

    # ---- VDIs ------------------------------------------------------------------

    def test_vdi_create_is_idempotent(self):
        sr_uuid = self.new_nfs_sr()
        volume = new_uuid()
        args = {"sr_uuid": sr_uuid, "volume_uuid": volume, "size": str(5 << 30)}
        first = self.ok("vdi_create", args)
        self.assertTrue(first["created"])
        self.assertEqual(first["sr_uuid"], sr_uuid)
        self.assertEqual(first["size"], 5 << 30)
        second = self.ok("vdi_create", args)
        self.assertFalse(second["created"])
        self.assertEqual(second["vdi_uuid"], first["vdi_uuid"])
        vdis = self.vdis_of(volume)
        self.assertEqual(len(vdis), 1)
        self.assertEqual(vdis[0]["uuid"], first["vdi_uuid"])
        self.assertEqual(vdis[0]["other_config"]["xensm-volume"], volume)
        self.assertEqual(int(vdis[0]["virtual_size"]), 5 << 30)

    def test_vdi_description_is_the_volume_name(self):
        """`name` becomes the VDI's name_description, as in the agent protocol
        (the one op table, host/xs_hostops_dispatch.h); name_description is
        not an argument of vdi_create."""
        sr_uuid = self.new_nfs_sr()
        named, unnamed = new_uuid(), new_uuid()
        self.ok("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": named, "size": "4096",
                               "name": "web data"})
        self.ok("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": unnamed, "size": "4096"})
        self.assertEqual(self.vdis_of(named)[0]["name_description"], "web data")
        self.assertEqual(self.vdis_of(unnamed)[0]["name_description"], "xensm volume " + unnamed)
        self.assertEqual(self.vdis_of(named)[0]["name_label"], "xensm-" + named)
        desc = self.fails("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": new_uuid(),
                                         "size": "4096", "name_description": "x"},
                          code="XENSM_INVALID_ARGUMENT")
        self.assertEqual(desc[1:3], ["vdi_create", "name_description"])
        self.assertIn("[name]", desc[3])

    def test_vdi_find(self):
        sr_uuid = self.new_nfs_sr()
        volume = new_uuid()
        made = self.ok("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": volume,
                                      "size": "4096"})
        found = self.ok("vdi_find", {"volume_uuid": volume})
        self.assertEqual(found["vdi_uuid"], made["vdi_uuid"])
        self.assertEqual(found["sr_uuid"], sr_uuid)
        self.assertEqual(self.ok("vdi_find", {"volume_uuid": volume,
                                             "sr_uuid": sr_uuid})["vdi_uuid"], made["vdi_uuid"])
        self.fails("vdi_find", {"volume_uuid": new_uuid()}, code="XENSM_NOT_FOUND")
        # A VDI that merely carries the name is not the volume's.
        other = self.new_nfs_sr()
        impostor = new_uuid()
        self.xapi("VDI.create", {
            "name_label": "xensm-" + impostor, "name_description": "", "SR":
            self.xapi("SR.get_by_uuid", other), "virtual_size": "1024", "type": "user",
            "sharable": False, "read_only": False, "other_config": {}, "xenstore_data": {},
            "sm_config": {}, "tags": []})
        self.fails("vdi_find", {"volume_uuid": impostor}, code="XENSM_NOT_FOUND")

    def test_vdi_destroy_is_idempotent(self):
        sr_uuid = self.new_nfs_sr()
        volume = new_uuid()
        self.ok("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": volume, "size": "8192"})
        self.assertEqual(self.ok("vdi_destroy", {"volume_uuid": volume})["destroyed"], 1)
        self.assertEqual(self.vdis_of(volume), [])
        self.assertEqual(self.ok("vdi_destroy", {"volume_uuid": volume})["destroyed"], 0)
        self.assertEqual(self.ok("vdi_destroy", {"volume_uuid": volume,
                                                "sr_uuid": sr_uuid})["destroyed"], 0)
        self.assertEqual(self.ok("vdi_destroy", {"volume_uuid": volume,
                                                "sr_uuid": new_uuid()})["destroyed"], 0)

    def check_copy(self, fn, snapshot):
        sr_uuid = self.new_nfs_sr()
        parent = new_uuid()
        child = new_uuid()
        made = self.ok("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": parent,
                                      "size": str(1 << 20)})
        copy = self.ok(fn, {"volume_uuid": parent, "new_volume_uuid": child})
        self.assertTrue(copy["created"])
        self.assertEqual(copy["snapshot"], snapshot)
        self.assertEqual(copy["parent_volume_uuid"], parent)
        self.assertEqual(copy["sr_uuid"], sr_uuid)
        self.assertNotEqual(copy["vdi_uuid"], made["vdi_uuid"])
        vdis = self.vdis_of(child)
        self.assertEqual(len(vdis), 1)
        self.assertEqual(vdis[0]["other_config"]["xensm-volume"], child)
        self.assertEqual(vdis[0]["is_a_snapshot"], snapshot)
        # The parent is still found as itself, and only once.
        self.assertEqual(self.ok("vdi_find", {"volume_uuid": parent})["vdi_uuid"],
                         made["vdi_uuid"])
        self.assertEqual(len(self.vdis_of(parent)), 1)
        # Repeating the request returns the copy already made.
        again = self.ok(fn, {"volume_uuid": parent, "new_volume_uuid": child,
                             "sr_uuid": sr_uuid})
        self.assertFalse(again["created"])
        self.assertEqual(again["vdi_uuid"], copy["vdi_uuid"])
        self.assertEqual(len(self.vdis_of(child)), 1)
        # No parent VDI: a clear error.
        desc = self.fails(fn, {"volume_uuid": new_uuid(), "new_volume_uuid": new_uuid()},
                          code="XENSM_NOT_FOUND")
        self.assertIn("no VDI", desc[-1])

    def test_vdi_clone(self):
        self.check_copy("vdi_clone", False)

    def test_vdi_snapshot(self):
        self.check_copy("vdi_snapshot", True)

    def test_copy_refused_without_capability(self):
        value = self.ok("sr_attach", {"type": "iscsi", "device_config:target": "10.1.2.3",
                                      "device_config:targetIQN": "iqn.2026-01.test:" + new_uuid()})
        sr_uuid = value["sr_uuid"]
        caps = self.ok("sr_stats", {"sr_uuid": sr_uuid})["capabilities"]
        self.assertNotIn("VDI_CLONE", caps)
        volume = new_uuid()
        self.ok("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": volume, "size": "4096"})
        before = self.sim.control("counts")
        for fn, cap in (("vdi_clone", "VDI_CLONE"), ("vdi_snapshot", "VDI_SNAPSHOT")):
            child = new_uuid()
            desc = self.fails(fn, {"volume_uuid": volume, "new_volume_uuid": child},
                              code="SR_OPERATION_NOT_SUPPORTED")
            self.assertEqual(desc, ["SR_OPERATION_NOT_SUPPORTED", sr_uuid, cap])
            self.assertLogged("does not support " + cap)
            self.assertEqual(self.vdis_of(child), [])
        # Refused before asking xapi to copy.
        after = json.loads(self.sim.control("counts"))
        before = json.loads(before)
        for method in ("VDI.clone", "VDI.snapshot"):
            self.assertEqual(after.get(method, 0), before.get(method, 0))

    def test_vdi_resize(self):
        sr_uuid = self.new_nfs_sr()
        volume = new_uuid()
        made = self.ok("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": volume,
                                      "size": str(1 << 20)})
        grown = self.ok("vdi_resize", {"volume_uuid": volume, "size": str(3 << 20)})
        self.assertTrue(grown["resized"])
        self.assertEqual(grown["virtual_size"], 3 << 20)
        self.assertEqual(grown["previous_size"], 1 << 20)
        self.assertEqual(grown["vdi_uuid"], made["vdi_uuid"])
        self.assertEqual(self.vdis_of(volume)[0]["virtual_size"], str(3 << 20))
        # A repeat (or a smaller size) leaves it as it is.
        again = self.ok("vdi_resize", {"volume_uuid": volume, "size": str(2 << 20),
                                       "sr_uuid": sr_uuid})
        self.assertFalse(again["resized"])
        self.assertEqual(again["virtual_size"], 3 << 20)
        # Only a VDI tagged as the volume's is ever resized.
        desc = self.fails("vdi_resize", {"volume_uuid": new_uuid(), "size": "4096"},
                          code="XENSM_NOT_FOUND")
        self.assertIn("no VDI", desc[-1])

    def test_resize_refused_without_capability(self):
        value = self.ok("sr_attach", {"type": "iscsi", "device_config:target": "10.1.2.3",
                                      "device_config:targetIQN": "iqn.2026-01.test:" + new_uuid()})
        sr_uuid = value["sr_uuid"]
        self.assertNotIn("VDI_RESIZE", self.ok("sr_stats", {"sr_uuid": sr_uuid})["capabilities"])
        volume = new_uuid()
        self.ok("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": volume, "size": "4096"})
        size = self.vdis_of(volume)[0]["virtual_size"]
        before = json.loads(self.sim.control("counts"))
        desc = self.fails("vdi_resize", {"volume_uuid": volume, "size": str(1 << 40)},
                          code="SR_OPERATION_NOT_SUPPORTED")
        self.assertEqual(desc, ["SR_OPERATION_NOT_SUPPORTED", sr_uuid, "VDI_RESIZE"])
        self.assertLogged("does not support VDI_RESIZE")
        after = json.loads(self.sim.control("counts"))
        self.assertEqual(after.get("VDI.resize", 0), before.get("VDI.resize", 0))
        self.assertEqual(self.vdis_of(volume)[0]["virtual_size"], size)

    # ---- fault injection: every xapi call an operation makes fails once ----------

    def calls_of(self, fn, args):
        """The XenAPI methods (with repeats) that one successful run of fn makes."""
        self.sim.control("reset_counts")
        value = self.ok(fn, args)
        counts = json.loads(self.sim.control("counts"))
        counts.pop("host.call_plugin")      # the caller's call, not the plugin's
        return value, counts

    def inject_each_call(self, fn, make_args, check):
        """For every XenAPI call fn makes, and every occurrence of it: fail
        exactly that call; the plugin must report the injected error, then a
        repeat of the request must succeed and `check` must hold."""
        _, counts = self.calls_of(fn, make_args())
        self.assertTrue(counts)
        for method, times in sorted(counts.items()):
            for nth in range(1, times + 1):
                args = make_args()
                self.sim.control("reset_counts")
                self.sim.control("add_fault", {"method": method, "action": "fail",
                                                   "nth": nth, "code": "INJECTED_FAILURE",
                                                   "params": [method, str(nth)]})
                if method.startswith("task.") or method == "event.from":
                    # Following a task (issue 11): tagging and destroying it
                    # are best effort; a lost task.get_record fails the
                    # operation, whose task xapi finishes anyway. Either way
                    # the repeat finds what xapi made.
                    result = self.plugin(fn, args)
                    self.sim.control("clear_faults")
                    if result["Status"] != "Success":
                        self.assertEqual(result["ErrorDescription"],
                                         ["INJECTED_FAILURE", method, str(nth)])
                    value = self.ok(fn, args)
                    check(args, value)
                    continue
                desc = self.fails(fn, args)
                self.sim.control("clear_faults")
                self.assertEqual(desc, ["INJECTED_FAILURE", method, str(nth)])
                # Async.VDI.create fails as the operation VDI.create.
                self.assertLogged(method.replace("Async.", "", 1) + " failed: INJECTED_FAILURE")
                value = self.ok(fn, args)
                check(args, value)

    def test_vdi_create_under_faults(self):
        sr_uuid = self.new_nfs_sr()

        def make_args():
            return {"sr_uuid": sr_uuid, "volume_uuid": new_uuid(), "size": "4096"}

        def check(args, value):
            vdis = self.vdis_of(args["volume_uuid"])
            self.assertEqual(len(vdis), 1)
            self.assertEqual(vdis[0]["uuid"], value["vdi_uuid"])
        self.inject_each_call("vdi_create", make_args, check)

    def test_vdi_clone_under_faults(self):
        sr_uuid = self.new_nfs_sr()
        parent = new_uuid()
        parent_vdi = self.ok("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": parent,
                                            "size": "4096"})["vdi_uuid"]

        def make_args():
            return {"volume_uuid": parent, "new_volume_uuid": new_uuid()}

        def check(args, value):
            # One copy, tagged; the parent still found as itself, once: a copy
            # whose tagging failed was removed rather than left as a second
            # "xensm-<parent>".
            vdis = self.vdis_of(args["new_volume_uuid"])
            self.assertEqual([v["uuid"] for v in vdis], [value["vdi_uuid"]])
            self.assertEqual([v["uuid"] for v in self.vdis_of(parent)], [parent_vdi])
        self.inject_each_call("vdi_clone", make_args, check)

    def test_plug_failure_then_repeat(self):
        sr_uuid = self.new_nfs_sr()
        self.ok("sr_detach", {"sr_uuid": sr_uuid})
        args = self.nfs_args(sr_uuid=sr_uuid)
        self.sim.control("add_fault", {"method": "PBD.plug", "action": "fail",
                                           "code": "SR_BACKEND_FAILURE_73",
                                           "params": ["", "NFS mount error", ""]})
        desc = self.fails("sr_attach", args, code="SR_BACKEND_FAILURE_73")
        self.assertEqual(desc, ["SR_BACKEND_FAILURE_73", "", "NFS mount error", ""])
        self.assertLogged("SR %s: PBD.plug failed" % sr_uuid)
        self.sim.control("clear_faults")
        value = self.ok("sr_attach", args)
        self.assertFalse(value["introduced"])     # introduced by the first try
        self.assertFalse(value["pbd_created"])    # and its PBD made then too
        self.assertTrue(value["plugged"])

    # ---- through xapi's host.call_plugin -----------------------------------------

    def call_plugin(self, fn, args):
        reply = self.xapi.call("host.call_plugin", self.host, "xensm", fn, args)
        return reply

    def test_host_call_plugin(self):
        reply = self.call_plugin("ping", {})
        self.assertEqual(reply["Status"], "Success", reply)
        self.assertEqual(json.loads(reply["Value"])["reply"], "pong")
        reply = self.call_plugin("host_info", {})
        self.assertEqual(reply["Status"], "Success", reply)
        self.assertEqual(json.loads(reply["Value"])["uuid"], self.host_uuid)
        sr_uuid = self.new_nfs_sr()
        volume = new_uuid()
        reply = self.call_plugin("vdi_create", {"sr_uuid": sr_uuid, "volume_uuid": volume,
                                                "size": "65536"})
        self.assertEqual(reply["Status"], "Success", reply)
        self.assertEqual(len(self.vdis_of(volume)), 1)
        # Failures reach the caller as xapi errors.
        reply = self.call_plugin("no_such_fn", {})
        self.assertEqual(reply["ErrorDescription"], ["UNKNOWN_XENAPI_PLUGIN_FUNCTION", "no_such_fn"])
        reply = self.call_plugin("vdi_find", {"volume_uuid": "nope"})
        self.assertEqual(reply["ErrorDescription"][0], "XENSM_INVALID_ARGUMENT")


if __name__ == "__main__":
    unittest.main(verbosity=2)
