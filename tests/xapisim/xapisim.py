#!/usr/bin/env python3
"""xapisim: a XenAPI (xapi) simulator for xensm's tests and demo.

Python 3 standard library only.  Requests are parsed by Python's own
xmlrpc.client machinery; responses are written in xapi's compact untyped
form.  See tests/xapisim/README.md for the command line, the config format,
the control API (sim.* methods) and, for every behaviour, the xapi source
it follows.
"""

import argparse
import errno
import html
import http.server
import json
import os
import re
import shlex
import shutil
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
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
EPOCH = "19700101T00:00:00Z"
MAX_BODY = 300 * 1024           # xapi: Constants.http_limit_max_rpc_size
DRAIN_MAX = 64 << 20            # bytes of a refused body read and dropped
PLUGIN_PATH = "/sbin:/usr/sbin:/bin:/usr/bin"   # forkhelpers.ml default_path
QUEUE_MAX_WAIT = 7200.0         # helpers.ml Policy.standard max_total_wait
XAPI_SOCKET = "/var/lib/xcp/xapi"
INVENTORY = "/etc/xensource-inventory"
POOL_CONF = "/etc/xensource/pool.conf"


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


class Int32(int):
    """A value sent as <i4> (ocaml-rpc's Rpc.Int32: event.from's counts)."""


class Drop(Exception):
    """Close the connection without a response."""


class HttpError(Exception):
    """A request xapi's HTTP server answers with 500 Internal Error and a
    closed connection: an exception other than Server_error escaped the
    XML-RPC handler (api_server.ml callback, http_svr.ml handle_one)."""


def new_ref():
    return "OpaqueRef:" + str(uuidlib.uuid4())


def new_uuid():
    return str(uuidlib.uuid4())


def now_stamp():
    return DateTime(time.strftime("%Y%m%dT%H:%M:%SZ", time.gmtime()))


def internal_error_page(extra):
    """The body of http_svr.ml's response_internal_error."""
    return ("<html><body><h1>HTTP 500 internal server error</h1>An unexpected "
            "error occurred; please wait a while and try again. If the problem "
            "persists, please contact your support representative.<h1> "
            "Additional information </h1>%s</body></html>" % html.escape(extra))


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
        elif isinstance(v, Int32):
            out.append("<value><i4>%d</i4></value>" % v)
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

    def to_string(self, v):
        out = []
        self.value(v, out)
        return "".join(out)

    def response(self, result):
        out = ['<?xml version="1.0"?><methodResponse><params><param>']
        self.value(result, out)
        out.append("</param></params></methodResponse>")
        return "".join(out).encode("utf-8")


# What xapi stores in task.result: Xmlrpc.to_string of the marshalled result
# (ocaml-rpc writes an empty string as <value></value>).
TASK_RESULT = Serializer(empty_selfclosing=False)


# ============================================================================
#  Datamodel (xenapi.json)
# ============================================================================

# Classes without Async messages (datamodel.ml no_async_messages_for).
NO_ASYNC_CLASSES = {"session", "event", "task", "data_source", "blob"}

# Explicit messages declared ~flags:[`Session] (no Async form) in xapi's
# datamodel, for the classes the simulator implements.
SYNC_ONLY = {
    "SR.forget_data_source_archives", "SR.get_data_sources",
    "SR.get_supported_types", "SR.query_data_source", "SR.record_data_source",
    "SR.set_physical_size", "SR.set_physical_utilisation",
    "SR.set_virtual_allocation",
    "VDI.get_nbd_info", "VDI.set_is_a_snapshot", "VDI.set_managed",
    "VDI.set_metadata_of_pool", "VDI.set_missing", "VDI.set_physical_utilisation",
    "VDI.set_read_only", "VDI.set_sharable", "VDI.set_snapshot_of",
    "VDI.set_snapshot_time", "VDI.set_virtual_size",
    "host.get_data_sources", "host.query_data_source", "host.record_data_source",
    "host.forget_data_source_archives", "host.get_servertime",
    "host.get_server_localtime", "host.dmesg", "host.list_methods",
    "host.get_system_status_capabilities", "host.is_in_emergency_mode",
    "host.local_assert_healthy", "host.request_backup", "host.sync_data",
    "host.tickle_heartbeat", "host.set_hostname_live", "host.shutdown_agent",
    "pool.is_slave", "pool.emergency_reset_master",
    "pool.emergency_transition_to_master",
    "VM.get_boot_record", "VM.get_data_sources", "VM.query_data_source",
    "VM.record_data_source", "VM.forget_data_source_archives",
    "VM.get_allowed_VBD_devices", "VM.get_allowed_VIF_devices",
}


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

    @staticmethod
    def async_capable(name, msg):
        """Whether xapi generates Async.<name> (datamodel_utils.ml: explicit
        messages unless ~flags:[`Session]; of the implicit ones only the
        constructor and destructor)."""
        cls, _, m = name.partition(".")
        if cls in NO_ASYNC_CLASSES:
            return False
        if msg.get("implicit"):
            return m in ("create", "destroy")
        return name not in SYNC_ONLY

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
            return DateTime(EPOCH)
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
                return self.zero(t)
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
#  SM drivers: what a real XenServer / XCP-ng host registers
# ============================================================================
#
# The SMAPIv1 drivers of xapi-project/sm (libs/sm/drivers/*.py DRIVER_INFO)
# that xapi registers: xapi.conf's sm-plugins whitelist ("ext nfs iscsi
# lvmoiscsi dummy file hba rawhba udev iso lvm lvmohba lvmofcoe shm smb")
# intersected with the drivers sm installs (rawhba and lvmofcoe no longer
# exist; SHMSR's CONFIGURATION is not a list of pairs, so sm_exec.ml's
# parse_sr_get_driver_info rejects it).  lvm, lvmoiscsi and lvmohba run the
# LVHD drivers' DRIVER_INFO.  There is no NetApp or EqualLogic driver.
#
# "required": (key, SR_BACKEND_FAILURE number, description) in the order the
# driver's load() checks them (libs/sm/core/XE_SR_ERRORCODES.xml).
# "vdis": "file" (VDI.create makes a new VDI) or "lun" (LUNperVDI.py: a VDI
# is an existing LUN; VDI.create hands out the smallest unmanaged LUN that is
# large enough, else SRNoSpace).

NFS_VERSION = ("nfsversion", "for type=nfs, NFS protocol version - 3, 4, 4.0, 4.1 (optional)")

DRIVERS = {
    "nfs": {
        "name": "NFS VHD",
        "description": "SR plugin which stores disks as VHD files on a remote NFS filesystem",
        "capabilities": ["SR_PROBE", "SR_UPDATE", "SR_CACHING", "VDI_CREATE",
                         "VDI_DELETE", "VDI_ATTACH", "VDI_DETACH", "VDI_UPDATE",
                         "VDI_CLONE", "VDI_SNAPSHOT", "VDI_RESIZE",
                         "VDI_GENERATE_CONFIG", "VDI_MIRROR", "VDI_RESET_ON_BOOT/2",
                         "ATOMIC_PAUSE", "VDI_CONFIG_CBT", "VDI_ACTIVATE",
                         "VDI_DEACTIVATE", "THIN_PROVISIONING", "VDI_READ_CACHING"],
        "configuration": [("server", "hostname or IP address of NFS server (required)"),
                          ("serverpath", "path on remote server (required)"),
                          NFS_VERSION],
        "required": [("server", 102, "The request is missing the server parameter"),
                     ("serverpath", 101, "The request is missing the serverpath parameter")],
    },
    "lvmoiscsi": {
        "name": "LVHD over iSCSI",
        "description": "SR plugin which represents disks as Logical Volumes within a "
                       "Volume Group created on an iSCSI LUN",
        "capabilities": ["SR_PROBE", "SR_UPDATE", "SR_METADATA", "SR_TRIM",
                         "SR_CACHING", "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH",
                         "VDI_DETACH", "VDI_GENERATE_CONFIG", "VDI_CLONE",
                         "VDI_SNAPSHOT", "VDI_RESIZE", "ATOMIC_PAUSE",
                         "VDI_RESET_ON_BOOT/2", "VDI_UPDATE", "VDI_MIRROR",
                         "VDI_CONFIG_CBT", "VDI_ACTIVATE", "VDI_DEACTIVATE"],
        "configuration": [
            ("SCSIid", "The scsi_id of the destination LUN"),
            ("target", "IP address or hostname of the iSCSI target"),
            ("targetIQN", "The IQN of the target LUN group to be attached"),
            ("chapuser", "The username to be used during CHAP authentication"),
            ("chappassword", "The password to be used during CHAP authentication"),
            ("incoming_chapuser", "The incoming username to be used during "
                                  "bi-directional CHAP authentication (optional)"),
            ("incoming_chappassword", "The incoming password to be used during "
                                      "bi-directional CHAP authentication (optional)"),
            ("port", "The network port number on which to query the target"),
            ("multihomed", "Enable multi-homing to this target, true or false "
                           "(optional, defaults to same value as "
                           "host.other_config:multipathing)"),
            ("usediscoverynumber", "The specific iscsi record index to use. (optional)"),
            ("allocation", "Valid values are thick or thin (optional, defaults to thick)")],
        "required": [("target", 95, "The request is missing the target parameter"),
                     ("targetIQN", 96, "The request is missing or has an incorrect "
                                       "target IQN parameter"),
                     ("SCSIid", 107, "The SCSIid parameter is missing or incorrect")],
    },
    "lvmohba": {
        "name": "LVHD over FC",
        "description": "SR plugin which represents disks as VHDs on Logical Volumes "
                       "within a Volume Group created on an HBA LUN, e.g. "
                       "hardware-based iSCSI or FC support",
        "capabilities": ["SR_PROBE", "SR_UPDATE", "SR_METADATA", "SR_TRIM",
                         "SR_CACHING", "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH",
                         "VDI_DETACH", "VDI_GENERATE_CONFIG", "VDI_SNAPSHOT",
                         "VDI_CLONE", "VDI_MIRROR", "VDI_RESIZE", "ATOMIC_PAUSE",
                         "VDI_RESET_ON_BOOT/2", "VDI_UPDATE", "VDI_CONFIG_CBT",
                         "VDI_ACTIVATE", "VDI_DEACTIVATE"],
        "configuration": [("SCSIid", "The scsi_id of the destination LUN"),
                          ("allocation", "Valid values are thick or thin (optional, "
                                         "defaults to thick)")],
        "required": [("SCSIid", 107, "The SCSIid parameter is missing or incorrect")],
    },
    "iscsi": {
        "name": "iSCSI",
        "description": "Base ISCSI SR driver, provides a LUN-per-VDI. Does not support "
                       "creation of VDIs but accesses existing LUNs on a target.",
        "capabilities": ["SR_PROBE", "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH",
                         "VDI_DETACH", "VDI_INTRODUCE"],
        "configuration": [
            ("target", "IP address or hostname of the iSCSI target (required)"),
            ("targetIQN", "The IQN of the target LUN group to be attached (required)"),
            ("chapuser", "The username to be used during CHAP authentication (optional)"),
            ("chappassword", "The password to be used during CHAP authentication "
                             "(optional)"),
            ("incoming_chapuser", "The incoming username to be used during "
                                  "bi-directional CHAP authentication (optional)"),
            ("incoming_chappassword", "The incoming password to be used during "
                                      "bi-directional CHAP authentication (optional)"),
            ("port", "The network port number on which to query the target (optional)"),
            ("multihomed", "Enable multi-homing to this target, true or false "
                           "(optional, defaults to same value as "
                           "host.other_config:multipathing)"),
            ("force_tapdisk", "Force use of tapdisk, true or false (optional, "
                              "defaults to false)")],
        "required": [("target", 95, "The request is missing the target parameter"),
                     ("targetIQN", 96, "The request is missing or has an incorrect "
                                       "target IQN parameter")],
        "vdis": "lun",
    },
    "hba": {
        "name": "HBA LUN-per-VDI driver",
        "description": "SR plugin which represents LUNs as VDIs sourced by hardware HBA "
                       "adapters, e.g. hardware-based iSCSI or FC support",
        "capabilities": ["SR_PROBE", "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH",
                         "VDI_DETACH", "VDI_INTRODUCE"],
        "configuration": [("type", "HBA type (optional) (e.g. FC, iSCSI, SAS etc..)")],
        "required": [],
        "vdis": "lun",
    },
    "smb": {
        "name": "SMB VHD",
        "description": "SR plugin which stores disks as VHD files on a remote SMB "
                       "filesystem",
        "copyright": "(C) 2015 Citrix Systems Inc",
        "capabilities": ["SR_PROBE", "SR_UPDATE", "SR_CACHING", "VDI_CREATE",
                         "VDI_DELETE", "VDI_ATTACH", "VDI_DETACH", "VDI_UPDATE",
                         "VDI_CLONE", "VDI_SNAPSHOT", "VDI_RESIZE", "VDI_MIRROR",
                         "VDI_GENERATE_CONFIG", "VDI_RESET_ON_BOOT/2",
                         "ATOMIC_PAUSE", "VDI_CONFIG_CBT", "VDI_ACTIVATE",
                         "VDI_DEACTIVATE", "THIN_PROVISIONING", "VDI_READ_CACHING"],
        "configuration": [("server", "Full path to share root on SMB server (required)"),
                          ("username", "The username to be used during SMB authentication"),
                          ("password", "The password to be used during SMB authentication")],
        # SMBSR.load checks only the server: guest access needs no credentials
        "required": [("server", 102, "The request is missing the server parameter")],
    },
    "ext": {
        "name": "Local EXT3 VHD",
        "description": "SR plugin which represents disks as VHD files stored on a local "
                       "EXT3 filesystem, created inside an LVM volume",
        "capabilities": ["SR_PROBE", "SR_UPDATE", "SR_SUPPORTS_LOCAL_CACHING",
                         "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH", "VDI_DETACH",
                         "VDI_UPDATE", "VDI_CLONE", "VDI_SNAPSHOT", "VDI_RESIZE",
                         "VDI_MIRROR", "VDI_GENERATE_CONFIG", "VDI_RESET_ON_BOOT/2",
                         "ATOMIC_PAUSE", "VDI_CONFIG_CBT", "VDI_ACTIVATE",
                         "VDI_DEACTIVATE", "THIN_PROVISIONING", "VDI_READ_CACHING"],
        "configuration": [("device", "local device path (required) (e.g. /dev/sda3)")],
        "required": [("device", 90, "The request is missing the device parameter")],
    },
    "lvm": {
        "name": "Local VHD on LVM",
        "description": "SR plugin which represents disks as VHD disks on Logical "
                       "Volumes within a locally-attached Volume Group",
        "vendor": "XenSource Inc", "copyright": "(C) 2008 XenSource Inc",
        "capabilities": ["SR_PROBE", "SR_UPDATE", "SR_TRIM", "VDI_CREATE",
                         "VDI_DELETE", "VDI_ATTACH", "VDI_DETACH", "VDI_MIRROR",
                         "VDI_CLONE", "VDI_SNAPSHOT", "VDI_RESIZE", "ATOMIC_PAUSE",
                         "VDI_RESET_ON_BOOT/2", "VDI_UPDATE", "VDI_CONFIG_CBT",
                         "VDI_ACTIVATE", "VDI_DEACTIVATE"],
        "configuration": [("device", "local device path (required) (e.g. /dev/sda3)")],
        "required": [("device", 90, "The request is missing the device parameter")],
    },
    "file": {
        "name": "Local Path VHD",
        "description": "SR plugin which represents disks as VHD files stored on a "
                       "local path",
        "capabilities": ["SR_PROBE", "SR_UPDATE", "VDI_CREATE", "VDI_DELETE",
                         "VDI_ATTACH", "VDI_DETACH", "VDI_CLONE", "VDI_SNAPSHOT",
                         "VDI_RESIZE", "VDI_MIRROR", "VDI_GENERATE_CONFIG",
                         "ATOMIC_PAUSE", "VDI_CONFIG_CBT", "VDI_ACTIVATE",
                         "VDI_DEACTIVATE", "THIN_PROVISIONING"],
        "configuration": [("location", "local directory path (required)")],
        "required": [("location", 94, "The request is missing the location parameter")],
    },
    "iso": {
        "name": "ISO",
        "description": "Handles CD images stored as files in iso format",
        "capabilities": ["VDI_CREATE", "VDI_DELETE", "VDI_ATTACH", "VDI_DETACH",
                         "SR_SCAN", "SR_ATTACH", "SR_DETACH"],
        "configuration": [("location", "path to mount (required) (e.g. server:/path)"),
                          ("options", "extra options to pass to mount (e.g. '-o ro')"),
                          ("type", "cifs (SMB) or nfs_iso"), NFS_VERSION,
                          ("vers", "SMB version, default version 3"),
                          ("username", "Username to authenticate to SMB share with, "
                                       "can be domain\\username"),
                          ("cifspassword_secret", "Secret ID containing the password "
                                                  "to authenticate to SMB"),
                          ("cifspassword", "Password to authenticate to SMB, "
                                           "(deprecated see cifspassword_secret)")],
        "required": [("location", 94, "The request is missing the location parameter")],
    },
    "udev": {
        "name": "udev",
        "description": "SR plugin which represents devices plugged in via udev as VDIs",
        "required_api_version": "1.1",
        "capabilities": ["VDI_INTRODUCE", "VDI_ATTACH", "VDI_DETACH", "VDI_UPDATE",
                         "SR_UPDATE"],
        "configuration": [("location", "path to mount (required) (e.g. server:/path)")],
        "required": [("location", 94, "The request is missing the location parameter")],
    },
    "dummy": {
        "name": "dummy",
        "description": "SR plugin which manages fake data",
        "required_api_version": "1.1",
        "capabilities": ["SR_PROBE", "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH",
                         "VDI_DETACH", "VDI_ACTIVATE", "VDI_DEACTIVATE", "VDI_CLONE",
                         "VDI_SNAPSHOT", "VDI_RESIZE", "VDI_INTRODUCE", "VDI_MIRROR"],
        "configuration": [],
        "required": [],
    },
}

