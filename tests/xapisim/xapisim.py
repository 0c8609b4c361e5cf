#!/usr/bin/env python3
"""xapisim: a XenAPI (xapi) simulator for xensm's tests and demo.

Python 3 standard library only.  Requests are parsed by Python's own
xmlrpc.client machinery; responses are written in xapi's compact untyped
form.  See tests/xapisim/README.md for the command line, the config format,
the control API (sim.* methods) and the fidelity notes.
"""

import argparse
import http.server
import json
import os
import re
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
import uuid as uuidlib
import xml.etree.ElementTree as ET
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))

def default_datamodel():
    """xenapi.json: $XAPISIM_DATAMODEL, else <repo>/../shared/xapi/ (next to
    the main checkout; worktrees live one level deeper), else /work/shared."""
    env = os.environ.get("XAPISIM_DATAMODEL")
    if env:
        return env
    repo = os.path.normpath(os.path.join(HERE, "..", ".."))
    cands = [os.path.join(repo, "..", "shared"),
             os.path.join(repo, "..", "..", "shared"),
             "/work/shared"]
    src = os.environ.get("XENSM_SOURCE_DIR")
    if src:
        cands.insert(0, os.path.join(src, "..", "shared"))
    for c in cands:
        path = os.path.normpath(os.path.join(c, "xapi", "xenapi.json"))
        if os.path.exists(path):
            return path
    return os.path.normpath(os.path.join(cands[0], "xapi", "xenapi.json"))


TIB = 1 << 40
NULL_REF = "OpaqueRef:NULL"
MAX_BODY = 64 << 20         # bytes of one request body


# ============================================================================
#  Errors and value helpers
# ============================================================================

class XapiError(Exception):
    """A XenAPI failure: code plus string params."""

    def __init__(self, code, *params):
        super().__init__(code)
        self.code = code
        self.params = [str(p) for p in params]

    def description(self):
        return [self.code] + self.params


class DateTime(str):
    """A value sent as <dateTime.iso8601>."""


class Drop(Exception):
    """Close the connection without a response."""


def new_ref():
    return "OpaqueRef:" + str(uuidlib.uuid4())


def new_uuid():
    return str(uuidlib.uuid4())


def now_stamp():
    return DateTime(time.strftime("%Y%m%dT%H:%M:%SZ", time.gmtime()))


def backend_failure(n, reason, stderr=""):
    """SR_BACKEND_FAILURE_<n> ["", reason, stderr], as xapi's sm_exec builds
    it from an SM driver's XML-RPC fault."""
    return XapiError("SR_BACKEND_FAILURE_%d" % n, "", reason, stderr)


# ============================================================================
#  Response serializer: xapi's compact untyped XML-RPC
# ============================================================================

