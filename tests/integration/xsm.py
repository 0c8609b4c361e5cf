"""Shared helpers for xensm integration tests (Python 3 standard library only).

Starts the REAL programs CMake built (env XENSM_PROG_*, set by
xensm_integration_test) in temp dirs, waits for readiness through
XENSM_READY_FD, and always stops what it started. Tests never sleep for a
fixed time: they wait for the thing itself, through the simulator
(sim.wait_idle: no xapi call in flight) or by polling a condition with a
deadline (wait_for / World.wait_until: the admin API has no push).
"""
import json
import os
import resource
import select
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request

BUILD_DIR = os.environ.get("XENSM_BUILD_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE_DIR = os.environ.get("XENSM_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))



def program(target):
    """The path of the program CMake built for <target>: $XENSM_PROG_<TARGET>
    ($<TARGET_FILE:target>, set by xensm_integration_test). Run the tests
    through ctest, which sets it."""
    var = "XENSM_PROG_" + "".join(c if c.isalnum() else "_" for c in target.upper())
    path = os.environ.get(var)
    if not path:
        raise unittest.SkipTest(f"{var} is not set: run this test through ctest "
                                f"(or no target {target} in this build)")
    return path


CATALOGD = program("xensm-catalogd")
MANAGE = program("xensm-manage")
RAWSEND = program("xs_rawsend")

READY_TIMEOUT = 20.0

# XENSM_TEST_DB=pg (ctest label pg): every catalogd gets a fresh database on
# one real PostgreSQL server of this process (tests/support/pgtest.py)
# instead of an SQLite file.
TEST_DB = os.environ.get("XENSM_TEST_DB", "sqlite")
_pg_count = [0]


def pg_database():
    """A fresh PostgreSQL database's URI on the process's test server."""
    import sys
    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "support"))
    import pgtest
    _pg_count[0] += 1
    return pgtest.shared().create_db("it_%d_%d" % (os.getpid(), _pg_count[0]))


def test_failed(test):
    """Whether the unittest case `test` has failed or errored so far (asked
    from one of its cleanups)."""
    outcome = getattr(test, "_outcome", None)
    errors = getattr(outcome, "errors", None) or []
    result = getattr(outcome, "result", None)
    return any(e for _, e in errors) or (
        result is not None and any(t is test for t, _ in result.failures + result.errors))


def dump_logs_on_failure(test, world, lines=60):
    """A cleanup: when `test` failed (or XSM_E2E_LOGS is set), the notices,
    warnings and errors of every process of `world` first (a burst of debug
    lines must not push the cause out of the tail), then catalogd's tail."""
    if world is None or not (test_failed(test) or os.environ.get("XSM_E2E_LOGS")):
        return
    for name, proc in [("catalogd", world.catalogd)] + sorted(world.agents.items()):
        kept = [l for l in proc.log().splitlines() if l[:2] in ("N ", "W ", "E ")]
        print("---- %s notices, warnings, errors ----\n%s" % (name, "\n".join(kept[-lines:])))
    print("---- catalogd log (tail) ----\n" + world.catalogd.log()[-6000:])


def http(method, url, body=None, headers=None, timeout=120):
    """(status, headers, parsed JSON or None) of one HTTP request; body:
    bytes as they are, else JSON. Redirects are not followed for a PUT or
    DELETE (urllib never follows their 307)."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            raw = r.read()
            return r.status, r.headers, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, e.headers, json.loads(raw) if raw else None


def wait_for(what, predicate, timeout=30.0, interval=0.05):
    """Polls predicate() until it returns a true value, which is returned;
    fails after timeout (a failsafe, never the thing waited for)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def read_log(path):
    """A daemon's log file as text ("" before it exists)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def clean_env(**extra):
    """The environment for a child: no inherited xensm settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XENSM_")}
    env.update(extra)
    return env


class StartFailed(Exception):
    def __init__(self, returncode, log):
        super().__init__("catalogd exited with %s before READY:\n%s" % (returncode, log))
        self.returncode = returncode
        self.log = log