DRIVER_DEFAULTS = {"vendor": "Citrix Systems Inc", "copyright": "(C) 2008 Citrix Systems Inc",
                   "version": "1.0", "required_api_version": "1.0", "vdis": "file",
                   "optional": []}

# smint.ml Feature.string_to_capability_table: what xapi keeps of a driver's
# capabilities (others, e.g. ATOMIC_PAUSE, are dropped with a warning).
KNOWN_FEATURES = [
    "SR_CREATE", "SR_DELETE", "SR_ATTACH", "SR_DETACH", "SR_SCAN", "SR_PROBE",
    "SR_UPDATE", "SR_SUPPORTS_LOCAL_CACHING", "SR_METADATA", "SR_TRIM",
    "SR_MULTIPATH", "SR_CACHING", "SR_STATS", "VDI_CREATE", "VDI_DELETE",
    "VDI_ATTACH", "VDI_DETACH", "VDI_MIRROR", "VDI_MIRROR_IN", "VDI_RESIZE",
    "VDI_RESIZE_ONLINE", "VDI_CLONE", "VDI_SNAPSHOT", "VDI_ACTIVATE",
    "VDI_ACTIVATE_READONLY", "VDI_DEACTIVATE", "VDI_UPDATE", "VDI_INTRODUCE",
    "VDI_GENERATE_CONFIG", "VDI_ATTACH_OFFLINE", "VDI_RESET_ON_BOOT",
    "VDI_CONFIG_CBT", "VDI_COMPOSE", "LARGE_VDI", "THIN_PROVISIONING",
    "VDI_READ_CACHING", "VDI_REVERT"]


def parse_features(caps):
    """[(name, version)] as smint.ml parse_string_int64 keeps them."""
    out = []
    for c in caps:
        name, _, ver = c.partition("/")
        if name not in KNOWN_FEATURES:
            continue
        try:
            v = max(1, int(ver)) if ver else 1
        except ValueError:
            v = 1
        if name not in [n for n, _ in out]:
            out.append((name, v))
    return out


def build_drivers(config):
    """DRIVERS merged with the config's "drivers" (new or changed types) and
    "sm_capabilities" (a type's capability list replaced)."""
    drivers = {}
    for t, d in DRIVERS.items():
        drivers[t] = dict(DRIVER_DEFAULTS, **d)
    for t, d in config.get("drivers", {}).items():
        if not isinstance(d, dict) or not re.fullmatch(r"[a-z0-9_]+", t):
            raise ValueError("drivers: %r must be a lower-case name with a dict" % t)
        base = drivers.get(t, dict(DRIVER_DEFAULTS, name=t, description="", capabilities=[],
                                   configuration=[], required=[]))
        merged = dict(base, **d)
        merged["required"] = [tuple(r) for r in merged.get("required", [])]
        for key, n, reason in merged["required"]:
            if not isinstance(key, str) or not isinstance(n, int) or not isinstance(reason, str):
                raise ValueError("drivers.%s.required: [key, number, reason] expected" % t)
        if merged.get("vdis") not in ("file", "lun"):
            raise ValueError("drivers.%s.vdis: file or lun" % t)
        if "configuration" not in d:
            merged["configuration"] = (
                [(k, "required") for k, _, _ in merged["required"]]
                + [(k, "optional") for k in merged.get("optional", [])])
        drivers[t] = merged
    for t, caps in config.get("sm_capabilities", {}).items():
        if t not in drivers:
            raise ValueError("sm_capabilities: unknown SR type %r" % t)
        drivers[t] = dict(drivers[t], capabilities=list(caps))
    for d in drivers.values():
        d["features"] = parse_features(d["capabilities"])
        d["caps"] = [n for n, _ in d["features"]]
    return drivers


# SR operations gated by an SM feature (xapi_sr_operations.ml sm_cap_table;
# vdi_clone is not there: xapi checks VDI_CLONE on the VDI).
SR_OP_FEATURE = {
    "vdi_create": "VDI_CREATE", "vdi_destroy": "VDI_DELETE",
    "vdi_resize": "VDI_RESIZE", "vdi_introduce": "VDI_INTRODUCE",
    "vdi_mirror": "VDI_MIRROR", "vdi_enable_cbt": "VDI_CONFIG_CBT",
    "vdi_disable_cbt": "VDI_CONFIG_CBT", "vdi_data_destroy": "VDI_CONFIG_CBT",
    "vdi_list_changed_blocks": "VDI_CONFIG_CBT", "vdi_set_on_boot": "VDI_RESET_ON_BOOT",
    "update": "SR_UPDATE", "vdi_snapshot": "VDI_SNAPSHOT",
}

# VDI operations gated by an SM feature (xapi_vdi.ml feature_of_op).
VDI_OP_FEATURE = {
    "snapshot": "VDI_SNAPSHOT", "destroy": "VDI_DELETE", "resize": "VDI_RESIZE",
    "update": "VDI_UPDATE", "resize_online": "VDI_RESIZE_ONLINE",
    "generate_config": "VDI_GENERATE_CONFIG", "clone": "VDI_CLONE",
    "mirror": "VDI_MIRROR", "enable_cbt": "VDI_CONFIG_CBT",
    "disable_cbt": "VDI_CONFIG_CBT", "data_destroy": "VDI_CONFIG_CBT",
    "list_changed_blocks": "VDI_CONFIG_CBT", "set_on_boot": "VDI_RESET_ON_BOOT",
}

# VDI operations allowed while a VBD is attached (xapi_vdi.ml
# operation_can_be_performed_live).
VDI_LIVE_OPS = {"snapshot", "resize_online", "blocked", "clone", "mirror",
                "enable_cbt", "disable_cbt", "data_destroy"}

# The VDI operations the simulator lists in allowed_operations.
VDI_ALLOWED_OPS = ["clone", "copy", "destroy", "forget", "generate_config", "resize",
                   "snapshot", "update"]


# ============================================================================
#  The simulator state
# ============================================================================

CLASSES = ("session", "host", "pool", "SR", "PBD", "VDI", "SM", "VM", "VBD", "task")
# sessions generate no events (datamodel.ml: ~gen_events:false)
EVENT_CLASSES = tuple(c for c in CLASSES if c != "session")
MAX_DELETED = 100000            # deletions remembered for event.from


class Host:
    def __init__(self, name, pool):
        self.name = name
        self.pool = pool
        self.ref = new_ref()
        self.uuid = new_uuid()
        self.dom0_ref = new_ref()
        self.dom0_uuid = new_uuid()
        self.address = None         # 127.0.0.N: each host its own address
        self.http_port = None       # one port for every host
        self.unix_path = None

    def url(self):
        return "http://%s:%d/" % (self.address, self.http_port)


class Pool:
    """One pool: a master, members, one database shared by all its hosts,
    and the generation counter event.from's tokens count in."""

    def __init__(self, sim, name):
        self.sim = sim
        self.name = name
        self.ref = new_ref()
        self.uuid = new_uuid()
        self.hosts = []
        self.master = None
        self.db = {c: {} for c in CLASSES}
        self.uuid_index = {c: {} for c in CLASSES}
        self.gen = 0
        self.sm_types = None        # SR types with an SM record; None: all
        self.meta = {}              # (cls, ref) -> [created, modified, hash]
        self.deleted = []           # (cls, ref, created, deleted)

    def add(self, cls, ref, rec):
        self.db[cls][ref] = rec
        self.uuid_index[cls][rec["uuid"]] = ref
        self.gen += 1
        self.meta[(cls, ref)] = [self.gen, self.gen, None]

    def remove(self, cls, ref):
        rec = self.db[cls].pop(ref, None)
        if rec is not None:
            self.uuid_index[cls].pop(rec["uuid"], None)
            meta = self.meta.pop((cls, ref), None)
            self.gen += 1
            if meta is not None and cls in EVENT_CLASSES:
                self.deleted.append((cls, ref, meta[0], self.gen))
                if len(self.deleted) > MAX_DELETED:
                    del self.deleted[:len(self.deleted) - MAX_DELETED]
        return rec

    def host_by_ref(self, ref):
        return next((h for h in self.hosts if h.ref == ref), None)