_BAD_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xml_escape(s):
    # ocaml-rpc escapes & < > " and drops control characters XML cannot hold.
    s = _BAD_XML_CHARS.sub("", s)
    return (s.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;").replace('"', "&quot;"))


class Serializer:
    """Writes values as xapi does: strings untyped (<value>x</value>, empty as
    <value/> or <value></value>), int64 as decimal strings, booleans as
    <boolean>, maps as structs, sets as arrays."""

    def __init__(self, empty_selfclosing=True):
        self.empty = "<value/>" if empty_selfclosing else "<value></value>"

    def value(self, v, out):
        if isinstance(v, DateTime):
            out.append("<value><dateTime.iso8601>%s</dateTime.iso8601></value>"
                       % xml_escape(v))
        elif isinstance(v, bool):
            out.append("<value><boolean>%d</boolean></value>" % (1 if v else 0))
        elif isinstance(v, int):
            out.append("<value>%d</value>" % v)
        elif isinstance(v, float):
            out.append("<value><double>%.16g</double></value>" % v)
        elif isinstance(v, str):
            out.append("<value>%s</value>" % xml_escape(v) if v else self.empty)
        elif isinstance(v, dict):
            out.append("<value><struct>")
            for k, x in v.items():
                out.append("<member><name>%s</name>" % xml_escape(str(k)))
                self.value(x, out)
                out.append("</member>")
            out.append("</struct></value>")
        elif isinstance(v, (list, tuple)):
            out.append("<value><array><data>")
            for x in v:
                self.value(x, out)
            out.append("</data></array></value>")
        elif v is None:
            out.append("<value><nil/></value>")
        else:
            out.append("<value>%s</value>" % xml_escape(str(v)))

    def response(self, result):
        out = ['<?xml version="1.0"?><methodResponse><params><param>']
        self.value(result, out)
        out.append("</param></params></methodResponse>")
        return "".join(out).encode("utf-8")

    def fault(self, code, string):
        out = ['<?xml version="1.0"?><methodResponse><fault><value><struct>'
               "<member><name>faultCode</name><value><int>%d</int></value></member>"
               "<member><name>faultString</name>" % code]
        self.value(string, out)
        out.append("</member></struct></value></fault></methodResponse>")
        return "".join(out).encode("utf-8")


# ============================================================================
#  Datamodel (xenapi.json)
# ============================================================================

class Datamodel:
    """Messages, fields and enums of the XenAPI, loaded once."""

    # trailing parameters that xapi lets a caller omit (README of xenapi.json)
    OPTIONAL_TRAILING = {
        "SR.create": 1, "SR.introduce": 1, "SR.probe": 1,
        "VDI.clone": 1, "VDI.snapshot": 1,
        "session.login_with_password": 2,
    }

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        self.classes = {}
        self.messages = {}
        self.enums = {}
        for cls in data:
            name = cls["name"]
            fields = [f for f in cls["fields"]
                      if f.get("lifecycle", {}).get("state") != "Removed_s"]
            self.classes[name] = {"fields": fields,
                                  "by_name": {f["name"]: f for f in fields}}
            for m in cls["messages"]:
                self.messages["%s.%s" % (name, m["name"])] = m
            for e in cls.get("enums", []):
                self.enums[e["name"]] = [v["name"] for v in e["values"]]

    def message(self, name):
        return self.messages.get(name)

    @staticmethod
    def takes_session(msg):
        p = msg["params"]
        return bool(p) and p[0]["type"] == "session ref"

    def arity(self, name, msg):
        """(min, max) number of params including the session."""
        n = len(msg["params"])
        return n - self.OPTIONAL_TRAILING.get(name, 0), n

    def fields(self, cls):
        return self.classes[cls]["fields"]

    def field(self, cls, name):
        return self.classes[cls]["by_name"].get(name)

    def constructor_required(self, cls):
        """Fields a constructor record must carry: RO/constructor or RW
        without a default."""
        return [f for f in self.fields(cls)
                if f["qualifier"] in ("RO/constructor", "RW")
                and "default" not in f]

    def constructor_fields(self, cls):
        return [f for f in self.fields(cls)
                if f["qualifier"] in ("RO/constructor", "RW")]

    # -- type handling ------------------------------------------------------

    def zero(self, t):
        if t.endswith(" set"):
            return []
        if t.endswith(" map"):
            return {}
        if t.endswith(" ref"):
            return NULL_REF
        if t == "int":
            return 0
        if t == "float":
            return 0.0
        if t == "bool":
            return False
        if t == "datetime":
            return DateTime("19700101T00:00:00Z")
        if t.startswith("enum "):
            vals = self.enums.get(t[5:], [])
            return vals[0] if vals else ""
        if t.endswith(" record"):
            return {}
        return ""

    def default(self, f):
        t = f["type"]
        d = f.get("default")
        if d is None:
            return self.zero(t)
        try:
            if t == "string":
                return json.loads(d) if d.startswith('"') else d
            if t == "bool":
                return d == "true"
            if t == "int":
                return int(d)
            if t == "float":
                return float(d)
            if t == "datetime":
                return DateTime(d)
            if t.endswith(" ref"):
                return NULL_REF if d in ("Null", NULL_REF) else d
            if t.endswith(" set") or t.endswith(" map"):
                return self.zero(t) if d == "{}" else self.zero(t)
            return d
        except ValueError:
            return self.zero(t)

    def blank_record(self, cls):
        return {f["name"]: self.default(f) for f in self.fields(cls)}

    def check(self, v, t):
        """True when the XML-RPC value v (as Python's parser returns it) can
        stand for XenAPI type t."""
        if t == "string":
            return isinstance(v, str)
        if t == "int":
            if isinstance(v, bool):
                return False
            if isinstance(v, int):
                return True
            return isinstance(v, str) and re.fullmatch(r"-?[0-9]+", v) is not None
        if t == "float":
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return True
            try:
                float(v)
                return isinstance(v, str)
            except (TypeError, ValueError):
                return False
        if t == "bool":
            return isinstance(v, bool)
        if t == "datetime":
            return isinstance(v, (str, xmlrpc.client.DateTime))
        if t.endswith(" ref"):
            return isinstance(v, str)
        if t.startswith("enum ") and not t.endswith(" set"):
            return isinstance(v, str) and v in self.enums.get(t[5:], [v])
        if t.endswith(" set"):
            inner = t[:-4]
            return isinstance(v, list) and all(self.check(x, inner) for x in v)
        if t.endswith(" map"):
            m = re.fullmatch(r"\((.*) -> (.*)\) map", t)
            if not isinstance(v, dict) or not m:
                return isinstance(v, dict)
            return all(self.check(x, m.group(2)) for x in v.values())
        if t.endswith(" record"):
            return isinstance(v, dict)
        return True


def as_int(v):
    return int(v) if not isinstance(v, int) else v


# ============================================================================
#  SR types (DESIGN.md's table) and their SM drivers' device_config checks
# ============================================================================

# (key, SR_BACKEND_FAILURE number, description) in the order the driver checks
CONFIG_REQ = {
    "nfs": [("server", 102, "The request is missing the server parameter"),
            ("serverpath", 101, "The request is missing the serverpath parameter")],
    "lvmoiscsi": [("target", 95, "The request is missing the target parameter"),
                  ("targetIQN", 96, "The request is missing or has an incorrect target IQN parameter"),
                  ("SCSIid", 107, "The SCSIid parameter is missing or incorrect")],
    "lvmohba": [("SCSIid", 107, "The SCSIid parameter is missing or incorrect")],
    "iscsi": [("target", 95, "The request is missing the target parameter"),
              ("targetIQN", 96, "The request is missing or has an incorrect target IQN parameter")],
    "hba": [],
    "netapp": [("target", 120, "Netapp Target parameter missing in Dconf string"),
               ("username", 121, "Netapp Username parameter missing in Dconf string"),
               ("password", 122, "Netapp Password parameter missing in Dconf string"),
               ("aggregate", 123, "Netapp Aggregate parameter missing in Dconf string")],
    "equal": [("target", 160, "Equallogic Target parameter missing in Dconf string"),
              ("username", 161, "Equallogic Username parameter missing in Dconf string"),
              ("password", 162, "Equallogic Password parameter missing in Dconf string"),
              ("storagepool", 163, "Equallogic StoragePool parameter missing in Dconf string")],
    "smb": [("server", 102, "The request is missing the server parameter"),
            ("username", 115, "Not all required parameters specified."),
            ("password", 115, "Not all required parameters specified.")],
    "ext": [("device", 90, "The request is missing the device parameter")],
    "lvm": [("device", 90, "The request is missing the device parameter")],
    "file": [("location", 94, "The request is missing the location parameter")],
}

CONFIG_OPT = {
    "nfs": ["nfsversion", "options"],
    "lvmoiscsi": ["port", "chapuser", "chappassword", "incoming_chapuser",
                  "incoming_chappassword", "multihomed", "allocation"],
    "lvmohba": ["allocation"],
    "iscsi": ["port", "chapuser", "chappassword", "multihomed"],
    "hba": ["type"],
    "netapp": ["FlexVols", "allocation"],
    "equal": ["snap-reserve-percentage", "snap-depletion"],
    "smb": [], "ext": [], "lvm": [], "file": [],
}

SM_NAMES = {
    "nfs": "NFS VHD", "lvmoiscsi": "LVHD over iSCSI", "lvmohba": "LVHD over FC",
    "iscsi": "iSCSI", "hba": "HBA LUN-per-VDI driver", "netapp": "NetApp",
    "equal": "EqualLogic", "smb": "SMB VHD", "ext": "Local EXT3 VHD",
    "lvm": "Local LVHD", "file": "Local Path VHD",
}

BASE_CAPS = ["SR_PROBE", "SR_UPDATE", "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH",
             "VDI_DETACH", "VDI_INTRODUCE", "VDI_UPDATE"]
CLONE_CAPS = ["VDI_CLONE", "VDI_SNAPSHOT", "VDI_RESIZE", "VDI_GENERATE_CONFIG"]
NO_CLONE = ("iscsi", "hba")


def default_caps(sr_type):
    caps = list(BASE_CAPS)
    if sr_type not in NO_CLONE:
        caps += CLONE_CAPS
    return caps


def check_device_config(sr_type, dc):
    """Raise the driver's SR_BACKEND_FAILURE_<n> for the first missing key.
    A key `k` is also satisfied by `k_secret` (xapi moves passwords there)."""
    for key, n, reason in CONFIG_REQ.get(sr_type, []):
        if not dc.get(key) and not dc.get(key + "_secret"):
            raise backend_failure(n, reason)


# ============================================================================
#  The simulator state
# ============================================================================

CLASSES = ("session", "host", "pool", "SR", "PBD", "VDI", "SM")


class Host:
    def __init__(self, name, pool):
        self.name = name
        self.pool = pool
        self.ref = new_ref()
        self.uuid = new_uuid()
        self.http_port = None
        self.unix_path = None

    def address(self):
        return "127.0.0.1:%d" % self.http_port


class Pool:
    """One pool: a master, members, one database shared by all its hosts."""

    def __init__(self, sim, name):
        self.sim = sim
        self.name = name
        self.ref = new_ref()
        self.uuid = new_uuid()
        self.hosts = []
        self.master = None
        self.db = {c: {} for c in CLASSES}
        self.uuid_index = {c: {} for c in CLASSES}

    def add(self, cls, ref, rec):
        self.db[cls][ref] = rec
        self.uuid_index[cls][rec["uuid"]] = ref

    def remove(self, cls, ref):
        rec = self.db[cls].pop(ref, None)
        if rec is not None:
            self.uuid_index[cls].pop(rec["uuid"], None)
        return rec


class Simulator:
    """Everything behind the listeners: pools, storage, sessions, faults."""

    def __init__(self, dm, config, plugin_dir, session_ttl, serializer,
                 verbose=False):
        self.dm = dm
        self.lock = threading.RLock()
        self.plugin_dir = plugin_dir
        self.session_ttl = session_ttl
        self.ser = serializer
        self.verbose = verbose
        self.users = config.get("users", {"root": "password"})
        self.default_size = int(config.get("default_physical_size", TIB))
        self.capacity_rules = []      # [(match dict, size)]
        for rule in config.get("capacity", []):
            self.capacity_rules.append((dict(rule.get("match", {})),
                                        int(rule["physical_size"])))
        self.caps = {t: default_caps(t) for t in CONFIG_REQ}
        for t, caps in config.get("sm_capabilities", {}).items():
            self.caps[t] = list(caps)
        self.storage = {}             # SR uuid -> backing store
        self.faults = []
        self.fault_seq = 0
        self.counts = {}
        self.pools = []
        self.hosts = []
        for pc in config["pools"]:
            pool = Pool(self, pc["name"])
            for hn in pc["hosts"]:
                h = Host(hn, pool)
                pool.hosts.append(h)
                self.hosts.append(h)
            master = pc.get("master", pc["hosts"][0])
            pool.master = next(h for h in pool.hosts if h.name == master)
            self.pools.append(pool)
        for sc in config.get("storage", []):
            self.add_storage(sc)

    def log(self, fmt, *args):
        if self.verbose:
            sys.stderr.write("xapisim: " + (fmt % args) + "\n")

    # -- set-up of records once the ports are known --------------------------

    def populate(self):
        for pool in self.pools:
            self._populate_pool(pool)

    def _populate_pool(self, pool):
        dm = self.dm
        rec = dm.blank_record("pool")
        rec.update(uuid=pool.uuid, name_label=pool.name, master=pool.master.ref)
        pool.add("pool", pool.ref, rec)
        for h in pool.hosts:
            rec = dm.blank_record("host")
            rec.update(uuid=h.uuid, name_label=h.name,
                       name_description="xapisim host %s" % h.name,
                       hostname=h.name, address="127.0.0.1", enabled=True,
                       API_version_major=2, API_version_minor=21,
                       API_version_vendor="XenSource",
                       software_version={"product_brand": "XCP-ng",
                                         "product_version": "8.2.1",
                                         "xapi": "1.20", "xensm_sim": "1"})
            if "local_cache_sr" in rec:
                rec["local_cache_sr"] = NULL_REF
            pool.add("host", h.ref, rec)
        for t in CONFIG_REQ:
            rec = dm.blank_record("SM")
            conf = {k: "required" for k, _, _ in CONFIG_REQ[t]}
            conf.update({k: "optional" for k in CONFIG_OPT[t]})
            rec.update(uuid=new_uuid(), name_label=SM_NAMES[t],
                       name_description="xapisim %s driver" % t, type=t,
                       vendor="xapisim", copyright="none", version="1.0",
                       required_api_version="1.0", configuration=conf,
                       capabilities=list(self.caps[t]),
                       features={c: 1 for c in self.caps[t]},
                       driver_filename="/opt/xensource/sm/%sSR" % t)
            pool.add("SM", new_ref(), rec)

    # -- backing storage (outlives SR records: forget + introduce finds it) --

    def capacity_for(self, device_config):
        for match, size in reversed(self.capacity_rules):
            if all(device_config.get(k) == v for k, v in match.items()):
                return size
        return self.default_size

    def add_storage(self, sc):
        u = sc.get("uuid") or new_uuid()
        dc = dict(sc.get("device_config", {}))
        self.storage[u] = {
            "uuid": u, "type": sc["type"], "device_config": dc,
            "physical_size": int(sc.get("physical_size", self.capacity_for(dc))),
            "vdis": {},
        }
        for v in sc.get("vdis", []):
            vu = v.get("uuid") or new_uuid()
            self.storage[u]["vdis"][vu] = {
                "uuid": vu, "virtual_size": int(v.get("virtual_size", 0)),
                "name_label": v.get("name_label", ""),
                "name_description": v.get("name_description", ""),
                "type": v.get("type", "user"), "is_a_snapshot": False,
                "snapshot_of": "", "sharable": False, "read_only": False}
        return u

    # -- faults --------------------------------------------------------------

    def count(self, method):
        with self.lock:
            self.counts[method] = self.counts.get(method, 0) + 1

    def match_faults(self, method, host, params):
        """Return (delay seconds, fail error or None, drop 'before'/'after'/None)."""
        delay, fail, drop = 0.0, None, None
        with self.lock:
            for r in self.faults:
                if r["method"] != method:
                    continue
                if r.get("host") and r["host"] != host.name:
                    continue
                if any(i >= len(params) or params[i] != v
                       for i, v in r["param"].items()):
                    continue
                r["seen"] += 1
                n = r["seen"]
                hit = n >= r["nth"] if r["repeat"] else n == r["nth"]
                if not hit:
                    continue
                r["fired"] += 1
                if r["action"] == "delay":
                    delay += r["seconds"]
                elif r["action"] == "fail" and fail is None and drop is None:
                    fail = XapiError(r["code"], *r["params"])
                elif r["action"] == "drop" and fail is None and drop is None:
                    drop = r["when"]
        return delay, fail, drop

    # ========================================================================
    #  Dispatch
    # ========================================================================

    def handle(self, host, transport, body):
        """Handle one HTTP body; return response bytes or raise Drop."""
        try:
            params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        except Exception as e:  # noqa: BLE001 - any parse failure is a fault
            return self.ser.fault(-1, "XML-RPC parse error: %s" % e)
        if method is None:
            return self.ser.fault(-1, "not a methodCall")
        params = list(params)
        if method.startswith("sim."):
            try:
                return self.ser.response({"Status": "Success",
                                          "Value": self.control(method, params)})
            except XapiError as e:
                return self.ser.response({"Status": "Failure",
                                          "ErrorDescription": e.description()})
        self.count(method)
        delay, fail, drop = self.match_faults(method, host, params)
        if delay:
            time.sleep(delay)
        if drop == "before":
            raise Drop()
        if fail is not None:
            result = {"Status": "Failure", "ErrorDescription": fail.description()}
        else:
            try:
                value = self.call(host, transport, method, params)
                result = {"Status": "Success", "Value": value}
            except XapiError as e:
                result = {"Status": "Failure", "ErrorDescription": e.description()}
            except Exception as e:  # noqa: BLE001 - reported as xapi does
                self.log("internal error in %s: %r", method, e)
                result = {"Status": "Failure",
                          "ErrorDescription": ["INTERNAL_ERROR", repr(e)]}
        if drop == "after":
            raise Drop()
        self.log("%s %s -> %s", host.name, method, result["Status"])
        return self.ser.response(result)

    def call(self, host, transport, method, params):
        dm = self.dm
        msg = dm.message(method)
        if msg is None:
            raise XapiError("MESSAGE_METHOD_UNKNOWN", method)
        if msg.get("lifecycle", {}).get("state") == "Removed_s":
            raise XapiError("MESSAGE_REMOVED")
        lo, hi = dm.arity(method, msg)
        has_session = dm.takes_session(msg)
        if not lo <= len(params) <= hi:
            expected = lo - (1 if has_session else 0)
            received = len(params) - (1 if has_session else 0)
            raise XapiError("MESSAGE_PARAMETER_COUNT_MISMATCH", method,
                            expected, received)
        pool = host.pool
        # A member forwards calls arriving on its unix socket to the master
        # (api_server.ml); over TCP it answers HOST_IS_SLAVE.
        on_member_tcp = host is not pool.master and transport == "tcp"
        if method == "session.login_with_password":
            if on_member_tcp:
                raise XapiError("HOST_IS_SLAVE", pool.master.address())
        cls, _, name = method.partition(".")
        with self.lock:
            # xapi's generated server unmarshals the params (types) before
            # the session check, and meets bad refs in the implementation
            self.check_types(msg, params)
            session = None
            if has_session:
                session = self.check_session(pool, params[0])
                if on_member_tcp and not session["pool"]:
                    raise XapiError("HOST_IS_SLAVE", pool.master.address())
            self.check_refs(pool, msg, params)
            if method == "host.call_plugin":
                args = self.prepare_plugin(pool, params)
            else:
                handler = HANDLERS.get(method)
                if handler is not None:
                    return handler(self, pool, host, session, *params)
                return self.generic(pool, cls, name, msg, params)
        # host.call_plugin runs without the lock: the plugin calls back
        return self.run_plugin(*args)

    def check_session(self, pool, ref):
        sess = None
        if isinstance(ref, str):
            sref = pool.db["session"].get(ref)
            if sref is not None:
                sess = sref
        if sess is None:
            raise XapiError("SESSION_INVALID", ref if isinstance(ref, str) else "")
        if self.session_ttl and time.monotonic() - sess["_last"] > self.session_ttl:
            pool.remove("session", ref)
            raise XapiError("SESSION_INVALID", ref)
        sess["_last"] = time.monotonic()
        sess["last_active"] = now_stamp()
        return sess

    def check_types(self, msg, params):
        for p, v in zip(msg["params"], params):
            if p["type"] != "session ref" and not self.dm.check(v, p["type"]):
                raise XapiError("FIELD_TYPE_ERROR", p["name"])

    def check_refs(self, pool, msg, params):
        for p, v in zip(msg["params"], params):
            t = p["type"]
            if t != "session ref" and t.endswith(" ref"):
                cls = t[:-4]
                if cls in pool.db and v not in pool.db[cls]:
                    raise XapiError("HANDLE_INVALID", cls, v)

    def lookup(self, pool, cls, ref):
        rec = pool.db[cls].get(ref)
        if rec is None:
            raise XapiError("HANDLE_INVALID", cls, ref)
        return rec

    # -- generic implicit messages -------------------------------------------

    def view(self, pool, cls, ref):
        """The record as the API shows it: computed links filled in, private
        keys (leading underscore) hidden."""
        rec = pool.db[cls][ref]
        out = {}
        for f in self.dm.fields(cls):
            out[f["name"]] = rec.get(f["name"], self.dm.default(f))
        if cls == "SR":
            out["PBDs"] = [r for r, p in pool.db["PBD"].items() if p["SR"] == ref]
            out["VDIs"] = [r for r, v in pool.db["VDI"].items() if v["SR"] == ref]
        elif cls == "host":
            out["PBDs"] = [r for r, p in pool.db["PBD"].items() if p["host"] == ref]
        elif cls == "VDI":
            out["snapshots"] = [r for r, v in pool.db["VDI"].items()
                                if v["snapshot_of"] == ref]
        elif cls == "session":
            out["tasks"] = []
        return out

    def generic(self, pool, cls, name, msg, params):
        if cls not in pool.db:
            raise XapiError("NOT_IMPLEMENTED", "%s.%s" % (cls, name))
        args = params[1:]
        if name == "get_all":
            return list(pool.db[cls].keys())
        if name == "get_all_records":
            return {r: self.view(pool, cls, r) for r in pool.db[cls]}
        if name == "get_record":
            self.lookup(pool, cls, args[0])
            return self.view(pool, cls, args[0])
        if name == "get_by_uuid":
            ref = pool.uuid_index[cls].get(args[0])
            if ref is None:
                raise XapiError("UUID_INVALID", cls, args[0])
            return ref
        if name == "get_by_name_label":
            return [r for r, rec in pool.db[cls].items()
                    if rec.get("name_label") == args[0]]
        if name.startswith("get_") and self.dm.field(cls, name[4:]):
            self.lookup(pool, cls, args[0])
            return self.view(pool, cls, args[0])[name[4:]]
        for prefix in ("set_", "add_to_", "remove_from_", "add_", "remove_"):
            if name.startswith(prefix):
                fname = name[len(prefix):]
                # the datamodel has the message (checked in call()), so the
                # field is settable through the API
                f = self.dm.field(cls, fname)
                if f is None:
                    break
                rec = self.lookup(pool, cls, args[0])
                if prefix == "set_":
                    rec[fname] = args[1]
                elif prefix == "add_to_":
                    rec[fname][args[1]] = args[2]
                elif prefix == "remove_from_":
                    rec[fname].pop(args[1], None)
                elif prefix == "add_":
                    if args[1] not in rec[fname]:
                        rec[fname].append(args[1])
                else:
                    if args[1] in rec[fname]:
                        rec[fname].remove(args[1])
                return ""
        raise XapiError("NOT_IMPLEMENTED", "%s.%s" % (cls, name))

    # ========================================================================
    #  host.call_plugin
    # ========================================================================

    def prepare_plugin(self, pool, params):
        sref, href, plugin, fn, args = params
        target = next(h for h in pool.hosts if h.ref == href)
        try:
            names = os.listdir(self.plugin_dir) if self.plugin_dir else []
        except OSError:
            names = []
        if plugin not in names:
            raise XapiError("XENAPI_MISSING_PLUGIN", plugin)
        for k, v in args.items():
            if not isinstance(v, str):
                raise XapiError("FIELD_TYPE_ERROR", "args")
        return (target, os.path.join(self.plugin_dir, plugin), sref, fn, args)

    def run_plugin(self, target, path, sref, fn, args):
        call = plugin_call_xml(fn, sref, args)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "XENSM_XAPI_URL": "unix:" + target.unix_path}
        for k, v in os.environ.items():
            if k.endswith("SAN_OPTIONS") or k.startswith("XENSM_"):
                env.setdefault(k, v)
        try:
            proc = subprocess.run([path, call], env=env, capture_output=True,
                                  timeout=120)
        except subprocess.TimeoutExpired as e:
            raise XapiError("XENAPI_PLUGIN_FAILURE", "signal: SIGKILL",
                            (e.stdout or b"").decode("utf-8", "replace"),
                            (e.stderr or b"").decode("utf-8", "replace"))
        except OSError as e:
            raise XapiError("XENAPI_PLUGIN_FAILURE", "non-zero exit", "", str(e))
        out = proc.stdout.decode("utf-8", "replace")
        err = proc.stderr.decode("utf-8", "replace")
        if proc.returncode < 0:
            try:
                sig = signal.Signals(-proc.returncode).name
            except ValueError:
                sig = str(-proc.returncode)
            raise XapiError("XENAPI_PLUGIN_FAILURE", "signal: %s" % sig, out, err)
        if proc.returncode != 0:
            raise XapiError("XENAPI_PLUGIN_FAILURE", "non-zero exit", out, err)
        return parse_plugin_output(out)

    # ========================================================================
    #  Control API (sim.*)
    # ========================================================================

    def control(self, method, params):
        fn = CONTROL.get(method)
        if fn is None:
            raise XapiError("MESSAGE_METHOD_UNKNOWN", method)
        try:
            return fn(self, *params)
        except XapiError:
            raise
        except TypeError as e:
            raise XapiError("INVALID_VALUE", method, "bad parameters: %s" % e)
        except (ValueError, KeyError, AttributeError) as e:
            raise XapiError("INVALID_VALUE", method, "bad parameter: %r" % e)

    def dump(self):
        out = {"pools": [], "storage": {}, "counts": dict(self.counts)}
        with self.lock:
            for pool in self.pools:
                p = {"name": pool.name, "ref": pool.ref, "uuid": pool.uuid,
                     "master": pool.master.name, "hosts": [], "SRs": [],
                     "PBDs": [], "VDIs": [], "sessions": len(pool.db["session"])}
                for h in pool.hosts:
                    p["hosts"].append({"name": h.name, "ref": h.ref, "uuid": h.uuid})
                hostname = {h.ref: h.name for h in pool.hosts}
                for ref, sr in pool.db["SR"].items():
                    v = self.view(pool, "SR", ref)
                    p["SRs"].append({"ref": ref, "uuid": sr["uuid"],
                                     "name_label": sr["name_label"],
                                     "type": sr["type"], "shared": sr["shared"],
                                     "physical_size": sr["physical_size"],
                                     "physical_utilisation": sr["physical_utilisation"],
                                     "virtual_allocation": sr["virtual_allocation"],
                                     "other_config": sr["other_config"],
                                     "sm_config": sr["sm_config"],
                                     "PBDs": v["PBDs"], "VDIs": v["VDIs"]})
                for ref, pbd in pool.db["PBD"].items():
                    p["PBDs"].append({"ref": ref, "uuid": pbd["uuid"], "SR": pbd["SR"],
                                      "host": pbd["host"],
                                      "host_name": hostname.get(pbd["host"]),
                                      "device_config": pbd["device_config"],
                                      "currently_attached": pbd["currently_attached"]})
                for ref, vdi in pool.db["VDI"].items():
                    p["VDIs"].append({k: vdi[k] for k in (
                        "uuid", "name_label", "name_description", "SR",
                        "virtual_size", "physical_utilisation", "type",
                        "sharable", "read_only", "other_config", "sm_config",
                        "is_a_snapshot", "snapshot_of")} | {"ref": ref})
                out["pools"].append(p)
            for u, st in self.storage.items():
                out["storage"][u] = {"type": st["type"],
                                     "physical_size": st["physical_size"],
                                     "vdis": sorted(st["vdis"].keys())}
        return json.dumps(out, default=str)


