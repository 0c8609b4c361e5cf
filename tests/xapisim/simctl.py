"""simctl: start and drive the xapi simulator (tests/xapisim/xapisim.py).

Python 3 standard library only.  Typical use in a test::

    import sys, os
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "xapisim"))
    import simctl

    with simctl.Simulator(pools=[("p1", ["h1", "h2"])],
                          plugin_dir=plugin_dir) as sim:
        master = sim.host("h1")            # dict: name, uuid, ref, address, url,
                                           #       port, unix
        api = sim.proxy("h1")              # xmlrpc.client proxy over HTTP
        api_unix = sim.proxy("h2", unix=True)   # ... over h2's unix socket
        session = sim.login("h1")          # session ref (raises XapiFailure)
        sr = sim.call("h1", "SR.create", session, master["ref"],
                      {"server": "s", "serverpath": "/p"}, "0", "sr", "",
                      "nfs", "user", True)
        sim.fail("VDI.create", "SR_BACKEND_FAILURE_44",
                 ["", "There is insufficient space", ""], nth=1)
        state = sim.dump()                 # dict, see README "sim.dump"

Simulator(...) arguments (all optional):
    pools        list of (name, [host, ...]) ; the first host is the master.
                 Default [("p1", ["h1"])].
    config       dict written as the --config JSON file (overrides pools; also
                 drivers, luns, driver_stderr, plugin_files, plugin_binds,
                 plugin_namespace, queue_max_wait: see README.md).
    plugin_dir   directory of host plugins for host.call_plugin.
    session_ttl  idle seconds after which sessions expire (0 = never).
    users        dict name -> password (default {"root": "password"}).
    physical_size  default SR size in bytes.
    extra_args   more command-line arguments for xapisim.py.
    env          environment overrides for the simulator process.
    timeout      seconds to wait for the start-up line (default 20).

Start-up waits for the simulator's one JSON line on stdout (no sleeps); exit
(or an exception inside the with-block, or stop()) terminates it with
SIGTERM and kills it if it does not exit within 5 s.  A temporary directory
holds the unix sockets (sim.unix_dir) and is removed on exit.

Calls:
    call(host, method, *params, unix=False) -> Value, or raises XapiFailure
        (.code, .params, .description) for a Failure response.
    raw_call(host, method, *params, unix=False) -> the response struct
        {"Status": ..., "Value"/"ErrorDescription": ...}.
    raw_bytes(host, body_bytes, unix=False) -> raw HTTP response body.
    proxy(host, unix=False) -> xmlrpc.client.ServerProxy (responses are the
        raw {"Status": ...} structs, as with XenAPI).
    login(host, user="root", password="password", unix=False) -> session ref.

Control (sim.* methods, sent to the first master; all return quickly):
    fail(method, code, params=(), nth=1, repeat=False, host=None, param=None)
        -> rule id.  The nth call of method (counted from now; repeat=True:
        every call from the nth on) answers Failure [code, *params] without
        running.  host: only calls arriving at that host.  param: {index:
        value}, only calls whose params[index] == value, e.g.
        fail("host.call_plugin", "X", param={3: "vdi_create"}).
    delay(method, seconds, nth=1, repeat=True, host=None, param=None,
          when="before") -> rule id
        the call waits `seconds` before its effect (a task's progress moves,
        a cancel ends it) or, with when="after", after it (a cancel is then
        too late).
    drop(method, nth=1, repeat=False, when="before", host=None, param=None)
        -> rule id
        close the connection without a response; when="after" runs the call
        first (its effects persist) and then drops the reply.
    clear_faults(); faults() -> list of rules with their 'seen'/'fired' counts
    expire_sessions() -> number expired
    set_session_ttl(seconds)
    set_sr_capacity(sr_uuid, size); set_device_capacity(match_dict, size)
    add_storage(spec) -> SR uuid of pre-existing backing storage that
        SR.introduce + PBD.plug can find (spec: type, device_config, uuid?,
        physical_size?, vdis?)
    dump() -> dict of the whole state; counts() -> {method: calls}
    call_counts() -> {"seconds", "total", "methods", "hosts": {name: {total,
        methods}}, "sessions": {ref: {host, user, originator, this_host, pool,
        total, methods}}}
    reset_counts()
    wait_idle(seconds=30) -> {"idle": True, ...} once no call is being served
        and no task is pending; raises RuntimeError if still busy after
        `seconds`.
    attach_vdi(vdi_uuid, host=None, mode="RW") -> VBD ref, plugged, from that
        host's control domain (a disk in use).
    set_driver_stderr(text, sr_type="*"): the SM driver's stderr, the third
        param of SR_BACKEND_FAILURE_* errors.
    set_device_luns(match_dict, sizes): LUNs of later iscsi/hba SRs.
    set_option(name, value); options() -> dict (plugin_namespace,
        queue_max_wait)
    exec_plugin(host, plugin, argv) -> {"returncode", "stdout", "stderr"}:
        runs a plugin for that host as host.call_plugin does (its namespace,
        PATH alone) with argv[1:] = argv as given (input xapi never sends).

The temporary directory's path never holds "_" (XenAPI.py's UDSTransport
turns "_" into "/" in a unix socket's "host" name).
"""