class Call:
    """One XenAPI call on its way through the simulator."""

    def __init__(self, host, transport, wire, params, faults):
        self.host = host
        self.pool = host.pool
        self.transport = transport
        self.wire = wire                    # as sent, e.g. "Async.VDI.create"
        self.is_async = wire.startswith("Async.")
        self.name = wire[len("Async."):] if self.is_async else wire
        self.params = params
        self.msg = None
        self.session = None                 # the session record
        self.task = None                    # its task ref (Async or transient)
        self.delay_before, self.delay_after, self.fail = faults
        self.marks = []                     # (cls, ref, op) it holds
        self.progress_total = self.delay_before + self.delay_after


class Index:
    """Reverse links for computed fields, built once per view pass."""

    def __init__(self, pool):
        db = pool.db
        self.pbds_by_sr, self.pbds_by_host = {}, {}
        for r, p in db["PBD"].items():
            self.pbds_by_sr.setdefault(p["SR"], []).append(r)
            self.pbds_by_host.setdefault(p["host"], []).append(r)
        self.vdis_by_sr, self.snapshots = {}, {}
        for r, v in db["VDI"].items():
            self.vdis_by_sr.setdefault(v["SR"], []).append(r)
            self.snapshots.setdefault(v["snapshot_of"], []).append(r)
        self.vbds_by_vdi, self.vbds_by_vm = {}, {}
        for r, b in db["VBD"].items():
            self.vbds_by_vdi.setdefault(b["VDI"], []).append(r)
            self.vbds_by_vm.setdefault(b["VM"], []).append(r)
        self.vms_by_host = {}
        for r, vm in db["VM"].items():
            self.vms_by_host.setdefault(vm["resident_on"], []).append(r)
        self.tasks_by_session = {}
        for r, t in db["task"].items():
            self.tasks_by_session.setdefault(t.get("_session"), []).append(r)