# ============================================================================
#  Plugin protocol (xapi_plugins.ml)
# ============================================================================

def plugin_call_xml(fn, session_ref, args):
    """The methodCall xapi passes as argv[1]: compact, no XML declaration,
    strings untyped, empty strings as <value/>."""
    def s(v):
        return "<value>%s</value>" % xml_escape(v) if v else "<value/>"
    members = "".join("<member><name>%s</name>%s</member>" % (xml_escape(k), s(v))
                      for k, v in args.items())
    struct = "<struct>%s</struct>" % members if members else "<struct/>"
    return ("<methodCall><methodName>%s</methodName><params>"
            "<param>%s</param><param><value>%s</value></param>"
            "</params></methodCall>" % (xml_escape(fn), s(session_ref), struct))


def _children(el):
    return [c for c in el]


def _only(el, tags, what):
    kids = _children(el)
    if len(kids) != 1 or kids[0].tag not in tags:
        raise ValueError("%s: expected one <%s>" % (what, tags[0]))
    return kids[0]


def _string_value(v):
    """XMLRPC.From.string: <value>s</value>, <value/>, <value><string>s</string></value>."""
    kids = _children(v)
    if not kids:
        return v.text or ""
    if len(kids) == 1 and kids[0].tag == "string" and not _children(kids[0]):
        return kids[0].text or ""
    raise ValueError("expected a string value")