class Catalogd:
    """One xensm-catalogd on a temp database and a temp ipc endpoint."""

    def __init__(self, workdir, db=None, endpoint=None, config=None, args=(),
                 foreground=True, verbose=True, agent_endpoint="tcp://127.0.0.1:0",
                 api_listen="127.0.0.1:0"):
        self.workdir = workdir
        if db is None and TEST_DB == "pg":
            db = pg_database()
        self.db = db or os.path.join(workdir, "catalog.db")
        self.endpoint = endpoint or "ipc://%s" % os.path.join(workdir, "run", "admin.sock")
        # The agent side: a port the kernel picks at random (":0"; czmq's
        # ":*" tries 49152 upward, so parallel tests collide on restarts;
        # ping tells which), the certificate and allow-list in the work dir.
        self.agent_endpoint = agent_endpoint
        self.api_listen = api_listen
        self.cert = os.path.join(workdir, "catalog.cert")
        self.agent_keys = os.path.join(workdir, "agents")
        self.config = config
        self.args = list(args)
        self.foreground = foreground
        self.verbose = verbose
        self.proc = None
        # (soft, hard) RLIMIT_NOFILE to start it with; None: inherited.
        self.nofile = None
        self.log_path = os.path.join(workdir, "catalogd-%d.log" % id(self))

    def command(self):
        # The Block Storage API on a port the kernel picks (ping's
        # api_endpoint tells which), never the default 8776.
        cmd = [CATALOGD, "--db", self.db, "--admin", self.endpoint,
               "--agent", self.agent_endpoint, "--api", self.api_listen]
        # None: the flag is not given (the daemon's own default applies).
        if self.cert is not None:
            cmd += ["--cert", self.cert]
        if self.agent_keys is not None:
            cmd += ["--agent-keys", self.agent_keys]
        if self.config:
            cmd += ["-c", self.config]
        else:
            # Never read the machine's /etc/xensm/catalog.cfg in a test.
            empty = os.path.join(self.workdir, "empty.cfg")
            if not os.path.exists(empty):
                open(empty, "w").close()
            cmd += ["-c", empty]
        if self.foreground:
            cmd.append("--foreground")
        if self.verbose:
            cmd.append("-v")
        return cmd + self.args

    def start(self):
        """Starts and waits for READY. Raises StartFailed (process reaped)."""
        rfd, wfd = os.pipe()
        log = open(self.log_path, "ab")
        nofile = self.nofile

        def limits():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, nofile)
        try:
            self.proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                pass_fds=(wfd,), env=clean_env(XENSM_READY_FD=str(wfd)),
                preexec_fn=limits if nofile else None)
        finally:
            os.close(wfd)
            log.close()
        try:
            data, timed_out = wait_ready(rfd, READY_TIMEOUT)
        finally:
            os.close(rfd)
        if timed_out:
            self.kill()
            raise AssertionError("catalogd: no READY within %.0f s" % READY_TIMEOUT)
        if data != b"READY\n":
            try:
                rc = self.proc.wait(timeout=READY_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                rc = None
            self.proc = None
            raise StartFailed(rc, self.log())
        return self

    def ping(self):
        """The daemon's `ping` result: version, agent_endpoint, catalog_key..."""
        rc, lines = rawsend(self.endpoint, ["e:", "s:" + request("ping")])
        if rc != 0 or len(lines) != 2:
            raise AssertionError("ping failed: rc %s, %r" % (rc, lines))
        reply = json.loads(lines[1])
        if not reply.get("ok"):
            raise AssertionError("ping refused: %r" % reply)
        return reply["result"]

    def log(self):
        return read_log(self.log_path)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signals the daemon and waits; returns its exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError("catalogd did not stop within %d s" % timeout)
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


def run_catalogd_expect_failure(workdir, timeout=20, **kwargs):
    """Runs catalogd that should refuse to start; returns (rc, log)."""
    d = Catalogd(workdir, **kwargs)
    try:
        d.start()
    except StartFailed as e:
        return e.returncode, e.log
    d.stop()
    raise AssertionError("catalogd started but should have refused")


def manage(args, endpoint=None, input=None, env_extra=None, timeout=30, json_out=False):
    """Runs the real xensm-manage; returns CompletedProcess (text)."""
    env = clean_env(**(env_extra or {}))
    if endpoint:
        env["XENSM_ADMIN_ENDPOINT"] = endpoint
    cmd = [MANAGE] + list(args)
    return subprocess.run(cmd, input=input if input is not None else "", capture_output=True,
                          text=True, env=env, timeout=timeout)


def rawsend(endpoint, frames, timeout_ms=5000, curve=None):
    """Sends raw frames with xs_rawsend; returns (rc, reply frames). curve =
    (server public cert, own cert) connects as a CURVE client."""
    options = ["--curve", curve[0], curve[1]] if curve else []
    proc = subprocess.run([RAWSEND, "--timeout", str(timeout_ms)] + options + [endpoint]
                          + list(frames), capture_output=True, timeout=timeout_ms / 1000 + 20)
    lines = proc.stdout.decode("utf-8", "replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return proc.returncode, lines


def request(cmd, args=None, id="t1", v=1):
    body = {"v": v, "id": id, "cmd": cmd}
    if args is not None:
        body["args"] = args
    return json.dumps(body)


class CatalogTestCase(unittest.TestCase):
    """Gives each test a temp dir and a running catalogd (self.catalogd)."""

    start_catalogd = True

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="xsm-")
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.catalogd = None
        if self.start_catalogd:
            self.catalogd = self.new_catalogd().start()

    def new_catalogd(self, **kwargs):
        d = Catalogd(self.workdir, **kwargs)
        self.addCleanup(d.kill)
        return d

    def manage(self, *args, **kwargs):
        kwargs.setdefault("endpoint", self.catalogd.endpoint)
        return manage(args, **kwargs)

    def assertOk(self, proc):
        self.assertEqual(proc.returncode, 0,
                         "exit %d\nstdout: %s\nstderr: %s" % (proc.returncode, proc.stdout,
                                                              proc.stderr))
        return proc

    def assertExit(self, proc, code, *needles):
        self.assertEqual(proc.returncode, code,
                         "exit %d (wanted %d)\nstdout: %s\nstderr: %s" % (
                             proc.returncode, code, proc.stdout, proc.stderr))
        for needle in needles:
            self.assertIn(needle, proc.stderr)
        return proc

    def backends(self):
        return json.loads(self.assertOk(self.manage("--json", "sm", "backend_list")).stdout)[
            "backends"]

    def flavors(self):
        return json.loads(self.assertOk(self.manage("--json", "sm", "flavor_list")).stdout)[
            "flavors"]


# ---------------------------------------------------------------------------
#  Host agents and a simulated XenServer world, for end-to-end tests
# ---------------------------------------------------------------------------

AGENTD = program("xensm-agentd")


def simctl_module():
    """tests/xapisim/simctl.py, imported once."""
    import sys
    path = os.path.join(SOURCE_DIR, "tests", "xapisim")
    if path not in sys.path:
        sys.path.insert(0, path)
    import simctl
    return simctl


def wait_ready(rfd, timeout):
    """Reads a READY line from rfd within timeout. Returns (bytes read,
    timed_out): not timed out means a line came or the writer closed it."""
    data = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, True
        ready, _, _ = select.select([rfd], [], [], left)
        if not ready:
            continue
        chunk = os.read(rfd, 64)
        if not chunk:
            break
        data += chunk
    return data, False


class Agentd:
    """One xensm-agentd in the foreground, for one simulated host."""

    def __init__(self, workdir, name, zone, catalog_endpoint, catalog_cert, xapi_unix,
                 host_uuid, cert=None, config=None):
        """host_uuid None: the agent finds its host itself (inventory, else
        xapi); config: text of its config file (default empty)."""
        self.workdir = workdir
        self.name = name
        self.zone = zone
        self.catalog_endpoint = catalog_endpoint
        self.catalog_cert = catalog_cert
        self.xapi_unix = xapi_unix
        self.host_uuid = host_uuid
        self.cert = cert or os.path.join(workdir, "%s.cert" % name)
        self.config = config
        self.proc = None
        self.log_path = os.path.join(workdir, "agent-%s.log" % name)

    def gen_cert(self):
        return gen_certs([self])[0].cert

    def start(self, expect_ready=True, timeout=READY_TIMEOUT):
        """Starts; waits for READY (registered with the catalog). With
        expect_ready=False returns after `timeout` without READY (raises if
        it came)."""
        return self.spawn().wait_started(expect_ready, timeout)

    def spawn(self):
        """Starts the process; wait_started() then waits for its READY (so
        that several agents can start side by side)."""
        rfd, wfd = os.pipe()
        if self.config is None:
            cfg = os.path.join(self.workdir, "agent-empty.cfg")
            if not os.path.exists(cfg):
                open(cfg, "w").close()
        else:
            cfg = os.path.join(self.workdir, "agent-%s.cfg" % self.name)
            with open(cfg, "w") as f:
                f.write(self.config)
        cmd = [AGENTD, "-c", cfg, "--foreground", "-v", "--catalog", self.catalog_endpoint,
               "--zone", self.zone, "--xapi", "unix:" + self.xapi_unix, "--name", self.name,
               "--cert", self.cert, "--catalog-key", self.catalog_cert]
        if self.host_uuid:
            cmd += ["--host-uuid", self.host_uuid]
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(wfd,),
                env=clean_env(XENSM_READY_FD=str(wfd)))
        except BaseException:
            os.close(rfd)
            raise
        finally:
            os.close(wfd)
            log.close()
        self.ready_fd = rfd
        return self

    def wait_started(self, expect_ready=True, timeout=READY_TIMEOUT):
        """Waits for the READY of the process spawn() started (above)."""
        try:
            data, _ = wait_ready(self.ready_fd, timeout)
        finally:
            os.close(self.ready_fd)
            self.ready_fd = None
        if expect_ready and data != b"READY\n":
            self.kill()
            raise AssertionError("agent %s: no READY within %.0f s:\n%s" % (
                self.name, timeout, self.log()))
        if not expect_ready and data:
            raise AssertionError("agent %s: READY although it should be refused" % self.name)
        return self

    def wait_exit(self, timeout=READY_TIMEOUT):
        """Waits for the process to end by itself; returns its exit code."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("agent %s still running after %.0f s" % (self.name, timeout))

    def log(self):
        return read_log(self.log_path)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig=signal.SIGKILL):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait()
        self.proc = None


def gen_certs(agents):
    """Makes the agents' certificates (xensm-agentd --gen-cert), side by
    side; returns the agents."""
    procs = [(a, subprocess.Popen([AGENTD, "--gen-cert", a.cert], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  env=clean_env())) for a in agents]
    for agent, proc in procs:
        out = proc.communicate(timeout=READY_TIMEOUT)[0]
        if proc.returncode != 0:
            raise AssertionError("xensm-agentd --gen-cert %s: exit %d\n%s" % (
                agent.cert, proc.returncode, out.decode(errors="replace")))
    return agents


class World:
    """A simulated XenServer world for end-to-end tests: pool-a (a1, a2) in
    zone za and pool-b (b1, b2) in zone zb (xapisim), one xensm-catalogd,
    four enrolled agents. Everything is stopped by the test's cleanups."""

    HOSTS = (("a1", "za"), ("a2", "za"), ("b1", "zb"), ("b2", "zb"))
    # Catalog pace for tests: a host is down after 3 missed heartbeats.
    # On PostgreSQL a loop pass costs round trips to the server; on a loaded
    # 2-CPU machine a pass of a few dozen creates passed 600 ms, and hosts
    # went down for it: 500 ms heartbeats there (down after 1.5 s).
    CATALOG_CFG = ("[catalog]\nheartbeat_ms = %d\njob_wait_ms = 10000\n"
                   % (500 if TEST_DB == "pg" else 200) +
                   "agent_timeout_ms = 20000\n")

    def __init__(self, test, workdir, capacity=(), start_agents=True, sm_drivers=None,
                 sim_config=None, catalog_cfg="", catalogd_nofile=None):
        """sm_drivers: {pool name: [SR type, ...]}, the SM drivers that pool
        has (default: every driver a real host has). sim_config: more of the
        simulator's config (e.g. sm_capabilities). catalog_cfg: more lines of
        catalogd's [catalog] section (e.g. the Keystone settings)."""
        self.test = test
        self.workdir = workdir
        simctl = simctl_module()
        pools = [{"name": "pool-a", "master": "a1", "hosts": ["a1", "a2"]},
                 {"name": "pool-b", "master": "b1", "hosts": ["b1", "b2"]}]
        for pool in pools:
            if sm_drivers and pool["name"] in sm_drivers:
                pool["sm_drivers"] = list(sm_drivers[pool["name"]])
        config = {"pools": pools,
                  "users": {"root": ""},
                  "capacity": [{"match": m, "physical_size": s} for m, s in capacity]}
        config.update(sim_config or {})
        self.sim = simctl.Simulator(config=config)
        test.addCleanup(self.sim.stop)
        cfg = os.path.join(workdir, "catalog.cfg")
        with open(cfg, "w") as f:
            f.write(self.CATALOG_CFG + catalog_cfg)
        self.catalogd = Catalogd(workdir, config=cfg)
        self.catalogd.nofile = catalogd_nofile
        test.addCleanup(self.catalogd.kill)
        self.catalogd.start()
        info = self.catalogd.ping()
        self.agent_endpoint = info["agent_endpoint"]
        # The Block Storage API ("http://127.0.0.1:<port>"; None when off).
        self.api_root = info.get("api_endpoint")
        # Restarts bind the same port, so that agents find the catalog again.
        self.catalogd.agent_endpoint = self.agent_endpoint
        self.agents = {}
        if start_agents:            # side by side: certificates, then the agents
            agents = [self.new_agent(name, zone) for name, zone in self.HOSTS]
            for agent in gen_certs(agents):
                self.ok("host", "enroll", agent.cert)
            for agent in [a.spawn() for a in agents]:
                agent.wait_started()

    def new_agent(self, name, zone, cert=None, host_uuid=True, config=None):
        """An agent for simulated host `name`, told its uuid unless
        host_uuid=False (then it finds it itself; config for how)."""
        h = self.sim.host(name)
        agent = Agentd(self.workdir, name, zone, self.agent_endpoint, self.catalogd.cert,
                       h["unix"], h["uuid"] if host_uuid else None, cert=cert, config=config)
        self.test.addCleanup(agent.kill)
        if cert is None and name not in self.agents:
            self.agents[name] = agent
        return agent

    def restart_catalogd(self, catalog_cfg=None, sig=signal.SIGKILL):
        """Stops catalogd (kill -9 by default) and starts it again on the
        same database and ports; with catalog_cfg, on that config instead
        (CATALOG_CFG + catalog_cfg). Returns the stopped daemon's exit
        code (None after kill -9)."""
        rc = None
        if sig == signal.SIGKILL:
            self.catalogd.kill()
        else:
            rc = self.catalogd.stop(sig=sig)
        if catalog_cfg is not None:
            with open(self.catalogd.config, "w") as f:
                f.write(self.CATALOG_CFG + catalog_cfg)
        self.catalogd.start()
        return rc

    # -- the admin CLI --------------------------------------------------------

    def manage(self, *args, timeout=60):
        return manage(args, endpoint=self.catalogd.endpoint, timeout=timeout)

    def ok(self, *args, timeout=60):
        p = self.manage(*args, timeout=timeout)
        if p.returncode != 0:
            raise AssertionError("xensm-manage %s: exit %d\n%s%s" % (
                " ".join(args), p.returncode, p.stdout, p.stderr))
        return p

    def json(self, *args, timeout=60):
        return json.loads(self.ok("--json", *args, timeout=timeout).stdout)

    def volumes(self, all=True):
        args = ["volume", "list"] + (["--all"] if all else [])
        return {v["uuid"]: v for v in self.json(*args)["volumes"]}

    def hosts(self):
        return self.json("host", "list")["hosts"]

    # -- waiting ---------------------------------------------------------------

    def wait_until(self, what, predicate, timeout=30.0, interval=0.05):
        """Polls predicate() (through the admin API or the simulator) until it
        returns a true value, which is returned; fails after timeout."""
        return wait_for(what, predicate, timeout, interval)

    def wait_attached(self, counts, with_stats=True, timeout=30.0):
        """Waits until every live host reports `counts[zone]` attached SRs
        (with stats when asked)."""
        def done():
            hosts = [h for h in self.hosts() if h["state"] == "up"]
            for h in hosts:
                srs = h["srs"]
                if with_stats:
                    srs = [s for s in srs if "physical_size" in s]
                if len(srs) != counts.get(h["zone"], 0):
                    return False
            return len(hosts) > 0
        self.wait_until("SRs attached on every host", done, timeout)

    def wait_settled(self, timeout=60.0):
        """Waits until no volume is creating or deleting."""
        busy = ("creating", "deleting")
        return self.wait_until("every job to finish",
                               lambda: all(v["state"] not in busy
                                           for v in self.volumes().values())
                               and self.volumes(), timeout)

    # -- the simulator ---------------------------------------------------------

    def dump(self):
        d = self.sim.dump()
        return json.loads(d) if isinstance(d, str) else d

    def tagged_vdis(self):
        """volume uuid -> list of VDI records (every pool) tagged xensm-volume."""
        out = {}
        for pool in self.dump()["pools"]:
            srs = {sr["ref"]: sr["uuid"] for sr in pool["SRs"]}
            for vdi in pool["VDIs"]:
                tag = vdi.get("other_config", {}).get("xensm-volume")
                if tag:
                    out.setdefault(tag, []).append(dict(vdi, sr_uuid=srs.get(vdi["SR"]),
                                                        pool=pool["name"]))
        return out


def rawsend_curve(endpoint, server_cert, client_cert, frames, timeout_ms=5000):
    """xs_rawsend as a CURVE client (e.g. to the agent socket)."""
    return rawsend(endpoint, frames, timeout_ms, curve=(server_cert, client_cert))