class Simulator:
    """Everything behind the listeners: pools, storage, sessions, tasks,
    faults, counters."""

    def __init__(self, dm, config, plugin_dir, session_ttl, serializer,
                 verbose=False):
        self.dm = dm
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
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
        self.lun_rules = []           # [(match dict, [sizes])]
        for rule in config.get("luns", []):
            self.lun_rules.append((dict(rule.get("match", {})),
                                   [int(s) for s in rule["sizes"]]))
        self.drivers = build_drivers(config)
        stderr = config.get("driver_stderr", "")
        self.driver_stderr = dict(stderr) if isinstance(stderr, dict) else {"*": str(stderr)}
        self.options = {
            "plugin_namespace": bool(config.get("plugin_namespace", True)),
            "queue_max_wait": float(config.get("queue_max_wait", QUEUE_MAX_WAIT)),
        }
        for gone in ("legacy_plugin_env", "legacy_unix_login"):
            if gone in config:
                raise ValueError("config key %s was removed: plugins get PATH alone and "
                                 "unix-socket logins are local, as in xapi" % gone)
        self.plugin_files = {}
        for path, content in config.get("plugin_files", {}).items():
            if not os.path.isabs(path) or ".." in path.split("/"):
                raise ValueError("plugin_files: %r is not an absolute path" % path)
            self.plugin_files[os.path.normpath(path)] = str(content)
        self.plugin_binds = []
        for b in config.get("plugin_binds", []):
            if not (os.path.isabs(b["source"]) and os.path.isabs(b["target"])):
                raise ValueError("plugin_binds: source and target must be absolute")
            self.plugin_binds.append((b["source"], os.path.normpath(b["target"])))
        self.plugin_stage = None      # staged files for the plugins' namespaces
        self.plugin_procs = set()
        self.storage = {}             # SR uuid -> backing store
        self.faults = []
        self.fault_seq = 0
        self.in_flight = 0            # calls being served (event.from aside)
        self.reset_counts()
        self.pools = []
        self.hosts = []
        for pc in config["pools"]:
            pool = Pool(self, pc["name"])
            if "sm_drivers" in pc:
                unknown = [t for t in pc["sm_drivers"] if t not in self.drivers]
                if unknown:
                    raise ValueError("pool %s: sm_drivers: unknown SR type(s) %s"
                                     % (pc["name"], ", ".join(map(str, unknown))))
                pool.sm_types = set(pc["sm_drivers"])
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

    # -- set-up of records once the addresses are known -----------------------

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
                       hostname=h.name, address=h.address, enabled=True,
                       API_version_major=2, API_version_minor=21,
                       API_version_vendor="XenSource",
                       software_version={"product_brand": "XCP-ng",
                                         "product_version": "8.2.1",
                                         "xapi": "1.20", "xensm_sim": "1"})
            if "local_cache_sr" in rec:
                rec["local_cache_sr"] = NULL_REF
            if "control_domain" in rec:
                rec["control_domain"] = h.dom0_ref
            pool.add("host", h.ref, rec)
            vm = dm.blank_record("VM")
            vm.update(uuid=h.dom0_uuid, name_label="Control domain on host: %s" % h.name,
                      name_description="The domain which manages physical devices "
                                       "and manages other domains",
                      is_a_template=False, is_control_domain=True,
                      power_state="Running", resident_on=h.ref, domid=0,
                      memory_static_max=4 << 30, memory_dynamic_max=4 << 30,
                      memory_dynamic_min=4 << 30, memory_static_min=4 << 30,
                      VCPUs_max=2, VCPUs_at_startup=2)
            pool.add("VM", h.dom0_ref, vm)
        for t, d in self.pool_drivers(pool).items():
            rec = dm.blank_record("SM")
            rec.update(uuid=new_uuid(), name_label=d["name"],
                       name_description=d["description"], type=t,
                       vendor=d["vendor"], copyright=d["copyright"], version=d["version"],
                       required_api_version=d["required_api_version"],
                       configuration={k: v for k, v in d["configuration"]},
                       capabilities=list(d["caps"]),
                       features={n: v for n, v in d["features"]},
                       driver_filename="/opt/xensource/sm/%sSR" % t)
            pool.add("SM", new_ref(), rec)

    # -- backing storage (outlives SR records: forget + introduce finds it) --

    def capacity_for(self, device_config):
        for match, size in reversed(self.capacity_rules):
            if all(device_config.get(k) == v for k, v in match.items()):
                return size
        return self.default_size

    def luns_for(self, device_config):
        for match, sizes in reversed(self.lun_rules):
            if all(device_config.get(k) == v for k, v in match.items()):
                return sizes
        return []

    def new_store(self, u, sr_type, dc, size=None):
        drv = self.drivers.get(sr_type, DRIVER_DEFAULTS)
        st = {"uuid": u, "type": sr_type, "device_config": dict(dc),
              "physical_size": self.capacity_for(dc) if size is None else size,
              "vdis": {}, "lun": drv.get("vdis") == "lun"}
        if st["lun"]:
            self.add_luns(st, self.luns_for(dc))
        self.storage[u] = st
        return st

    @staticmethod
    def add_luns(st, sizes, names=None):
        """LUNs of a LUN-per-VDI SR: unmanaged VDIs until VDI.create takes one."""
        for i, size in enumerate(sizes):
            vu = new_uuid()
            n = len(st["vdis"])
            st["vdis"][vu] = {
                "uuid": vu, "virtual_size": int(size),
                "name_label": (names or {}).get(i, ""), "name_description": "",
                "type": "user", "is_a_snapshot": False, "snapshot_of": "",
                "sharable": False, "read_only": False, "managed": False,
                "sm_config": {"LUNid": str(n), "SCSIid": "3600xapisim%012x" % (n + 1),
                              "backend-kind": "vbd"}}
        if st["lun"]:
            st["physical_size"] = sum(v["virtual_size"] for v in st["vdis"].values())

    def add_storage(self, sc):
        u = sc.get("uuid") or new_uuid()
        dc = dict(sc.get("device_config", {}))
        size = sc.get("physical_size")
        st = self.new_store(u, sc["type"], dc, None if size is None else int(size))
        for v in sc.get("vdis", []):
            vu = v.get("uuid") or new_uuid()
            st["vdis"][vu] = {
                "uuid": vu, "virtual_size": int(v.get("virtual_size", 0)),
                "name_label": v.get("name_label", ""),
                "name_description": v.get("name_description", ""),
                "type": v.get("type", "user"), "is_a_snapshot": False,
                "snapshot_of": "", "sharable": False, "read_only": False,
                "managed": True, "sm_config": {}}
        if sc.get("luns"):
            self.add_luns(st, [int(x) for x in sc["luns"]])
        return u

    def stderr_for(self, sr_type):
        return self.driver_stderr.get(sr_type, self.driver_stderr.get("*", ""))

    def backend_failure(self, n, reason, sr_type):
        """SR_BACKEND_FAILURE_<n> ["", reason, stderr of the driver], as
        sm_exec.ml builds it from an SM driver's XML-RPC fault."""
        return XapiError("SR_BACKEND_FAILURE_%d" % n, "", reason,
                         self.stderr_for(sr_type))

    def check_device_config(self, sr_type, dc):
        """Raise the driver's SR_BACKEND_FAILURE_<n> for the first missing
        key.  A key `k` is also satisfied by `k_secret` (xapi moves passwords
        there)."""
        for key, n, reason in self.drivers[sr_type]["required"]:
            if not dc.get(key) and not dc.get(key + "_secret"):
                raise self.backend_failure(n, reason, sr_type)

    def pool_drivers(self, pool):
        """The drivers pool registers SM records for (its "sm_drivers")."""
        if pool.sm_types is None:
            return self.drivers
        return {t: d for t, d in self.drivers.items() if t in pool.sm_types}

    def caps(self, sr_type):
        d = self.drivers.get(sr_type)
        return d["caps"] if d else []

    # -- counting and faults ---------------------------------------------------

    def reset_counts(self):
        with self.lock:
            self.counts = {}
            self.host_counts = {}
            self.session_counts = {}
            self.counts_since = time.monotonic()

    def count(self, call, session_ref):
        with self.lock:
            m = call.wire
            self.counts[m] = self.counts.get(m, 0) + 1
            hc = self.host_counts.setdefault(call.host.name, {})
            hc[m] = hc.get(m, 0) + 1
            if session_ref:
                self.count_session(session_ref, call.host, m)

    def count_session(self, sref, host, method):
        sc = self.session_counts.get(sref)
        if sc is None:
            sc = self.session_counts[sref] = {"host": host.name, "methods": {}}
            for pool in self.pools:
                s = pool.db["session"].get(sref)
                if s is not None:
                    this = pool.host_by_ref(s["this_host"])
                    sc.update(user=s["auth_user_name"], originator=s["originator"],
                              this_host=this.name if this else "", pool=s["pool"])
        sc["methods"][method] = sc["methods"].get(method, 0) + 1

    def match_faults(self, method, host, params):
        """Return (delay before, delay after, fail error or None, drop
        'before'/'after'/None).  A rule for X also applies to Async.X."""
        before, after, fail, drop = 0.0, 0.0, None, None
        names = (method, method[len("Async."):]) if method.startswith("Async.") else (method,)
        with self.lock:
            for r in self.faults:
                if r["method"] not in names:
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
                    if r["when"] == "after":
                        after += r["seconds"]
                    else:
                        before += r["seconds"]
                elif r["action"] == "fail" and fail is None and drop is None:
                    fail = XapiError(r["code"], *r["params"])
                elif r["action"] == "drop" and fail is None and drop is None:
                    drop = r["when"]
        return before, after, fail, drop

    # ========================================================================
    #  Dispatch
    # ========================================================================

    def handle(self, host, transport, body):
        """Handle one HTTP body; return response bytes, raise Drop (no
        answer) or HttpError (500 Internal Error)."""
        try:
            params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        except Exception as e:  # noqa: BLE001 - any parse failure
            raise HttpError("%s: %s" % (type(e).__name__, e)) from None
        if method is None:
            raise HttpError("Parse_error: not a methodCall")
        params = list(params)
        if method.startswith("sim."):
            try:
                return self.ser.response({"Status": "Success",
                                          "Value": self.control(method, params)})
            except XapiError as e:
                return self.ser.response({"Status": "Failure",
                                          "ErrorDescription": e.description()})
        before, after, fail, drop = self.match_faults(method, host, params)
        call = Call(host, transport, method, params, (before, after, fail))
        msg = self.dm.message(call.name)
        sref = ""
        if msg is not None and self.dm.takes_session(msg) and params \
                and isinstance(params[0], str):
            sref = params[0]
        self.count(call, sref)
        waits = call.name in ("event.from", "event.next")
        with self.lock:
            if not waits:
                self.in_flight += 1
        try:
            if drop == "before":
                raise Drop()
            result = self.dispatch(call)
            if drop == "after":
                raise Drop()
            self.log("%s %s -> %s", host.name, method, result["Status"])
            return self.ser.response(result)
        finally:
            with self.cond:
                if not waits:
                    self.in_flight -= 1
                self.cond.notify_all()

    def dispatch(self, call):
        try:
            value = self.prepare(call)
            if call.name == "session.login_with_password":
                with self.lock:
                    self.count_session(value, call.host, call.wire)
            return {"Status": "Success", "Value": value}
        except XapiError as e:
            return {"Status": "Failure", "ErrorDescription": e.description()}
        except Exception as e:  # noqa: BLE001 - reported as xapi does
            self.log("internal error in %s: %r", call.wire, e)
            return {"Status": "Failure", "ErrorDescription": ["INTERNAL_ERROR", repr(e)]}

    def prepare(self, call):
        """Checks in xapi's order (gen_server.ml, api_server.ml,
        session_check.ml, server_helpers.ml), then runs the call: at once,
        or in a task for Async.*."""
        dm = self.dm
        name = call.name
        msg = call.msg = dm.message(name)
        if msg is None:
            raise XapiError("MESSAGE_METHOD_UNKNOWN", name)
        if msg.get("lifecycle", {}).get("state") == "Removed_s":
            raise XapiError("MESSAGE_REMOVED")
        lo, hi = dm.arity(name, msg)
        has_session = dm.takes_session(msg)
        params = call.params
        if not lo <= len(params) <= hi:
            expected = lo - (1 if has_session else 0)
            received = len(params) - (1 if has_session else 0)
            raise XapiError("MESSAGE_PARAMETER_COUNT_MISMATCH", name,
                            expected, received)
        pool = call.pool
        on_member_tcp = call.host is not pool.master and call.transport == "tcp"
        if name == "session.login_with_password" and on_member_tcp:
            # xapi_session.ml: Pool_role.get_master_address () -- the address only
            raise XapiError("HOST_IS_SLAVE", pool.master.address)
        with self.lock:
            self.check_types(msg, params)
            if has_session:
                call.session = self.check_session(pool, params[0])
                if on_member_tcp and not call.session["pool"]:
                    # session_check.ml: the master's host.address
                    raise XapiError("HOST_IS_SLAVE", pool.master.address)
            capable = has_session and dm.async_capable(name, msg)
            if call.is_async and not capable:
                raise XapiError("Fault", "No async mode for this operation (rpc: %s)" % name)
            ctor = CONSTRUCTORS.get(name)
            if ctor:
                err = check_constructor(self, ctor, params[1])
                if err:
                    raise err
            if capable:
                # context.ml of_http_req: a call of a message with an Async
                # form runs in a task stored in the database
                call.task = self.task_create(pool, call.wire, params[0],
                                             self.exec_host(call))
        if call.is_async:
            threading.Thread(target=self.run_task, args=(call,), daemon=True).start()
            return call.task
        try:
            return self.execute(call)
        finally:
            if call.task:
                with self.cond:
                    # the context of a synchronous call destroys its task
                    pool.remove("task", call.task)
                    self.cond.notify_all()

    def run_task(self, call):
        try:
            value = self.execute(call)
            with self.cond:
                self.task_done(call.pool, call.task, value=value)
        except XapiError as e:
            with self.cond:
                self.task_done(call.pool, call.task, error=e)
        except Exception as e:  # noqa: BLE001 - reported as xapi does
            self.log("internal error in %s: %r", call.wire, e)
            with self.cond:
                self.task_done(call.pool, call.task,
                               error=XapiError("INTERNAL_ERROR", repr(e)))

    def execute(self, call):
        """The implementation: refs, the SR/VDI marks (queued as xapi's
        Helpers.retry does), the injected delay (cancellable), the injected
        failure or the handler, the delay after it."""
        pool = call.pool
        with self.lock:
            self.check_refs(pool, call.msg, call.params)
            marks = plan_marks(self, call)
        cancellable = bool(marks)
        try:
            if marks:
                self.acquire_marks(call, marks)
            if call.delay_before:
                self.wait_phase(call, call.delay_before, 0.0, cancellable)
            if cancellable:
                with self.lock:
                    self.check_cancel(call)
            if call.fail is not None:
                raise call.fail
            if call.name == "host.call_plugin":
                with self.lock:
                    args = self.prepare_plugin(call)
                try:
                    value = self.run_plugin(*args)
                finally:
                    if args[-1]:
                        with self.cond:
                            pool.remove("session", args[-1])
            else:
                with self.cond:
                    handler = HANDLERS.get(call.name)
                    if handler is not None:
                        value = handler(self, call, *call.params)
                    else:
                        cls, _, mname = call.name.partition(".")
                        value = self.generic(pool, cls, mname, call.msg, call.params)
                    self.cond.notify_all()
            if call.delay_after:
                self.wait_phase(call, call.delay_after, call.delay_before, False)
            return value
        finally:
            if call.marks:
                with self.cond:
                    self.release_marks(call)
                    self.cond.notify_all()

    def exec_host(self, call):
        """The host a call runs on once message_forwarding.ml has forwarded
        it (the task's resident_on)."""
        pool, p = call.pool, call.params
        try:
            if call.name == "host.call_plugin":
                return pool.host_by_ref(p[1]) or pool.master
            if call.name in ("PBD.plug", "PBD.unplug"):
                return pool.host_by_ref(pool.db["PBD"][p[1]]["host"]) or pool.master
            if call.name == "SR.create" and not p[8]:
                return pool.host_by_ref(p[1]) or pool.master
        except (KeyError, IndexError, TypeError):
            pass
        return pool.master

    def check_session(self, pool, ref):
        sess = None
        if isinstance(ref, str):
            sess = pool.db["session"].get(ref)
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

    # ========================================================================
    #  Tasks (xapi_task.ml, taskHelper.ml)
    # ========================================================================

    def task_create(self, pool, label, session_ref, host, description=""):
        rec = self.dm.blank_record("task")
        rec.update(uuid=new_uuid(), name_label=label, name_description=description,
                   created=now_stamp(), finished=DateTime(EPOCH), status="pending",
                   resident_on=host.ref, progress=0.0, type="<none/>", result="",
                   error_info=[], allowed_operations=[], current_operations={},
                   other_config={}, subtask_of=NULL_REF, subtasks=[], backtrace="()")
        rec["_session"] = session_ref
        ref = new_ref()
        pool.add("task", ref, rec)
        return ref

    def task_done(self, pool, ref, value=None, error=None):
        """TaskHelper.complete / failed (a TASK_CANCELLED error: cancelled);
        then a destroy asked for while it ran."""
        t = pool.db["task"].get(ref)
        if t is None or t["status"] != "pending":
            return
        t["progress"] = 1.0
        t["finished"] = now_stamp()
        t["allowed_operations"] = []
        if error is None:
            t["result"] = TASK_RESULT.to_string(value if value is not None else "")
            t["status"] = "success"
        else:
            t["error_info"] = error.description()
            t["status"] = "cancelled" if error.code == "TASK_CANCELLED" else "failure"
        if "destroy" in t["current_operations"].values():
            pool.remove("task", ref)
        self.cond.notify_all()

    def check_cancel(self, call):
        """TaskHelper.exn_if_cancelling: raise TASK_CANCELLED once task.cancel
        has been called on the call's task."""
        t = call.pool.db["task"].get(call.task) if call.task else None
        if t is not None and "cancel" in t["current_operations"].values():
            raise XapiError("TASK_CANCELLED", call.task)

    def set_progress(self, call, value):
        t = call.pool.db["task"].get(call.task) if call.task else None
        if t is not None and t["status"] == "pending":
            t["progress"] = round(value, 2)
            self.cond.notify_all()

    def wait_phase(self, call, seconds, done_before, cancellable):
        """An injected delay: the task's progress moves with the time; a
        cancel ends a cancellable phase at once."""
        start = time.monotonic()
        total = call.progress_total or seconds
        step = max(0.05, min(0.5, seconds / 50.0))
        with self.cond:
            while True:
                if cancellable:
                    self.check_cancel(call)
                elapsed = time.monotonic() - start
                left = seconds - elapsed
                if left <= 0:
                    return
                self.set_progress(call, min(0.99, (done_before + elapsed) / total))
                self.cond.wait(min(left, step))

    # ========================================================================
    #  Operations in progress on SRs and VDIs (xapi_sr_operations.ml,
    #  xapi_vdi.ml, message_forwarding.ml with_sr_andor_vdi / with_sr_marked)
    # ========================================================================

    def sr_op_error(self, pool, sr_ref, op, idx=None):
        """The first error xapi_sr_operations.ml valid_operations gives op."""
        sr = pool.db["SR"][sr_ref]
        feature = SR_OP_FEATURE.get(op)
        if feature and feature not in self.caps(sr["type"]):
            return XapiError("SR_OPERATION_NOT_SUPPORTED", sr_ref)
        if op in ("destroy", "forget") and plugged_pbds(pool, sr_ref, idx):
            return XapiError("SR_HAS_PBD", sr_ref)
        if op == "destroy":
            pbds = idx.pbds_by_sr.get(sr_ref, []) if idx else \
                [r for r, p in pool.db["PBD"].items() if p["SR"] == sr_ref]
            if not pbds:
                return XapiError("SR_NO_PBDS", sr_ref)
            vdis = idx.vdis_by_sr.get(sr_ref, []) if idx else \
                [r for r, v in pool.db["VDI"].items() if v["SR"] == sr_ref]
            if any(pool.db["VDI"][v]["managed"] and pool.db["VDI"][v]["type"] != "rrd"
                   for v in vdis):
                return XapiError("SR_NOT_EMPTY")
        cur = list(sr["current_operations"].items())
        if cur:
            if op != "plug":
                task, o = cur[0]
                return XapiError("OTHER_OPERATION_IN_PROGRESS", "SR", sr_ref, o, task)
            other = next(((t, o) for t, o in cur if o != "plug"), None)
            if other:
                return XapiError("OTHER_OPERATION_IN_PROGRESS", "SR", sr_ref,
                                 other[1], other[0])
        return None

    def vdi_op_error(self, pool, vdi_ref, op, idx=None):
        """The first error xapi_vdi.ml check_operation_error gives op."""
        vdi = pool.db["VDI"][vdi_ref]
        cur = [(t, o) for t, o in vdi["current_operations"].items() if o != "copy"]
        if cur:
            return XapiError("OTHER_OPERATION_IN_PROGRESS", "VDI", vdi_ref, cur[0][1],
                             cur[0][0])
        vbds = idx.vbds_by_vdi.get(vdi_ref, []) if idx else \
            [r for r, b in pool.db["VBD"].items() if b["VDI"] == vdi_ref]
        vbds = [pool.db["VBD"][r] for r in vbds]
        active = [b for b in vbds if b["currently_attached"] or b.get("reserved")]
        live = op in VDI_LIVE_OPS
        ro_ok = live or op == "copy"
        if (not live and not ro_ok and active) or \
                (ro_ok and not live and any(b["mode"] == "RW" for b in active)):
            return XapiError("VDI_IN_USE", vdi_ref, op)
        busy = [b for b in vbds if b["current_operations"]]
        if busy:
            t, o = next(iter(busy[0]["current_operations"].items()))
            return XapiError("OTHER_OPERATION_IN_PROGRESS", "VDI", vdi_ref, o, t)
        sr_type = pool.db["SR"][vdi["SR"]]["type"]
        feature = VDI_OP_FEATURE.get(op)
        if feature and feature not in self.caps(sr_type):
            return XapiError("SR_OPERATION_NOT_SUPPORTED", vdi["SR"])
        if op == "destroy":
            if sr_type == "udev":
                return XapiError("VDI_IS_A_PHYSICAL_DEVICE", vdi_ref)
            if vdi["type"] == "rrd":
                return XapiError("VDI_HAS_RRDS", vdi_ref)
        return None

    def try_marks(self, call, marks):
        """Check every mark; apply them all and return None, return the
        OTHER_OPERATION_IN_PROGRESS to wait on, or raise another error."""
        pool = call.pool
        for cls, ref, op in marks:
            if cls == "SR_VDIS":
                # message_forwarding.ml with_unplug_locks: no VDI operation
                # in progress on the SR
                for v, rec in pool.db["VDI"].items():
                    if rec["SR"] == ref and rec["current_operations"]:
                        t, o = next(iter(rec["current_operations"].items()))
                        return XapiError("OTHER_OPERATION_IN_PROGRESS", "VDI", v, o, t)
                continue
            err = (self.sr_op_error(pool, ref, op) if cls == "SR"
                   else self.vdi_op_error(pool, ref, op))
            if err is None:
                continue
            if err.code == "OTHER_OPERATION_IN_PROGRESS":
                return err
            raise err
        for cls, ref, op in marks:
            if cls in ("SR", "VDI"):
                pool.db[cls][ref]["current_operations"][call.task] = op
                call.marks.append((cls, ref, op))
        return None

    def acquire_marks(self, call, marks):
        """Helpers.retry (Policy.standard): wait while another operation is
        in progress, up to queue_max_wait (xapi: 2 h), then fail with its
        OTHER_OPERATION_IN_PROGRESS; a cancel ends the wait."""
        deadline = time.monotonic() + self.options["queue_max_wait"]
        with self.cond:
            t = call.pool.db["task"].get(call.task)
            if t is not None:
                t["allowed_operations"] = ["cancel"]      # set_cancellable
            while True:
                self.check_cancel(call)
                err = self.try_marks(call, marks)
                if err is None:
                    self.cond.notify_all()
                    return
                left = deadline - time.monotonic()
                if left <= 0:
                    raise err
                self.cond.wait(min(left, 1.0))

    def release_marks(self, call):
        for cls, ref, op in call.marks:
            rec = call.pool.db[cls].get(ref)
            if rec is not None:
                rec["current_operations"].pop(call.task, None)
        call.marks = []

    # ========================================================================
    #  Events (xapi_event.ml event.from)
    # ========================================================================

    def sync_events(self, pool):
        """Give every object changed since the last pass a new generation
        (a modification is noticed here, by its record's contents)."""
        idx = Index(pool)
        for cls in EVENT_CLASSES:
            for ref in pool.db[cls]:
                meta = pool.meta.get((cls, ref))
                if meta is None:
                    continue
                h = json.dumps(self.view(pool, cls, ref, idx), sort_keys=True,
                               default=str)
                if meta[2] is None:
                    meta[2] = h
                elif meta[2] != h:
                    pool.gen += 1
                    meta[1] = pool.gen
                    meta[2] = h

    def collect_events(self, pool, subs, since):
        """(events, last generation) for the subscriptions since `since`."""
        out = []
        last = since
        idx = Index(pool)
        for cls in EVENT_CLASSES:
            tbl = cls.lower()
            if not any(s[0] in ("*", tbl) for s in subs):
                continue
            for ref in pool.db[cls]:
                created, modified, _ = pool.meta[(cls, ref)]
                if modified <= since or not subs_match(subs, tbl, ref):
                    continue
                last = max(last, modified)
                out.append((modified, {
                    "id": str(modified), "timestamp": "0.0", "class": tbl,
                    "operation": "add" if created > since else "mod", "ref": ref,
                    "snapshot": self.view(pool, cls, ref, idx)}))
        for cls, ref, created, deleted in pool.deleted:
            tbl = cls.lower()
            if deleted <= since or not subs_match(subs, tbl, ref):
                continue
            last = max(last, deleted)
            if created <= since:
                out.append((deleted, {"id": str(deleted), "timestamp": "0.0",
                                      "class": tbl, "operation": "del", "ref": ref}))
        out.sort(key=lambda e: e[0])
        return [e for _, e in out], last

    # -- generic implicit messages -------------------------------------------

    def view(self, pool, cls, ref, idx=None):
        """The record as the API shows it: computed links and allowed
        operations filled in, private keys (leading underscore) hidden."""
        rec = pool.db[cls][ref]
        out = {}
        for f in self.dm.fields(cls):
            out[f["name"]] = rec.get(f["name"], self.dm.default(f))
        if cls in ("SR", "host", "VDI", "VM", "session"):
            idx = idx or Index(pool)
        if cls == "SR":
            out["PBDs"] = list(idx.pbds_by_sr.get(ref, []))
            out["VDIs"] = list(idx.vdis_by_sr.get(ref, []))
            ops = self.dm.enums.get("storage_operations", [])
            out["allowed_operations"] = [o for o in ops
                                         if self.sr_op_error(pool, ref, o, idx) is None]
        elif cls == "host":
            out["PBDs"] = list(idx.pbds_by_host.get(ref, []))
            out["resident_VMs"] = list(idx.vms_by_host.get(ref, []))
        elif cls == "VDI":
            out["snapshots"] = list(idx.snapshots.get(ref, []))
            out["VBDs"] = list(idx.vbds_by_vdi.get(ref, []))
            out["allowed_operations"] = [o for o in VDI_ALLOWED_OPS
                                         if self.vdi_op_error(pool, ref, o, idx) is None]
        elif cls == "VM":
            out["VBDs"] = list(idx.vbds_by_vm.get(ref, []))
        elif cls == "session":
            out["tasks"] = list(idx.tasks_by_session.get(ref, []))
        return out

    def generic(self, pool, cls, name, msg, params):
        if cls not in pool.db:
            raise XapiError("NOT_IMPLEMENTED", "%s.%s" % (cls, name))
        args = params[1:]
        if name == "get_all":
            return list(pool.db[cls].keys())
        if name == "get_all_records":
            idx = Index(pool)
            return {r: self.view(pool, cls, r, idx) for r in pool.db[cls]}
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
                # the datamodel has the message (checked in prepare()), so the
                # field is settable through the API
                f = self.dm.field(cls, fname)
                if f is None:
                    break
                rec = self.lookup(pool, cls, args[0])
                if prefix == "set_":
                    rec[fname] = args[1]
                elif prefix == "add_to_":
                    if args[1] in rec[fname]:
                        # db_cache: a key already in the map
                        raise XapiError("MAP_DUPLICATE_KEY", cls, fname, args[0], args[1])
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
    #  host.call_plugin (xapi_plugins.ml, forkhelpers.ml)
    # ========================================================================

    def prepare_plugin(self, call):
        """(target host, plugin path, session ref for the plugin, fn, args,
        session to destroy afterwards).  On the master the plugin gets the
        caller's session; message_forwarding.ml forwards a call for a member
        with a new pool session of that host (call_slave_with_session), which
        it destroys afterwards."""
        pool = call.pool
        sref, href, plugin, fn, args = call.params
        target = pool.host_by_ref(href)
        try:
            names = os.listdir(self.plugin_dir) if self.plugin_dir else []
        except OSError:
            names = []
        if plugin not in names:
            raise XapiError("XENAPI_MISSING_PLUGIN", plugin)
        for k, v in args.items():
            if not isinstance(v, str):
                raise XapiError("FIELD_TYPE_ERROR", "args")
        temp = None
        if target is not pool.master:
            temp = new_ref()
            rec = self.dm.blank_record("session")
            rec.update(uuid=new_uuid(), this_host=target.ref, this_user=NULL_REF,
                       last_active=now_stamp(), pool=True, is_local_superuser=True,
                       auth_user_name="", originator="xapi")
            rec["_last"] = time.monotonic()
            pool.add("session", temp, rec)
        return (target, os.path.join(self.plugin_dir, plugin), temp or sref, fn, args, temp)

    def plugin_env(self, target):
        env = {"PATH": PLUGIN_PATH}
        for k, v in os.environ.items():
            # sanitizer builds only: not something xapi passes
            if k.endswith("SAN_OPTIONS"):
                env[k] = v
        return env

    def run_plugin(self, target, path, sref, fn, args, _temp):
        call = plugin_call_xml(fn, sref, args)
        rc, out, err = self.spawn_plugin(target, path, [call])
        if rc < 0:
            try:
                sig = signal.Signals(-rc).name
            except ValueError:
                sig = str(-rc)
            raise XapiError("XENAPI_PLUGIN_FAILURE", "signal: %s" % sig, out, err)
        if rc != 0:
            raise XapiError("XENAPI_PLUGIN_FAILURE", "non-zero exit", out, err)
        return parse_plugin_output(out)

    def spawn_plugin(self, target, path, plugin_args):
        """Runs plugin `path` for host `target` as forkhelpers.ml does (PATH
        alone, the host's namespace) with argv[1:] = plugin_args; waits
        (no timeout) and returns (exit status or -signal, stdout, stderr)."""
        env = self.plugin_env(target)
        if self.options["plugin_namespace"]:
            argv = ["unshare", "--mount", "--propagation", "private", "--",
                    "/bin/sh", "-c", self.namespace_script(target, path, env),
                    "xapisim-plugin"] + list(plugin_args)
            penv = {"PATH": PLUGIN_PATH}
        else:
            argv = [path] + list(plugin_args)
            penv = env
        try:
            proc = subprocess.Popen(argv, env=penv, cwd="/", stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    start_new_session=True)
        except OSError as e:
            raise XapiError("XENAPI_PLUGIN_FAILURE", "non-zero exit", "", str(e))
        with self.lock:
            self.plugin_procs.add(proc)
        try:
            # no timeout: xapi's execute_command_get_output has none
            out, err = proc.communicate()
        finally:
            with self.lock:
                self.plugin_procs.discard(proc)
        return (proc.returncode, out.decode("utf-8", "replace"),
                err.decode("utf-8", "replace"))

    # -- the plugin's view of "its" host ----------------------------------------

    def host_tokens(self, h):
        pool = h.pool
        return {"@HOST@": h.name, "@HOST_UUID@": h.uuid, "@HOST_ADDRESS@": h.address,
                "@POOL@": pool.name, "@POOL_UUID@": pool.uuid,
                "@MASTER_ADDRESS@": pool.master.address, "@PORT@": str(h.http_port),
                "@CONTROL_DOMAIN_UUID@": h.dom0_uuid}

    def host_files(self, h):
        """Absolute path -> contents of the files a plugin on h sees."""
        files = {
            INVENTORY: "".join("%s='%s'\n" % kv for kv in (
                ("PRIMARY_DISK", "/dev/disk/by-id/xapisim-%s" % h.name),
                ("BACKUP_PARTITION", "/dev/disk/by-id/xapisim-%s-part2" % h.name),
                ("PRODUCT_BRAND", "XCP-ng"), ("PRODUCT_NAME", "xenenterprise"),
                ("PRODUCT_VERSION", "8.2.1"), ("PRODUCT_VERSION_TEXT", "8.2"),
                ("PRODUCT_VERSION_TEXT_SHORT", "8.2"), ("PLATFORM_NAME", "XCP"),
                ("PLATFORM_VERSION", "3.2.1"), ("BUILD_NUMBER", "xapisim"),
                ("INSTALLATION_DATE", "2026-01-01 00:00:00.000000"),
                ("INSTALLATION_UUID", h.uuid), ("CONTROL_DOMAIN_UUID", h.dom0_uuid),
                ("DEFAULT_SR_PHYSDEVS", ""), ("DOM0_MEM", "4096"), ("DOM0_VCPUS", "2"),
                ("MANAGEMENT_INTERFACE", "xenbr0"), ("MANAGEMENT_ADDRESS_TYPE", "IPv4"))),
            POOL_CONF: "master" if h is h.pool.master
            else "slave:%s" % h.pool.master.address,
            XAPI_SOCKET: "",
        }
        tokens = self.host_tokens(h)
        for path, content in self.plugin_files.items():
            for k, v in tokens.items():
                content = content.replace(k, v)
            files[path] = content
        return files

    def stage_plugins(self, state_dir):
        """Lay out, per host, the files its plugins see: <stage>/<host>/<path>.
        Nothing outside the state directory is touched."""
        bad = re.compile(r"[,:\\\s]")
        if bad.search(state_dir):
            state_dir = tempfile.mkdtemp(prefix="xapisim-plugins-")
        else:
            os.makedirs(state_dir, exist_ok=True)
        self.plugin_stage = state_dir
        os.makedirs(os.path.join(state_dir, "ns"), exist_ok=True)
        self.ns_roots = {}
        for h in self.hosts:
            base = os.path.join(state_dir, "hosts", h.name)
            roots = set()
            for path, content in self.host_files(h).items():
                roots.add(overlay_root(path))
                dst = base + path
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                with open(dst, "w", encoding="utf-8") as f:
                    f.write(content)
            for src, tgt in self.plugin_binds:
                if os.path.lexists(tgt):
                    continue
                roots.add(overlay_root(tgt))
                dst = base + tgt
                if os.path.isdir(src):
                    os.makedirs(dst, exist_ok=True)
                else:
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    open(dst, "w").close()
            roots = sorted(roots)
            # an overlay on R also covers what lies under R
            self.ns_roots[h.name] = [r for r in roots
                                     if not any(r != o and r.startswith(o.rstrip("/") + "/")
                                                for o in roots)]
            for r in self.ns_roots[h.name]:
                if bad.search(r):
                    raise ValueError("plugin file or bind under %r: cannot overlay it" % r)

    def namespace_script(self, target, plugin, env):
        """A shell script for `unshare --mount`: overlays that add the host's
        files, its socket bound to /var/lib/xcp/xapi, the extra binds, then
        exec of the plugin with only `env`.  Everything it mounts goes with
        the namespace."""
        q = shlex.quote
        ns = os.path.join(self.plugin_stage, "ns")
        base = os.path.join(self.plugin_stage, "hosts", target.name)
        lines = ["set -e", "mount -t tmpfs -o mode=0700 xapisim %s" % q(ns)]
        for i, root in enumerate(self.ns_roots[target.name]):
            up, work = "%s/u%d" % (ns, i), "%s/w%d" % (ns, i)
            lines.append("mkdir %s %s" % (q(up), q(work)))
            lines.append("mount -t overlay overlay -o %s %s" % (
                q("lowerdir=%s:%s,upperdir=%s,workdir=%s" % (base + root, root, up, work)),
                q(root)))
        lines.append("mount --bind %s %s" % (q(target.unix_path), q(XAPI_SOCKET)))
        for src, tgt in self.plugin_binds:
            lines.append("mount --bind %s %s" % (q(src), q(tgt)))
        lines.append("cd /")
        lines.append("exec env -i %s %s \"$@\"" % (
            " ".join(q("%s=%s" % kv) for kv in sorted(env.items())), q(plugin)))
        return "\n".join(lines)

    def kill_plugins(self):
        with self.lock:
            procs = list(self.plugin_procs)
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass

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
                     "PBDs": [], "VDIs": [], "VBDs": [], "tasks": [],
                     "sessions": len(pool.db["session"])}
                for h in pool.hosts:
                    p["hosts"].append({"name": h.name, "ref": h.ref, "uuid": h.uuid,
                                       "address": h.address, "control_domain": h.dom0_ref})
                hostname = {h.ref: h.name for h in pool.hosts}
                idx = Index(pool)
                for ref, sr in pool.db["SR"].items():
                    v = self.view(pool, "SR", ref, idx)
                    p["SRs"].append({"ref": ref, "uuid": sr["uuid"],
                                     "name_label": sr["name_label"],
                                     "type": sr["type"], "shared": sr["shared"],
                                     "physical_size": sr["physical_size"],
                                     "physical_utilisation": sr["physical_utilisation"],
                                     "virtual_allocation": sr["virtual_allocation"],
                                     "other_config": sr["other_config"],
                                     "sm_config": sr["sm_config"],
                                     "current_operations": sr["current_operations"],
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
                        "is_a_snapshot", "snapshot_of", "managed")} | {"ref": ref})
                for ref, vbd in pool.db["VBD"].items():
                    p["VBDs"].append({"ref": ref, "uuid": vbd["uuid"], "VM": vbd["VM"],
                                      "VDI": vbd["VDI"],
                                      "currently_attached": vbd["currently_attached"]})
                for ref, t in pool.db["task"].items():
                    p["tasks"].append({"ref": ref, "name_label": t["name_label"],
                                       "status": t["status"], "progress": t["progress"],
                                       "other_config": dict(t.get("other_config", {}))})
                out["pools"].append(p)
            for u, st in self.storage.items():
                out["storage"][u] = {"type": st["type"],
                                     "physical_size": st["physical_size"],
                                     "vdis": sorted(st["vdis"].keys())}
        return json.dumps(out, default=str)