def _struct(v):
    st = _only(v, ["struct"], "value")
    out = {}
    for m in st:
        if m.tag != "member":
            raise ValueError("struct: expected <member>")
        name = m.find("name")
        val = m.find("value")
        if name is None or val is None:
            raise ValueError("member: expected <name> and <value>")
        out[name.text or ""] = val
    return out


def parse_plugin_output(out):
    """Turn a plugin's stdout into a value or XapiError, as xapi does."""
    try:
        root = ET.fromstring(out)
    except ET.ParseError as e:
        raise XapiError("XENAPI_PLUGIN_FAILURE", "failed to parse plugin output",
                        out, str(e))
    try:
        if root.tag != "methodResponse":
            raise ValueError("expected <methodResponse>")
        body = _only(root, ["params", "fault"], "methodResponse")
        if body.tag == "fault":
            f = _struct(_only(body, ["value"], "fault"))
            code = _only(f["faultCode"], ["int", "i4"], "faultCode").text
            raise XapiError("XENAPI_PLUGIN_FAILURE", "fault", code.strip(),
                            _string_value(f["faultString"]))
        params = [p for p in body]
        if len(params) != 1:
            raise ValueError("Expected single return value (struct status)")
        st = _struct(_only(params[0], ["value"], "param"))
        status = _string_value(st["Status"])
        if status == "Success":
            return _string_value(st["Value"])
        if status == "Failure":
            arr = _only(st["ErrorDescription"], ["array"], "ErrorDescription")
            data = _only(arr, ["data"], "array")
            items = [_string_value(x) for x in data]
            if not items:
                raise ValueError("Empty array of error strings")
            raise XapiError(items[0], *items[1:])
        raise ValueError("Status")
    except (ValueError, KeyError, AttributeError) as e:
        # xapi's XMLRPC.RunTimeTypeError surfaces as INTERNAL_ERROR
        raise XapiError("INTERNAL_ERROR",
                        "Xmlrpc.RunTimeTypeError(%s)" % e, out)