import http.client
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xmlrpc.client

HERE = os.path.dirname(os.path.abspath(__file__))
XAPISIM = os.path.join(HERE, "xapisim.py")
# The simulator is started as a module (-c import), so that Python keeps its
# compiled form (__pycache__) rather than compiling 3,000 lines every start.
XAPISIM_RUN = ("import sys; sys.path.insert(0, %r); import xapisim; sys.exit(xapisim.main())"
               % HERE)


class XapiFailure(Exception):
    """A XenAPI Failure response."""

    def __init__(self, description):
        self.description = list(description)
        self.code = self.description[0] if self.description else ""
        self.params = self.description[1:]
        super().__init__("%s %s" % (self.code, self.params))


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over an AF_UNIX socket."""

    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


class UnixTransport(xmlrpc.client.Transport):
    """xmlrpc.client transport for HTTP over a unix socket."""

    def __init__(self, path, timeout=30):
        super().__init__()
        self.unix_path = path
        self.timeout = timeout

    def make_connection(self, host):
        # cached like the base class, so close() (and `with proxy:`) closes it
        if self._connection and host == self._connection[0]:
            return self._connection[1]
        self._connection = host, UnixHTTPConnection(self.unix_path, self.timeout)
        return self._connection[1]


class TimeoutTransport(xmlrpc.client.Transport):
    def __init__(self, timeout=30):
        super().__init__()
        self.timeout = timeout

    def make_connection(self, host):
        conn = super().make_connection(host)
        conn.timeout = self.timeout
        return conn


def post(url_or_unix, body, unix=False, timeout=30, path="/"):
    """POST raw bytes; return (status, headers dict, body bytes)."""
    if unix:
        conn = UnixHTTPConnection(url_or_unix, timeout)
    else:
        hostport = url_or_unix.split("//", 1)[1].rstrip("/")
        conn = http.client.HTTPConnection(hostport, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "text/xml"})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


class Simulator:
    def __init__(self, pools=None, config=None, plugin_dir=None, session_ttl=0,
                 users=None, physical_size=None, extra_args=(), env=None,
                 timeout=20):
        self.tmp = tempfile.mkdtemp(prefix="xapisim-")
        while "_" in self.tmp:
            os.rmdir(self.tmp)
            self.tmp = tempfile.mkdtemp(prefix="xapisim-")
        self.unix_dir = os.path.join(self.tmp, "sock")
        args = [sys.executable, "-c", XAPISIM_RUN, "--unix-dir", self.unix_dir]
        cfg = dict(config or {})
        if "pools" not in cfg:
            cfg["pools"] = [{"name": n, "master": hs[0], "hosts": list(hs)}
                            for n, hs in (pools or [("p1", ["h1"])])]
        if users is not None:
            cfg["users"] = users
        cfg_path = os.path.join(self.tmp, "config.json")
        with open(cfg_path, "w", encoding="utf-8") as f:
            json.dump(cfg, f)
        args += ["--config", cfg_path]
        if plugin_dir:
            args += ["--plugin-dir", plugin_dir]
        if session_ttl:
            args += ["--session-ttl", str(session_ttl)]
        if physical_size is not None:
            args += ["--physical-size", str(int(physical_size))]
        args += list(extra_args)
        penv = dict(os.environ)
        penv.update(env or {})
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, env=penv,
                                     stdin=subprocess.DEVNULL)
        try:
            self.info = self._read_startup(timeout)
        except BaseException:
            self.stop()
            raise
        self.hosts = {}
        self.pools = {}
        for p in self.info["pools"]:
            self.pools[p["name"]] = p
            for h in p["hosts"]:
                h = dict(h, pool=p["name"], master=(h["name"] == p["master"]))
                self.hosts[h["name"]] = h
        self.control_host = self.info["pools"][0]["master"]

    def _read_startup(self, timeout):
        deadline = time.monotonic() + timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError("xapisim: no start-up line within %ss" % timeout)
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise RuntimeError("xapisim exited before start-up (rc=%s)"
                                       % self.proc.wait())
                buf += chunk
        return json.loads(buf.split(b"\n", 1)[0])

    # -- lifetime ------------------------------------------------------------

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s; returns the exit code."""
        rc = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
        elif self.proc is not None:
            rc = self.proc.returncode
        if self.proc is not None and self.proc.stdout:
            self.proc.stdout.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return rc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- addresses -----------------------------------------------------------

    def host(self, name):
        return self.hosts[name]

    def master(self, pool=None):
        p = self.pools[pool] if pool else self.info["pools"][0]
        return self.hosts[p["master"]]

    def proxy(self, host, unix=False, timeout=30):
        h = self.hosts[host]
        if unix:
            return xmlrpc.client.ServerProxy("http://localhost/",
                                             transport=UnixTransport(h["unix"], timeout),
                                             allow_none=True)
        return xmlrpc.client.ServerProxy(h["url"], transport=TimeoutTransport(timeout),
                                         allow_none=True)

    # -- calls ---------------------------------------------------------------

    def raw_call(self, host, method, *params, unix=False, timeout=30):
        body = xmlrpc.client.dumps(tuple(params), method, allow_none=True)
        return self.raw_call_body(host, body.encode("utf-8"), unix, timeout)

    def raw_call_body(self, host, body, unix=False, timeout=30):
        raw = self.raw_bytes(host, body, unix, timeout)
        (resp,), _ = xmlrpc.client.loads(raw)
        return resp

    def raw_bytes(self, host, body, unix=False, timeout=30):
        h = self.hosts[host]
        status, _, raw = post(h["unix"] if unix else h["url"], body, unix, timeout)
        if status != 200:
            raise RuntimeError("xapisim: HTTP %d" % status)
        return raw

    def call(self, host, method, *params, unix=False, timeout=30):
        resp = self.raw_call(host, method, *params, unix=unix, timeout=timeout)
        if resp.get("Status") == "Success":
            return resp.get("Value")
        raise XapiFailure(resp.get("ErrorDescription", []))

    def login(self, host=None, user="root", password="password", unix=False):
        return self.call(host or self.master()["name"],
                         "session.login_with_password", user, password,
                         "2.0", "simctl", unix=unix)

    # -- control -------------------------------------------------------------

    def control(self, method, *params):
        return self.call(self.control_host, "sim." + method, *params)

    def add_fault(self, rule):
        return self.control("add_fault", rule)

    def _rule(self, rule, host, param):
        if host:
            rule["host"] = host
        if param:
            rule["param"] = {str(k): v for k, v in param.items()}
        return self.add_fault(rule)

    def fail(self, method, code, params=(), nth=1, repeat=False, host=None,
             param=None):
        return self._rule({"method": method, "action": "fail", "code": code,
                           "params": list(params), "nth": nth, "repeat": repeat},
                          host, param)

    def delay(self, method, seconds, nth=1, repeat=True, host=None, param=None,
              when="before"):
        return self._rule({"method": method, "action": "delay", "when": when,
                           "seconds": float(seconds), "nth": nth, "repeat": repeat},
                          host, param)

    def drop(self, method, nth=1, repeat=False, when="before", host=None,
             param=None):
        return self._rule({"method": method, "action": "drop", "nth": nth,
                           "repeat": repeat, "when": when}, host, param)

    def clear_faults(self):
        self.control("clear_faults")

    def faults(self):
        return json.loads(self.control("list_faults"))

    def expire_sessions(self):
        return int(self.control("expire_sessions"))

    def set_session_ttl(self, seconds):
        self.control("set_session_ttl", str(seconds))

    def set_sr_capacity(self, sr_uuid, size):
        self.control("set_sr_capacity", sr_uuid, str(int(size)))

    def set_device_capacity(self, match, size):
        self.control("set_device_capacity", dict(match), str(int(size)))

    def add_storage(self, spec):
        spec = dict(spec)
        if "physical_size" in spec:
            spec["physical_size"] = str(int(spec["physical_size"]))
        for v in spec.get("vdis", []):
            if "virtual_size" in v:
                v["virtual_size"] = str(int(v["virtual_size"]))
        return self.control("add_storage", spec)

    def dump(self):
        return json.loads(self.control("dump"))

    def counts(self):
        return json.loads(self.control("counts"))

    def reset_counts(self):
        self.control("reset_counts")

    def call_counts(self):
        return json.loads(self.control("call_counts"))

    def wait_idle(self, seconds=30):
        state = json.loads(self.control("wait_idle", str(seconds)))
        if not state["idle"]:
            raise RuntimeError("xapisim still busy after %ss: %r" % (seconds, state))
        return state

    def attach_vdi(self, vdi_uuid, host=None, mode="RW"):
        return self.control("attach_vdi", vdi_uuid, host or "", mode)

    def set_driver_stderr(self, text, sr_type="*"):
        self.control("set_driver_stderr", text, sr_type)

    def set_device_luns(self, match, sizes):
        self.control("set_device_luns", dict(match), [str(int(s)) for s in sizes])

    def set_option(self, name, value):
        self.control("set_option", name, value)

    def options(self):
        return json.loads(self.control("get_options"))

    def exec_plugin(self, host, plugin, argv):
        return json.loads(self.control("exec_plugin", host, plugin, list(argv)))