def overlay_root(path):
    """The directory to overlay so that `path` can appear: the deepest
    existing directory above it (never / itself)."""
    d = os.path.dirname(path)
    while not os.path.isdir(d):
        d = os.path.dirname(d)
    if d == "/":
        raise ValueError("%s: its top directory does not exist; cannot overlay /" % path)
    return d


def subs_match(subs, tbl, ref):
    """xapi_event.ml Subscription.object_matches."""
    for cls, obj in subs:
        if cls == "*" or (cls == tbl and (obj is None or obj == ref)):
            return True
    return False


def plugged_pbds(pool, sr_ref, idx=None):
    refs = idx.pbds_by_sr.get(sr_ref, []) if idx else \
        [r for r, p in pool.db["PBD"].items() if p["SR"] == sr_ref]
    return [r for r in refs if pool.db["PBD"][r]["currently_attached"]]


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
#  Handlers: session, SR, PBD, VDI, VBD, task, event
# ============================================================================
#
# A handler runs with the simulator's lock held and gets the Call plus the
# call's params (the session ref first, as sent).

HANDLERS = {}
CONTROL = {}

# constructors whose record xapi's generated server unmarshals before
# anything else (a missing field fails the call, Async or not)
CONSTRUCTORS = {"VDI.create": "VDI", "PBD.create": "PBD", "VBD.create": "VBD"}


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