# ============================================================================
#  Handlers: session, host, SR, PBD, VDI
# ============================================================================

HANDLERS = {}
CONTROL = {}


def api(name):
    def deco(fn):
        HANDLERS[name] = fn
        return fn
    return deco


def control(name):
    def deco(fn):
        CONTROL[name] = fn
        return fn
    return deco


@api("session.login_with_password")
def session_login(sim, pool, host, _s, uname, pwd, version="", originator=""):
    if sim.users.get(uname) != pwd:
        raise XapiError("SESSION_AUTHENTICATION_FAILED", uname,
                        "Authentication failure")
    ref = new_ref()
    rec = sim.dm.blank_record("session")
    # on a member the unix-socket login is forwarded to the master
    rec.update(uuid=new_uuid(), this_host=pool.master.ref,
               this_user=NULL_REF, last_active=now_stamp(), pool=False,
               is_local_superuser=(uname == "root"), auth_user_name=uname,
               originator=originator)
    rec["_last"] = time.monotonic()
    pool.add("session", ref, rec)
    return ref


@api("session.logout")
def session_logout(sim, pool, host, s, sref):
    pool.remove("session", sref)
    return ""


def sm_caps(sim, sr_type):
    return sim.caps.get(sr_type, [])


def need_cap(sim, pool, sr_ref, cap):
    sr = pool.db["SR"][sr_ref]
    if cap not in sm_caps(sim, sr["type"]):
        raise XapiError("SR_OPERATION_NOT_SUPPORTED", sr_ref)


def move_passwords(device_config):
    """xapi's move_passwds_to_secrets: keys ending in `password` become
    `<key>_secret` holding a secret's uuid (the sim keeps the value)."""
    out = {}
    for k, v in device_config.items():
        if k.endswith("password"):
            out[k + "_secret"] = new_uuid()
        else:
            out[k] = v
    return out


def make_sr_record(sim, pool, sr_uuid, name_label, name_description, sr_type,
                   content_type, shared, sm_config):
    rec = sim.dm.blank_record("SR")
    rec.update(uuid=sr_uuid, name_label=name_label,
               name_description=name_description, type=sr_type,
               content_type=content_type, shared=shared, sm_config=dict(sm_config),
               other_config={}, physical_size=-1, physical_utilisation=-1,
               virtual_allocation=0,
               allowed_operations=[])
    ref = new_ref()
    pool.add("SR", ref, rec)
    return ref


def make_pbd(sim, pool, sr_ref, host_ref, device_config, attached=False):
    for r, p in pool.db["PBD"].items():
        if p["SR"] == sr_ref and p["host"] == host_ref:
            raise XapiError("PBD_EXISTS", sr_ref, host_ref, r)
    rec = sim.dm.blank_record("PBD")
    rec.update(uuid=new_uuid(), host=host_ref, SR=sr_ref,
               device_config=move_passwords(device_config),
               currently_attached=attached, other_config={})
    ref = new_ref()
    pool.add("PBD", ref, rec)
    return ref


def vdi_from_store(sim, pool, sr_ref, sv):
    rec = sim.dm.blank_record("VDI")
    rec.update(uuid=sv["uuid"], name_label=sv["name_label"],
               name_description=sv["name_description"], SR=sr_ref,
               virtual_size=sv["virtual_size"],
               physical_utilisation=sv["virtual_size"], type=sv["type"],
               sharable=sv["sharable"], read_only=sv["read_only"],
               other_config={}, sm_config={}, xenstore_data={}, tags=[],
               storage_lock=False, location=sv["uuid"], managed=True,
               missing=False, is_a_snapshot=sv["is_a_snapshot"],
               snapshot_of=NULL_REF, allowed_operations=[])
    if sv["snapshot_of"]:
        parent = pool.uuid_index["VDI"].get(sv["snapshot_of"])
        rec["snapshot_of"] = parent or NULL_REF
    ref = new_ref()
    pool.add("VDI", ref, rec)
    return ref


def refresh_sr(sim, pool, sr_ref):
    """SR.scan / attach: make the DB match the backing store."""
    sr = pool.db["SR"][sr_ref]
    st = sim.storage.get(sr["uuid"])
    if st is None:
        return
    in_db = {pool.db["VDI"][r]["uuid"]: r for r, v in list(pool.db["VDI"].items())
             if v["SR"] == sr_ref}
    for vu, sv in st["vdis"].items():
        if vu not in in_db:
            vdi_from_store(sim, pool, sr_ref, sv)
    for vu, r in in_db.items():
        if vu not in st["vdis"]:
            pool.remove("VDI", r)
    used = sum(v["virtual_size"] for v in st["vdis"].values())
    sr["physical_size"] = st["physical_size"]
    sr["physical_utilisation"] = used
    sr["virtual_allocation"] = used


def plugged_pbds(pool, sr_ref):
    return [r for r, p in pool.db["PBD"].items()
            if p["SR"] == sr_ref and p["currently_attached"]]


@api("SR.create")
def sr_create(sim, pool, host, s, sref, host_ref, device_config, physical_size,
              name_label, name_description, sr_type, content_type, shared,
              sm_config=None):
    sr_type = sr_type.lower()
    if sr_type not in CONFIG_REQ:
        raise XapiError("SR_UNKNOWN_DRIVER", sr_type)
    check_device_config(sr_type, device_config)
    sr_uuid = new_uuid()
    sr_ref = make_sr_record(sim, pool, sr_uuid, name_label, name_description,
                            sr_type, content_type, shared, sm_config or {})
    if shared:
        hosts = [pool.master.ref] + [h.ref for h in pool.hosts if h is not pool.master]
    else:
        hosts = [host_ref]
    for h in hosts:
        make_pbd(sim, pool, sr_ref, h, device_config)
    size = as_int(physical_size)
    sim.storage[sr_uuid] = {"uuid": sr_uuid, "type": sr_type,
                            "device_config": dict(device_config),
                            "physical_size": sim.capacity_for(device_config)
                            if size <= 0 else size,
                            "vdis": {}}
    for r, p in pool.db["PBD"].items():
        if p["SR"] == sr_ref:
            p["currently_attached"] = True
    refresh_sr(sim, pool, sr_ref)
    return sr_ref


@api("SR.introduce")
def sr_introduce(sim, pool, host, s, sref, sr_uuid, name_label, name_description,
                 sr_type, content_type, shared, sm_config=None):
    sr_type = sr_type.lower()
    sr_uuid = sr_uuid or new_uuid()
    if sr_uuid in pool.uuid_index["SR"]:
        raise XapiError("SR_UUID_EXISTS", sr_uuid)
    return make_sr_record(sim, pool, sr_uuid, name_label, name_description,
                          sr_type, content_type, shared, sm_config or {})


@api("SR.probe")
def sr_probe(sim, pool, host, s, sref, host_ref, device_config, sr_type,
             sm_config=None):
    sr_type = sr_type.lower()
    if sr_type not in CONFIG_REQ:
        raise XapiError("SR_UNKNOWN_DRIVER", sr_type)
    check_device_config(sr_type, device_config)
    keys = [k for k, _, _ in CONFIG_REQ[sr_type] if k in device_config]
    found = [u for u, st in sim.storage.items()
             if st["type"] == sr_type and all(
                 st["device_config"].get(k) == device_config[k] for k in keys)]
    root = ET.Element("SRlist")
    for u in found:
        e = ET.SubElement(root, "SR")
        ET.SubElement(e, "UUID").text = u
    return ET.tostring(root, encoding="unicode")


@api("SR.forget")
def sr_forget(sim, pool, host, s, sref, sr_ref):
    if plugged_pbds(pool, sr_ref):
        raise XapiError("SR_HAS_PBD", sr_ref)
    for r, p in list(pool.db["PBD"].items()):
        if p["SR"] == sr_ref:
            pool.remove("PBD", r)
    for r, v in list(pool.db["VDI"].items()):
        if v["SR"] == sr_ref:
            pool.remove("VDI", r)
    pool.remove("SR", sr_ref)
    return ""


@api("SR.destroy")
def sr_destroy(sim, pool, host, s, sref, sr_ref):
    if plugged_pbds(pool, sr_ref):
        raise XapiError("SR_HAS_PBD", sr_ref)
    if not [p for p in pool.db["PBD"].values() if p["SR"] == sr_ref]:
        raise XapiError("SR_NO_PBDS", sr_ref)
    sim.storage.pop(pool.db["SR"][sr_ref]["uuid"], None)
    return sr_forget(sim, pool, host, s, sref, sr_ref)


@api("SR.scan")
def sr_scan(sim, pool, host, s, sref, sr_ref):
    if not plugged_pbds(pool, sr_ref):
        raise XapiError("SR_NO_PBDS", sr_ref)
    refresh_sr(sim, pool, sr_ref)
    return ""


@api("SR.update")
def sr_update(sim, pool, host, s, sref, sr_ref):
    if not plugged_pbds(pool, sr_ref):
        raise XapiError("SR_NO_PBDS", sr_ref)
    refresh_sr(sim, pool, sr_ref)
    return ""


@api("SR.get_supported_types")
def sr_supported_types(sim, pool, host, s, sref):
    return sorted(CONFIG_REQ)


@api("PBD.create")
def pbd_create(sim, pool, host, s, sref, rec):
    missing = check_constructor(sim, "PBD", rec)
    if missing:
        raise missing
    for fname, cls in (("host", "host"), ("SR", "SR")):
        if rec[fname] not in pool.db[cls]:
            raise XapiError("HANDLE_INVALID", cls, rec[fname])
    return make_pbd(sim, pool, rec["SR"], rec["host"], rec["device_config"])


@api("PBD.plug")
def pbd_plug(sim, pool, host, s, sref, pbd_ref):
    pbd = pool.db["PBD"][pbd_ref]
    if pbd["currently_attached"]:
        return ""
    sr = pool.db["SR"][pbd["SR"]]
    if sr["type"] not in CONFIG_REQ:
        raise XapiError("SR_UNKNOWN_DRIVER", sr["type"])
    check_device_config(sr["type"], pbd["device_config"])
    if sr["uuid"] not in sim.storage:
        raise backend_failure(47, "The SR is not available [opterr=no such SR %s]"
                              % sr["uuid"])
    pbd["currently_attached"] = True
    refresh_sr(sim, pool, pbd["SR"])
    return ""


@api("PBD.unplug")
def pbd_unplug(sim, pool, host, s, sref, pbd_ref):
    pool.db["PBD"][pbd_ref]["currently_attached"] = False
    return ""