def plan_marks(sim, call):
    """The marks message_forwarding.ml takes for a call: [(class, ref, op)];
    ("SR_VDIS", sr, None) is PBD.unplug's wait for the SR's VDI operations."""
    pool, p, name = call.pool, call.params, call.name
    db = pool.db
    if name in ("SR.scan", "SR.forget", "SR.destroy"):
        return [("SR", p[1], name[3:])]
    if name in ("PBD.plug", "PBD.unplug", "PBD.destroy"):
        sr = db["PBD"][p[1]]["SR"]
        if name == "PBD.plug":
            return [("SR", sr, "plug")]
        if name == "PBD.destroy":
            return [("SR", sr, "pbd_destroy")]
        return [("SR_VDIS", sr, None), ("SR", sr, "unplug")]
    if name == "PBD.create":
        return [("SR", p[1]["SR"], "pbd_create")] if p[1]["SR"] in db["SR"] else []
    if name == "VDI.create":
        return [("SR", p[1]["SR"], "vdi_create")] if p[1]["SR"] in db["SR"] else []
    if name in ("VDI.destroy", "VDI.snapshot", "VDI.clone"):
        op = name[4:]
        return [("SR", db["VDI"][p[1]]["SR"], "vdi_" + op), ("VDI", p[1], op)]
    if name in ("VDI.update", "VDI.forget"):
        return [("VDI", p[1], name[4:])]
    if name == "VDI.resize":
        # message_forwarding.ml VDI.resize: with_sr_andor_vdi (SR vdi_resize,
        # VDI resize); both gated by the SR type's VDI_RESIZE feature
        return [("SR", db["VDI"][p[1]]["SR"], "vdi_resize"), ("VDI", p[1], "resize")]
    return []


@api("session.login_with_password")
def session_login(sim, c, uname, pwd, version="", originator=""):
    pool = c.pool
    if c.transport == "unix":
        # xapi_session.ml: a unix-socket login is pre-authenticated (root,
        # no password) and the session's host is the one that took it
        this_host, superuser = c.host.ref, True
    else:
        if sim.users.get(uname) != pwd:
            raise XapiError("SESSION_AUTHENTICATION_FAILED", uname,
                            "Authentication failure")
        this_host, superuser = pool.master.ref, uname == "root"
    ref = new_ref()
    rec = sim.dm.blank_record("session")
    rec.update(uuid=new_uuid(), this_host=this_host, this_user=NULL_REF,
               last_active=now_stamp(), pool=False, is_local_superuser=superuser,
               auth_user_name=uname, originator=originator)
    rec["_last"] = time.monotonic()
    pool.add("session", ref, rec)
    return ref


@api("session.logout")
def session_logout(sim, c, sref):
    c.pool.remove("session", sref)
    return ""


def need_plugged(pool, sr_ref):
    if not plugged_pbds(pool, sr_ref):
        raise XapiError("SR_NO_PBDS", sr_ref)


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
               virtual_allocation=0, current_operations={})
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
               other_config={}, sm_config=dict(sv.get("sm_config", {})),
               xenstore_data={}, tags=[], storage_lock=False, location=sv["uuid"],
               managed=sv.get("managed", True), missing=False,
               is_a_snapshot=sv["is_a_snapshot"], snapshot_of=NULL_REF,
               current_operations={})
    if sv["snapshot_of"]:
        parent = pool.uuid_index["VDI"].get(sv["snapshot_of"])
        rec["snapshot_of"] = parent or NULL_REF
    ref = new_ref()
    pool.add("VDI", ref, rec)
    return ref


def update_sizes(sim, pool, sr_ref):
    sr = pool.db["SR"][sr_ref]
    st = sim.storage.get(sr["uuid"])
    if st is None:
        return
    used = sum(v["virtual_size"] for v in st["vdis"].values() if v.get("managed", True))
    sr["physical_size"] = st["physical_size"]
    sr["physical_utilisation"] = used
    sr["virtual_allocation"] = used


def scan_sr(sim, pool, sr_ref):
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
            remove_vdi(pool, r)
    update_sizes(sim, pool, sr_ref)


def remove_vdi(pool, vdi_ref):
    """The VDI record and its VBDs (xapi_vdi.ml destroys them at once)."""
    pool.remove("VDI", vdi_ref)
    for r, b in list(pool.db["VBD"].items()):
        if b["VDI"] == vdi_ref:
            pool.remove("VBD", r)


def known_driver(sim, pool, sr_type):
    """xapi finds the driver among the pool's SM records (sm.ml)."""
    if sr_type not in sim.pool_drivers(pool):
        raise XapiError("SR_UNKNOWN_DRIVER", sr_type)


@api("SR.create")
def sr_create(sim, c, sref, host_ref, device_config, physical_size, name_label,
              name_description, sr_type, content_type, shared, sm_config=None):
    pool = c.pool
    sr_type = sr_type.lower()
    known_driver(sim, pool, sr_type)
    sim.check_device_config(sr_type, device_config)
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
    sim.new_store(sr_uuid, sr_type, device_config, size if size > 0 else None)
    for r, p in pool.db["PBD"].items():
        if p["SR"] == sr_ref:
            p["currently_attached"] = True
    scan_sr(sim, pool, sr_ref)
    return sr_ref


@api("SR.introduce")
def sr_introduce(sim, c, sref, sr_uuid, name_label, name_description,
                 sr_type, content_type, shared, sm_config=None):
    pool = c.pool
    sr_type = sr_type.lower()
    sr_uuid = sr_uuid or new_uuid()
    if sr_uuid in pool.uuid_index["SR"]:
        raise XapiError("SR_UUID_EXISTS", sr_uuid)
    return make_sr_record(sim, pool, sr_uuid, name_label, name_description,
                          sr_type, content_type, shared, sm_config or {})


@api("SR.probe")
def sr_probe(sim, c, sref, host_ref, device_config, sr_type, sm_config=None):
    sr_type = sr_type.lower()
    known_driver(sim, c.pool, sr_type)
    sim.check_device_config(sr_type, device_config)
    keys = [k for k, _, _ in sim.drivers[sr_type]["required"] if k in device_config]
    found = [u for u, st in sim.storage.items()
             if st["type"] == sr_type and all(
                 st["device_config"].get(k) == device_config[k] for k in keys)]
    root = ET.Element("SRlist")
    for u in found:
        e = ET.SubElement(root, "SR")
        ET.SubElement(e, "UUID").text = u
    return ET.tostring(root, encoding="unicode")


@api("SR.forget")
def sr_forget(sim, c, sref, sr_ref):
    pool = c.pool
    if plugged_pbds(pool, sr_ref):
        raise XapiError("SR_HAS_PBD", sr_ref)
    for r, p in list(pool.db["PBD"].items()):
        if p["SR"] == sr_ref:
            pool.remove("PBD", r)
    for r, v in list(pool.db["VDI"].items()):
        if v["SR"] == sr_ref:
            remove_vdi(pool, r)
    pool.remove("SR", sr_ref)
    return ""


@api("SR.destroy")
def sr_destroy(sim, c, sref, sr_ref):
    pool = c.pool
    err = sim.sr_op_error(pool, sr_ref, "destroy")
    if err is not None and err.code != "OTHER_OPERATION_IN_PROGRESS":
        raise err
    sim.storage.pop(pool.db["SR"][sr_ref]["uuid"], None)
    return sr_forget(sim, c, sref, sr_ref)


@api("SR.scan")
def sr_scan(sim, c, sref, sr_ref):
    need_plugged(c.pool, sr_ref)
    scan_sr(sim, c.pool, sr_ref)
    return ""


@api("SR.update")
def sr_update(sim, c, sref, sr_ref):
    need_plugged(c.pool, sr_ref)
    scan_sr(sim, c.pool, sr_ref)
    return ""


@api("SR.get_supported_types")
def sr_supported_types(sim, c, sref):
    return sorted(sim.pool_drivers(c.pool))


@api("PBD.create")
def pbd_create(sim, c, sref, rec):
    pool = c.pool
    for fname, cls in (("host", "host"), ("SR", "SR")):
        if rec[fname] not in pool.db[cls]:
            raise XapiError("HANDLE_INVALID", cls, rec[fname])
    return make_pbd(sim, pool, rec["SR"], rec["host"], rec["device_config"])