@api("PBD.destroy")
def pbd_destroy(sim, pool, host, s, sref, pbd_ref):
    if pool.db["PBD"][pbd_ref]["currently_attached"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "PBD is currently attached")
    pool.remove("PBD", pbd_ref)
    return ""


def check_constructor(sim, cls, rec):
    """The error xapi gives for a constructor record with a missing or
    ill-typed field, or None."""
    for f in sim.dm.constructor_required(cls):
        if f["name"] not in rec:
            # xapi's generated unmarshaller: failwith "Field %s not present in rpc"
            return XapiError("INTERNAL_ERROR",
                             'Failure("Field %s not present in rpc")' % f["name"])
    for f in sim.dm.constructor_fields(cls):
        if f["name"] in rec and not sim.dm.check(rec[f["name"]], f["type"]):
            return XapiError("FIELD_TYPE_ERROR", f["name"])
    return None


def sr_space(sim, pool, sr_ref, extra):
    st = sim.storage[pool.db["SR"][sr_ref]["uuid"]]
    used = sum(v["virtual_size"] for v in st["vdis"].values())
    if used + extra > st["physical_size"]:
        raise backend_failure(44, "There is insufficient space")
    return st


def add_vdi(sim, pool, sr_ref, st, virtual_size, rec_fields, snapshot_of=None):
    vu = new_uuid()
    st["vdis"][vu] = {"uuid": vu, "virtual_size": virtual_size,
                      "name_label": rec_fields.get("name_label", ""),
                      "name_description": rec_fields.get("name_description", ""),
                      "type": rec_fields.get("type", "user"),
                      "sharable": rec_fields.get("sharable", False),
                      "read_only": rec_fields.get("read_only", False),
                      "is_a_snapshot": snapshot_of is not None,
                      "snapshot_of": pool.db["VDI"][snapshot_of]["uuid"]
                      if snapshot_of else ""}
    ref = vdi_from_store(sim, pool, sr_ref, st["vdis"][vu])
    rec = pool.db["VDI"][ref]
    for k in ("other_config", "sm_config", "xenstore_data", "tags"):
        if k in rec_fields:
            rec[k] = (dict if isinstance(rec_fields[k], dict) else list)(rec_fields[k])
    if snapshot_of:
        rec["snapshot_time"] = now_stamp()
    refresh_sr(sim, pool, sr_ref)
    return ref


@api("VDI.create")
def vdi_create(sim, pool, host, s, sref, rec):
    err = check_constructor(sim, "VDI", rec)
    if err:
        raise err
    sr_ref = rec["SR"]
    if sr_ref not in pool.db["SR"]:
        raise XapiError("HANDLE_INVALID", "SR", sr_ref)
    need_cap(sim, pool, sr_ref, "VDI_CREATE")
    if not plugged_pbds(pool, sr_ref):
        raise XapiError("SR_NO_PBDS", sr_ref)
    size = as_int(rec["virtual_size"])
    if size < 0:
        raise XapiError("FIELD_TYPE_ERROR", "virtual_size")
    st = sr_space(sim, pool, sr_ref, size)
    return add_vdi(sim, pool, sr_ref, st, size, rec)


@api("VDI.destroy")
def vdi_destroy(sim, pool, host, s, sref, vdi_ref):
    vdi = pool.db["VDI"][vdi_ref]
    sr_ref = vdi["SR"]
    need_cap(sim, pool, sr_ref, "VDI_DELETE")
    if not plugged_pbds(pool, sr_ref):
        raise XapiError("SR_NO_PBDS", sr_ref)
    st = sim.storage.get(pool.db["SR"][sr_ref]["uuid"])
    if st is not None:
        st["vdis"].pop(vdi["uuid"], None)
    pool.remove("VDI", vdi_ref)
    refresh_sr(sim, pool, sr_ref)
    return ""


def _copy_vdi(sim, pool, vdi_ref, cap, snapshot):
    vdi = pool.db["VDI"][vdi_ref]
    sr_ref = vdi["SR"]
    need_cap(sim, pool, sr_ref, cap)
    if not plugged_pbds(pool, sr_ref):
        raise XapiError("SR_NO_PBDS", sr_ref)
    size = vdi["virtual_size"]
    st = sr_space(sim, pool, sr_ref, size)
    fields = {k: vdi[k] for k in ("name_label", "name_description", "type",
                                  "sharable", "read_only", "other_config",
                                  "sm_config", "xenstore_data", "tags")}
    if snapshot:
        fields["read_only"] = True
    return add_vdi(sim, pool, sr_ref, st, size, fields,
                   snapshot_of=vdi_ref if snapshot else None)


@api("VDI.set_name_label")
def vdi_set_name_label(sim, pool, host, s, sref, vdi_ref, value):
    """An explicit message in xapi (name_label is RO/constructor): the new
    label also goes to the SR's own metadata, as SM's vdi_update does."""
    vdi = pool.db["VDI"][vdi_ref]
    vdi["name_label"] = value
    st = sim.storage.get(pool.db["SR"][vdi["SR"]]["uuid"])
    if st is not None and vdi["uuid"] in st["vdis"]:
        st["vdis"][vdi["uuid"]]["name_label"] = value
    return ""


@api("VDI.clone")
def vdi_clone(sim, pool, host, s, sref, vdi_ref, driver_params=None):
    return _copy_vdi(sim, pool, vdi_ref, "VDI_CLONE", False)


@api("VDI.snapshot")
def vdi_snapshot(sim, pool, host, s, sref, vdi_ref, driver_params=None):
    return _copy_vdi(sim, pool, vdi_ref, "VDI_SNAPSHOT", True)


# ============================================================================
#  Control API
# ============================================================================

@control("sim.ping")
def c_ping(sim):
    return "pong"


@control("sim.add_fault")
def c_add_fault(sim, rule):
    """rule: {method, action: fail|delay|drop, nth (default 1), repeat (bool:
    every call from nth on), code, params (list), seconds, when
    (before|after, for drop), host (name, optional), param ({"index":
    value}: only calls whose params[index] equals value, e.g. {"3": "vdi_create"}
    for host.call_plugin's fn)}."""
    action = rule.get("action", "fail")
    if action not in ("fail", "delay", "drop"):
        raise XapiError("INVALID_VALUE", "action", action)
    if not isinstance(rule.get("method"), str):
        raise XapiError("INVALID_VALUE", "method", "")
    r = {"method": rule["method"], "action": action,
         "nth": int(rule.get("nth", 1)), "repeat": bool(rule.get("repeat", False)),
         "code": str(rule.get("code", "INTERNAL_ERROR")),
         "params": [str(p) for p in rule.get("params", [])],
         "seconds": float(rule.get("seconds", 0)),
         "when": rule.get("when", "before"), "host": rule.get("host"),
         "param": {int(k): v for k, v in rule.get("param", {}).items()},
         "seen": 0, "fired": 0}
    if r["when"] not in ("before", "after"):
        raise XapiError("INVALID_VALUE", "when", r["when"])
    with sim.lock:
        sim.fault_seq += 1
        r["id"] = sim.fault_seq
        sim.faults.append(r)
    return str(r["id"])


@control("sim.clear_faults")
def c_clear_faults(sim):
    with sim.lock:
        sim.faults = []
    return ""


@control("sim.list_faults")
def c_list_faults(sim):
    with sim.lock:
        return json.dumps(sim.faults)


@control("sim.expire_sessions")
def c_expire(sim):
    n = 0
    with sim.lock:
        for pool in sim.pools:
            for ref in list(pool.db["session"]):
                pool.remove("session", ref)
                n += 1
    return str(n)


@control("sim.set_session_ttl")
def c_ttl(sim, seconds):
    sim.session_ttl = float(seconds)
    return ""