@api("PBD.plug")
def pbd_plug(sim, c, sref, pbd_ref):
    pool = c.pool
    pbd = pool.db["PBD"][pbd_ref]
    if pbd["currently_attached"]:
        return ""
    sr = pool.db["SR"][pbd["SR"]]
    known_driver(sim, pool, sr["type"])
    sim.check_device_config(sr["type"], pbd["device_config"])
    if sr["uuid"] not in sim.storage:
        raise sim.backend_failure(47, "The SR is not available [opterr=no such SR %s]"
                                  % sr["uuid"], sr["type"])
    pbd["currently_attached"] = True
    scan_sr(sim, pool, pbd["SR"])
    return ""


@api("PBD.unplug")
def pbd_unplug(sim, c, sref, pbd_ref):
    pool = c.pool
    pbd = pool.db["PBD"][pbd_ref]
    if not pbd["currently_attached"]:
        return ""
    # xapi_pbd.ml get_active_vdis_by_pbd: VDIs of this SR attached (or
    # reserved) by VMs resident on the PBD's host
    in_use = []
    for r, b in pool.db["VBD"].items():
        vm = pool.db["VM"].get(b["VM"])
        vdi = pool.db["VDI"].get(b["VDI"])
        if vm is None or vdi is None or vm["resident_on"] != pbd["host"]:
            continue
        if (b["currently_attached"] or b.get("reserved")) and not b["empty"] \
                and vdi["SR"] == pbd["SR"] and vdi["type"] != "metadata" \
                and b["VDI"] not in in_use:
            in_use.append(b["VDI"])
    if in_use:
        raise XapiError("VDI_IN_USE", *in_use)
    pbd["currently_attached"] = False
    return ""


@api("PBD.destroy")
def pbd_destroy(sim, c, sref, pbd_ref):
    pool = c.pool
    if pool.db["PBD"][pbd_ref]["currently_attached"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "PBD is currently attached")
    pool.remove("PBD", pbd_ref)
    return ""


def sr_space(sim, pool, sr_ref, extra):
    st = sim.storage[pool.db["SR"][sr_ref]["uuid"]]
    used = sum(v["virtual_size"] for v in st["vdis"].values() if v.get("managed", True))
    if used + extra > st["physical_size"]:
        raise sim.backend_failure(44, "There is insufficient space", st["type"])
    return st