@control("sim.set_sr_capacity")
def c_sr_capacity(sim, sr_uuid, size):
    with sim.lock:
        st = sim.storage.get(sr_uuid)
        if st is None:
            raise XapiError("UUID_INVALID", "SR", sr_uuid)
        st["physical_size"] = int(size)
        for pool in sim.pools:
            ref = pool.uuid_index["SR"].get(sr_uuid)
            if ref and plugged_pbds(pool, ref):
                refresh_sr(sim, pool, ref)
    return ""


@control("sim.set_device_capacity")
def c_dev_capacity(sim, match, size):
    with sim.lock:
        sim.capacity_rules.append((dict(match), int(size)))
    return ""


@control("sim.add_storage")
def c_add_storage(sim, sc):
    with sim.lock:
        return sim.add_storage(sc)


@control("sim.dump")
def c_dump(sim):
    return sim.dump()


@control("sim.counts")
def c_counts(sim):
    with sim.lock:
        return json.dumps(sim.counts)


@control("sim.reset_counts")
def c_reset_counts(sim):
    with sim.lock:
        sim.counts = {}
    return ""


# ============================================================================
#  HTTP over TCP and over unix sockets
# ============================================================================

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "xapisim"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet: the sim logs itself
        pass

    def address_string(self):
        return str(self.client_address)

    def _body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline()
                n = int(line.split(b";")[0].strip() or b"0", 16)
                if n == 0:
                    self.rfile.readline()
                    break
                if n < 0 or n + sum(map(len, chunks)) > MAX_BODY:
                    raise ValueError("chunked body too large")
                chunks.append(self.rfile.read(n))
                self.rfile.readline()
            return b"".join(chunks)
        n = int(self.headers.get("Content-Length") or 0)
        if n < 0 or n > MAX_BODY:
            raise ValueError("Content-Length %d out of range" % n)
        return self.rfile.read(n)

    def do_POST(self):
        srv = self.server
        if self.path.split("?")[0] not in ("/", "/RPC2"):
            self.send_error(404)
            return
        try:
            body = self._body()
        except ValueError as e:
            self.send_error(400, "bad request body: %s" % e)
            return
        try:
            out = srv.sim.handle(srv.host, srv.transport, body)
        except Drop:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
        except (BrokenPipeError, ConnectionResetError):
            # the client gave up (e.g. its timeout); nothing to answer
            self.close_connection = True

    def do_GET(self):
        self.send_error(404)


def quiet_handle_error(server, request, client_address):
    """Clients that hang up are routine (timeouts, dropped calls); anything
    else is printed."""
    exc = sys.exc_info()[1]
    if isinstance(exc, (BrokenPipeError, ConnectionResetError, TimeoutError)):
        return
    socketserver.BaseServer.handle_error(server, request, client_address)


class TCPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    handle_error = quiet_handle_error

    def server_bind(self):
        # skip HTTPServer's getfqdn(): no DNS lookups in tests
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    handle_error = quiet_handle_error

    def get_request(self):
        conn, _ = self.socket.accept()
        return conn, ("unix", 0)


# ============================================================================
#  Config and main
# ============================================================================

def build_config(args):
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            cfg = json.load(f)
    else:
        cfg = {}
    if "pools" not in cfg:
        pools = []
        for spec in args.pool or ["p1:h1"]:
            name, _, hosts = spec.partition(":")
            hl = [h for h in hosts.split(",") if h] or [name + "-h1"]
            pools.append({"name": name, "master": hl[0], "hosts": hl})
        cfg["pools"] = pools
    if args.physical_size is not None:
        cfg["default_physical_size"] = args.physical_size
    if args.user:
        users = {}
        for u in args.user:
            name, _, pwd = u.partition(":")
            users[name] = pwd
        cfg["users"] = users
    names = set()
    for p in cfg["pools"]:
        if not p.get("hosts"):
            raise ValueError("pool %s has no hosts" % p.get("name"))
        if p.get("master", p["hosts"][0]) not in p["hosts"]:
            raise ValueError("pool %s: master %s is not one of its hosts"
                             % (p["name"], p["master"]))
        for h in p["hosts"]:
            if h in names or not re.fullmatch(r"[A-Za-z0-9_.-]+", h):
                raise ValueError("host name %r is duplicated or invalid" % h)
            names.add(h)
    return cfg


def main(argv=None):
    ap = argparse.ArgumentParser(description="XenAPI simulator")
    ap.add_argument("--config", help="JSON config file (pools, users, storage...)")
    ap.add_argument("--pool", action="append",
                    help="NAME:MASTER[,MEMBER...] (repeatable; default p1:h1)")
    ap.add_argument("--user", action="append", help="NAME:PASSWORD (default root:password)")
    ap.add_argument("--unix-dir", required=True, help="directory for <host>.sock")
    ap.add_argument("--plugin-dir", default="", help="directory of host plugins")
    ap.add_argument("--session-ttl", type=float, default=0,
                    help="idle seconds before a session expires (0 = never)")
    ap.add_argument("--physical-size", type=int, default=None,
                    help="default SR physical_size in bytes (default 1 TiB)")
    ap.add_argument("--datamodel", default=None,
                    help="path of xenapi.json (default: see README)")
    ap.add_argument("--empty-value", choices=("selfclosing", "pair"),
                    default="selfclosing",
                    help="how empty strings are written: <value/> or <value></value>")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    try:
        cfg = build_config(args)
        dm = Datamodel(args.datamodel or default_datamodel())
        sim = Simulator(dm, cfg,
                        os.path.abspath(args.plugin_dir) if args.plugin_dir else "",
                        args.session_ttl, Serializer(args.empty_value == "selfclosing"),
                        args.verbose)
    except (OSError, ValueError, KeyError, TypeError, AttributeError,
            StopIteration) as e:
        sys.stderr.write("xapisim: bad config or datamodel: %s: %s\n"
                         % (type(e).__name__, e))
        return 2
    servers = []
    paths = []
    try:
        os.makedirs(args.unix_dir, exist_ok=True)
        for h in sim.hosts:
            tcp = TCPServer(("127.0.0.1", 0), Handler)
            tcp.sim, tcp.host, tcp.transport = sim, h, "tcp"
            h.http_port = tcp.server_address[1]
            path = os.path.join(os.path.abspath(args.unix_dir), h.name + ".sock")
            if os.path.exists(path):
                os.unlink(path)
            uds = UnixServer(path, Handler)
            uds.sim, uds.host, uds.transport = sim, h, "unix"
            h.unix_path = path
            paths.append(path)
            servers += [tcp, uds]
    except OSError as e:
        sys.stderr.write("xapisim: cannot listen: %s\n" % e)
        for s in servers:
            s.server_close()
        for p in paths:
            if os.path.exists(p):
                os.unlink(p)
        return 1
    sim.populate()
    threads = []
    for s in servers:
        t = threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2},
                             daemon=True)
        t.start()
        threads.append(t)

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    line = {"pools": [{"name": p.name, "uuid": p.uuid, "master": p.master.name,
                       "hosts": [{"name": h.name, "uuid": h.uuid, "ref": h.ref,
                                  "url": "http://127.0.0.1:%d/" % h.http_port,
                                  "port": h.http_port, "unix": h.unix_path}
                                 for h in p.hosts]} for p in sim.pools],
            "pid": os.getpid()}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    while not stop.is_set():
        stop.wait()
    stoppers = [threading.Thread(target=s.shutdown) for s in servers]
    for t in stoppers:
        t.start()
    for t in stoppers:
        t.join()
    for s in servers:
        s.server_close()
    for p in paths:
        try:
            os.unlink(p)
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