def add_vdi(sim, pool, sr_ref, st, virtual_size, rec_fields, snapshot_of=None):
    vu = new_uuid()
    st["vdis"][vu] = {"uuid": vu, "virtual_size": virtual_size,
                      "name_label": rec_fields.get("name_label", ""),
                      "name_description": rec_fields.get("name_description", ""),
                      "type": rec_fields.get("type", "user"),
                      "sharable": rec_fields.get("sharable", False),
                      "read_only": rec_fields.get("read_only", False),
                      "managed": True, "sm_config": {},
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
    update_sizes(sim, pool, sr_ref)
    return ref


def take_lun(sim, pool, sr_ref, st, size, rec_fields):
    """LUNperVDI.py create: the smallest unmanaged LUN of at least `size`
    that the SR's records know; xapi_vdi.ml then sets other_config,
    sharable, tags and xenstore_data (the LUN keeps its name and size)."""
    best = None
    for vu, sv in st["vdis"].items():
        ref = pool.uuid_index["VDI"].get(vu)
        if sv.get("managed", True) or sv["virtual_size"] < size or ref is None:
            continue
        if best is None or sv["virtual_size"] < best[1]["virtual_size"]:
            best = (ref, sv)
    if best is None:
        raise sim.backend_failure(44, "There is insufficient space", st["type"])
    ref, sv = best
    sv["managed"] = True
    rec = pool.db["VDI"][ref]
    rec["managed"] = True
    for k in ("other_config", "sharable", "tags", "xenstore_data"):
        if k in rec_fields:
            v = rec_fields[k]
            rec[k] = dict(v) if isinstance(v, dict) else list(v) if isinstance(v, list) else v
    update_sizes(sim, pool, sr_ref)
    return ref


@api("VDI.create")
def vdi_create(sim, c, sref, rec):
    pool = c.pool
    sr_ref = rec["SR"]
    if sr_ref not in pool.db["SR"]:
        raise XapiError("HANDLE_INVALID", "SR", sr_ref)
    need_plugged(pool, sr_ref)
    size = as_int(rec["virtual_size"])
    if size < 0:
        raise XapiError("FIELD_TYPE_ERROR", "virtual_size")
    st = sim.storage.get(pool.db["SR"][sr_ref]["uuid"])
    if st is None:
        raise sim.backend_failure(47, "The SR is not available", pool.db["SR"][sr_ref]["type"])
    if st.get("lun"):
        return take_lun(sim, pool, sr_ref, st, size, rec)
    st = sr_space(sim, pool, sr_ref, size)
    return add_vdi(sim, pool, sr_ref, st, size, rec)


@api("VDI.destroy")
def vdi_destroy(sim, c, sref, vdi_ref):
    pool = c.pool
    vdi = pool.db["VDI"][vdi_ref]
    sr_ref = vdi["SR"]
    need_plugged(pool, sr_ref)
    if not vdi["managed"]:
        raise XapiError("VDI_NOT_MANAGED", vdi_ref)
    if any(b["VDI"] == vdi_ref and (b["currently_attached"] or b.get("reserved"))
           for b in pool.db["VBD"].values()):
        raise XapiError("VDI_IN_USE", vdi_ref, "destroy")
    st = sim.storage.get(pool.db["SR"][sr_ref]["uuid"])
    if st is not None and vdi["uuid"] in st["vdis"]:
        if st.get("lun"):
            # LUNperVDI.py delete: the LUN stays, unmanaged; xapi drops the
            # record and the next scan finds the LUN again
            st["vdis"][vdi["uuid"]]["managed"] = False
        else:
            del st["vdis"][vdi["uuid"]]
    remove_vdi(pool, vdi_ref)
    update_sizes(sim, pool, sr_ref)
    return ""


def _copy_vdi(sim, c, vdi_ref, snapshot):
    pool = c.pool
    vdi = pool.db["VDI"][vdi_ref]
    sr_ref = vdi["SR"]
    need_plugged(pool, sr_ref)
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
def vdi_set_name_label(sim, c, sref, vdi_ref, value):
    """An explicit message in xapi (name_label is RO/constructor): the new
    label also goes to the SR's own metadata, as SM's vdi_update does."""
    pool = c.pool
    vdi = pool.db["VDI"][vdi_ref]
    vdi["name_label"] = value
    st = sim.storage.get(pool.db["SR"][vdi["SR"]]["uuid"])
    if st is not None and vdi["uuid"] in st["vdis"]:
        st["vdis"][vdi["uuid"]]["name_label"] = value
    return ""


@api("VDI.resize")
def vdi_resize(sim, c, sref, vdi_ref, size):
    """xapi_vdi.ml resize: the SR plugged, the VDI managed, then the SM
    driver's resize (FileSR/LVHDSR and the others alike): shrinking is
    refused with VDISize (SR_BACKEND_FAILURE_79 "shrinking not allowed"),
    the same size changes nothing, growing needs the space; xapi records the
    new virtual_size. A LUN-per-VDI type has no VDI_RESIZE (refused before)."""
    pool = c.pool
    vdi = pool.db["VDI"][vdi_ref]
    sr_ref = vdi["SR"]
    need_plugged(pool, sr_ref)
    if not vdi["managed"]:
        raise XapiError("VDI_NOT_MANAGED", vdi_ref)
    size = as_int(size)
    sr_type = pool.db["SR"][sr_ref]["type"]
    st = sim.storage.get(pool.db["SR"][sr_ref]["uuid"])
    if st is None or vdi["uuid"] not in st["vdis"]:
        raise sim.backend_failure(46, "The VDI is not available [opterr=VDI %s not found]"
                                  % vdi["uuid"], sr_type)
    sv = st["vdis"][vdi["uuid"]]
    if size < sv["virtual_size"]:
        raise sim.backend_failure(79, "VDI Invalid size [opterr=shrinking not allowed]",
                                  sr_type)
    if size > sv["virtual_size"]:
        sr_space(sim, pool, sr_ref, size - sv["virtual_size"])
        sv["virtual_size"] = size
    vdi["virtual_size"] = sv["virtual_size"]
    vdi["physical_utilisation"] = sv["virtual_size"]
    update_sizes(sim, pool, sr_ref)
    return ""


@api("VDI.clone")
def vdi_clone(sim, c, sref, vdi_ref, driver_params=None):
    return _copy_vdi(sim, c, vdi_ref, False)


@api("VDI.snapshot")
def vdi_snapshot(sim, c, sref, vdi_ref, driver_params=None):
    return _copy_vdi(sim, c, vdi_ref, True)


# -- VBDs: enough for VDI_IN_USE and PBD.unplug's refusal ---------------------

def make_vbd(sim, pool, vm_ref, vdi_ref, mode="RW", userdevice="autodetect",
             other_config=None, vbd_type="Disk", bootable=False, empty=False):
    used = {b["userdevice"] for b in pool.db["VBD"].values() if b["VM"] == vm_ref}
    if userdevice == "autodetect":
        n = 0
        while str(n) in used:
            n += 1
        userdevice = str(n)
    elif userdevice in used:
        raise XapiError("DEVICE_ALREADY_EXISTS", userdevice)
    rec = sim.dm.blank_record("VBD")
    rec.update(uuid=new_uuid(), VM=vm_ref, VDI=vdi_ref, device="",
               userdevice=userdevice, bootable=bootable, mode=mode, type=vbd_type,
               unpluggable=True, empty=empty, other_config=dict(other_config or {}),
               currently_attached=False, current_operations={},
               qos_algorithm_type="", qos_algorithm_params={})
    ref = new_ref()
    pool.add("VBD", ref, rec)
    return ref


@api("VBD.create")
def vbd_create(sim, c, sref, rec):
    pool = c.pool
    if rec["VM"] not in pool.db["VM"]:
        raise XapiError("HANDLE_INVALID", "VM", rec["VM"])
    if not rec["empty"] and rec["VDI"] not in pool.db["VDI"]:
        raise XapiError("HANDLE_INVALID", "VDI", rec["VDI"])
    ref = make_vbd(sim, pool, rec["VM"], rec["VDI"], rec["mode"], rec["userdevice"],
                   rec["other_config"], rec["type"], rec["bootable"], rec["empty"])
    b = pool.db["VBD"][ref]
    b["qos_algorithm_type"] = rec["qos_algorithm_type"]
    b["qos_algorithm_params"] = dict(rec["qos_algorithm_params"])
    if "unpluggable" in rec:
        b["unpluggable"] = rec["unpluggable"]
    return ref


def attach_vbd(sim, pool, vbd_ref):
    b = pool.db["VBD"][vbd_ref]
    if b["currently_attached"]:
        raise XapiError("DEVICE_ALREADY_ATTACHED", vbd_ref)
    vm = pool.db["VM"][b["VM"]]
    if vm["power_state"] != "Running":
        raise XapiError("VM_BAD_POWER_STATE", b["VM"], "running", vm["power_state"].lower())
    if not b["empty"]:
        sr = pool.db["VDI"][b["VDI"]]["SR"]
        if not any(p["SR"] == sr and p["host"] == vm["resident_on"]
                   and p["currently_attached"] for p in pool.db["PBD"].values()):
            raise XapiError("SR_NO_PBDS", sr)
    b["currently_attached"] = True
    b["device"] = "xvd" + chr(ord("a") + int(b["userdevice"]) % 26)


@api("VBD.plug")
def vbd_plug(sim, c, sref, vbd_ref):
    attach_vbd(sim, c.pool, vbd_ref)
    return ""


@api("VBD.unplug")
def vbd_unplug(sim, c, sref, vbd_ref):
    b = c.pool.db["VBD"][vbd_ref]
    if not b["currently_attached"]:
        raise XapiError("DEVICE_ALREADY_DETACHED", vbd_ref)
    b["currently_attached"] = False
    return ""


@api("VBD.unplug_force")
def vbd_unplug_force(sim, c, sref, vbd_ref):
    return vbd_unplug(sim, c, sref, vbd_ref)


@api("VBD.destroy")
def vbd_destroy(sim, c, sref, vbd_ref):
    pool = c.pool
    b = pool.db["VBD"][vbd_ref]
    if b["currently_attached"] or b.get("reserved"):
        raise XapiError("OPERATION_NOT_ALLOWED", "VBD '%s' still attached to '%s'"
                        % (b["uuid"], pool.db["VM"][b["VM"]]["uuid"]))
    pool.remove("VBD", vbd_ref)
    return ""


# -- tasks --------------------------------------------------------------------

@api("task.create")
def task_create(sim, c, sref, label, description):
    return sim.task_create(c.pool, label, sref, c.pool.master, description)


@api("task.cancel")
def task_cancel(sim, c, sref, task):
    """xapi_task.ml cancel: marks the task; the operation sees it at its
    next check (while queued or during its delay), else completes."""
    t = c.pool.db["task"][task]
    t["current_operations"] = {new_ref(): "cancel"}
    sim.cond.notify_all()
    return ""


@api("task.destroy")
def task_destroy(sim, c, sref, task):
    """A finished task goes at once; a pending one when it finishes."""
    t = c.pool.db["task"][task]
    if t["status"] in ("success", "failure", "cancelled"):
        c.pool.remove("task", task)
    else:
        t["current_operations"][new_ref()] = "destroy"
    return ""


# -- events ---------------------------------------------------------------------

def parse_token(token):
    """xapi_event.ml Token.of_string: "" or "<generation>,<message gen>"."""
    if token == "":
        return 0
    parts = token.split(",")
    try:
        if len(parts) != 2:
            raise ValueError(token)
        int(parts[1])
        return int(parts[0])
    except ValueError:
        raise XapiError("EVENT_FROM_TOKEN_PARSE_FAILURE", token) from None


@api("event.from")
def event_from(sim, c, sref, classes, token, timeout):
    pool = c.pool
    subs = []
    for x in classes:
        if x == "*":
            subs.append(("*", None))
        else:
            cls, _, obj = x.partition("/")
            subs.append((cls.lower(), obj or None))
    since = parse_token(token)
    deadline = time.monotonic() + max(0.0, float(timeout))
    while True:
        sim.sync_events(pool)
        events, last = sim.collect_events(pool, subs, since)
        left = deadline - time.monotonic()
        if events or left <= 0:
            break
        sim.cond.wait(min(left, 5.0))
    counts = {cls.lower(): Int32(len(pool.db[cls])) for cls in CLASSES}
    return {"events": events, "valid_ref_counts": counts,
            "token": "%020d,%020d" % (last, 0)}


@api("event.get_current_id")
def event_current_id(sim, c, sref):
    return c.pool.gen


@api("event.inject")
def event_inject(sim, c, sref, cls, ref):
    pool = c.pool
    table = next((t for t in CLASSES if t == cls), None)
    if table is None or ref not in pool.db[table]:
        raise XapiError("HANDLE_INVALID", cls, ref)
    sim.sync_events(pool)
    token = "%020d,%020d" % (pool.gen, 0)
    pool.gen += 1
    meta = pool.meta.get((table, ref))
    if meta is not None:
        meta[1] = pool.gen
    return token


# ============================================================================
#  Control API
# ============================================================================

@control("sim.ping")
def c_ping(sim):
    return "pong"


@control("sim.add_fault")
def c_add_fault(sim, rule):
    """rule: {method, action: fail|delay|drop, nth (default 1), repeat (bool:
    every call from nth on), code, params (list), seconds, when (before|after:
    for drop, before running the call or after it; for delay, before the
    call's effect (cancellable) or after it), host (name, optional), param
    ({"index": value}: only calls whose params[index] equals value, e.g.
    {"3": "vdi_create"} for host.call_plugin's fn)}."""
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
    with sim.cond:
        st = sim.storage.get(sr_uuid)
        if st is None:
            raise XapiError("UUID_INVALID", "SR", sr_uuid)
        st["physical_size"] = int(size)
        for pool in sim.pools:
            ref = pool.uuid_index["SR"].get(sr_uuid)
            if ref and plugged_pbds(pool, ref):
                scan_sr(sim, pool, ref)
        sim.cond.notify_all()
    return ""


@control("sim.set_device_capacity")
def c_dev_capacity(sim, match, size):
    with sim.lock:
        sim.capacity_rules.append((dict(match), int(size)))
    return ""


@control("sim.set_device_luns")
def c_dev_luns(sim, match, sizes):
    with sim.lock:
        sim.lun_rules.append((dict(match), [int(s) for s in sizes]))
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


@control("sim.call_counts")
def c_call_counts(sim):
    """Calls since start/reset, per method, per host and per session."""
    with sim.lock:
        hosts = {h: {"total": sum(m.values()), "methods": dict(m)}
                 for h, m in sim.host_counts.items()}
        sessions = {}
        for s, info in sim.session_counts.items():
            sessions[s] = dict(info, methods=dict(info["methods"]),
                               total=sum(info["methods"].values()))
        return json.dumps({"seconds": round(time.monotonic() - sim.counts_since, 3),
                           "total": sum(sim.counts.values()),
                           "methods": dict(sim.counts), "hosts": hosts,
                           "sessions": sessions})


@control("sim.reset_counts")
def c_reset_counts(sim):
    sim.reset_counts()
    return ""


@control("sim.wait_idle")
def c_wait_idle(sim, seconds="30"):
    """Returns once no XenAPI call is being served (a waiting event.from
    aside) and no task is pending, or after `seconds`: JSON {idle,
    in_flight, pending_tasks}."""
    deadline = time.monotonic() + float(seconds)
    with sim.cond:
        while True:
            pending = sum(1 for p in sim.pools for t in p.db["task"].values()
                          if t["status"] == "pending")
            idle = sim.in_flight == 0 and pending == 0
            left = deadline - time.monotonic()
            if idle or left <= 0:
                return json.dumps({"idle": idle, "in_flight": sim.in_flight,
                                   "pending_tasks": pending})
            sim.cond.wait(min(left, 1.0))


@control("sim.attach_vdi")
def c_attach_vdi(sim, vdi_uuid, host_name="", mode="RW"):
    """A plugged VBD from a host's control domain (default: a host with the
    SR plugged, the master first) to the VDI: what a running VM or a dom0
    tool holding the disk looks like to xapi.  Returns the VBD ref."""
    with sim.cond:
        for pool in sim.pools:
            vdi_ref = pool.uuid_index["VDI"].get(vdi_uuid)
            if vdi_ref is None:
                continue
            sr = pool.db["VDI"][vdi_ref]["SR"]
            if host_name:
                host = next((h for h in pool.hosts if h.name == host_name), None)
                if host is None:
                    raise XapiError("INVALID_VALUE", "host", host_name)
            else:
                plugged = {pool.db["PBD"][p]["host"] for p in plugged_pbds(pool, sr)}
                host = next((h for h in [pool.master] + pool.hosts if h.ref in plugged),
                            pool.master)
            vbd = make_vbd(sim, pool, host.dom0_ref, vdi_ref, mode=mode)
            attach_vbd(sim, pool, vbd)
            sim.cond.notify_all()
            return vbd
    raise XapiError("UUID_INVALID", "VDI", vdi_uuid)


@control("sim.set_driver_stderr")
def c_driver_stderr(sim, text, sr_type="*"):
    """What SM drivers write on stderr: the third param of the
    SR_BACKEND_FAILURE_* errors the simulator raises (for one SR type, or
    every type with "*")."""
    with sim.lock:
        sim.driver_stderr[sr_type] = str(text)
    return ""


@control("sim.set_option")
def c_set_option(sim, name, value):
    with sim.lock:
        if name not in sim.options:
            raise XapiError("INVALID_VALUE", "option", name)
        old = sim.options[name]
        sim.options[name] = float(value) if isinstance(old, float) else bool(value)
    return ""


@control("sim.exec_plugin")
def c_exec_plugin(sim, host_name, plugin, argv):
    """Runs plugin `plugin` of the plugin dir for host `host_name` exactly
    as host.call_plugin does (its namespace, PATH alone) but with argv[1:] =
    `argv` (a list of strings) as given rather than the methodCall xapi
    builds: for tests of input xapi never sends (malformed XML, a stale
    session).  JSON {returncode, stdout, stderr}."""
    host = next((h for h in sim.hosts if h.name == host_name), None)
    if host is None:
        raise XapiError("INVALID_VALUE", "host", host_name)
    if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
        raise XapiError("INVALID_VALUE", "argv", "a list of strings")
    if not sim.plugin_dir or plugin not in os.listdir(sim.plugin_dir):
        raise XapiError("XENAPI_MISSING_PLUGIN", plugin)
    rc, out, err = sim.spawn_plugin(host, os.path.join(sim.plugin_dir, plugin), argv)
    return json.dumps({"returncode": rc, "stdout": out, "stderr": err})


@control("sim.get_options")
def c_get_options(sim):
    with sim.lock:
        return json.dumps(sim.options)


# ============================================================================
#  HTTP over TCP and over unix sockets (http_svr.ml)
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
        """Http_svr.read_body: a Content-Length is required, at most
        300 KiB (Constants.http_limit_max_rpc_size).  A refused body is
        read and dropped first (xapi does not read it; the client sees the
        same 500 and closed connection, without a reset that could lose it)."""
        length = self.headers.get("Content-Length")
        if length is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self._drain_chunks()
            raise HttpError('Failure("We require a content-length: HTTP header")')
        try:
            n = int(length)
        except ValueError:
            raise HttpError('Failure("int_of_string")') from None
        if n > MAX_BODY:
            self._drain(n)
            raise HttpError("Http_svr.Client_requested_size_over_limit")
        if n < 0:
            raise HttpError('Invalid_argument("really_read")')
        return self.rfile.read(n)

    def _drain(self, n):
        n = min(n, DRAIN_MAX)
        while n > 0:
            got = self.rfile.read(min(n, 1 << 16))
            if not got:
                return
            n -= len(got)

    def _drain_chunks(self):
        total = 0
        while total < DRAIN_MAX:
            line = self.rfile.readline(1024)
            try:
                n = int(line.split(b";")[0].strip() or b"0", 16)
            except ValueError:
                return
            if n <= 0:
                self.rfile.readline(1024)
                return
            self._drain(n)
            self.rfile.readline(1024)
            total += n

    def _internal_error(self, extra):
        body = internal_error_page(extra).encode("utf-8")
        self.close_connection = True
        try:
            self.send_response(500, "Internal Error")
            self.send_header("Content-Type", "text/html")
            self.send_header("Connection", "close")
            self.send_header("Cache-Control", "no-cache, no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_POST(self):
        srv = self.server
        if self.path.split("?")[0] not in ("/", "/RPC2"):
            self.send_error(404)
            return
        try:
            body = self._body()
            out = srv.sim.handle(srv.host, srv.transport, body)
        except HttpError as e:
            self._internal_error(str(e))
            return
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


def bind_tcp(hosts):
    """Every host its own loopback address, 127.0.0.1, 127.0.0.2, ..., all on
    one port: a HOST_IS_SLAVE that names only the master's address (as xapi's
    does) is enough to reach the master on the port the client already uses."""
    last = None
    for _ in range(50):
        servers = []
        try:
            port = 0
            for i, h in enumerate(hosts):
                srv = TCPServer(("127.0.0.%d" % (i + 1), port), Handler)
                servers.append(srv)
                port = srv.server_address[1]
            for i, h in enumerate(hosts):
                h.address, h.http_port = "127.0.0.%d" % (i + 1), port
            return servers
        except OSError as e:
            last = e
            for s in servers:
                s.server_close()
            if e.errno != errno.EADDRINUSE:
                raise
    raise last


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
    if len(names) > 250:
        raise ValueError("at most 250 hosts (one loopback address each)")
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
    unix_dir = os.path.abspath(args.unix_dir)
    stage = None
    try:
        os.makedirs(unix_dir, exist_ok=True)
        tcp = bind_tcp(sim.hosts)
        for h, srv in zip(sim.hosts, tcp):
            srv.sim, srv.host, srv.transport = sim, h, "tcp"
            servers.append(srv)
            path = os.path.join(unix_dir, h.name + ".sock")
            if os.path.exists(path):
                os.unlink(path)
            uds = UnixServer(path, Handler)
            uds.sim, uds.host, uds.transport = sim, h, "unix"
            h.unix_path = path
            paths.append(path)
            servers.append(uds)
    except OSError as e:
        sys.stderr.write("xapisim: cannot listen: %s\n" % e)
        for s in servers:
            s.server_close()
        for p in paths:
            if os.path.exists(p):
                os.unlink(p)
        return 1
    sim.populate()
    try:
        if sim.plugin_dir:
            stage = os.path.join(unix_dir, ".xapisim-plugins")
            sim.stage_plugins(stage)
            stage = sim.plugin_stage
    except (OSError, ValueError) as e:
        sys.stderr.write("xapisim: bad plugin files or binds: %s\n" % e)
        for s in servers:
            s.server_close()
        for p in paths:
            if os.path.exists(p):
                os.unlink(p)
        if stage:
            shutil.rmtree(stage, ignore_errors=True)
        return 2
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
                                  "address": h.address, "url": h.url(),
                                  "port": h.http_port, "unix": h.unix_path}
                                 for h in p.hosts]} for p in sim.pools],
            "pid": os.getpid()}
    sys.stdout.write(json.dumps(line) + "\n")
    sys.stdout.flush()
    while not stop.is_set():
        stop.wait()
    sim.kill_plugins()
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
    if stage:
        shutil.rmtree(stage, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
