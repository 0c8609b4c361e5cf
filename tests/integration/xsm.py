"""Shared helpers for xensm integration tests (Python 3 standard library only).

Starts the REAL programs from the build tree (env XENSM_BUILD_DIR, set by
xensm_integration_test) in temp dirs, waits for readiness through
XENSM_READY_FD (never sleeps), and always stops what it started.
"""
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

BUILD_DIR = os.environ.get("XENSM_BUILD_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "build"))
SOURCE_DIR = os.environ.get("XENSM_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))

CATALOGD = os.path.join(BUILD_DIR, "catalog", "xensm-catalogd")
MANAGE = os.path.join(BUILD_DIR, "catalog", "xensm-manage")
RAWSEND = os.path.join(BUILD_DIR, "tests", "integration", "xs_rawsend")

READY_TIMEOUT = 20.0


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
                 foreground=True, verbose=True, agent_endpoint="tcp://127.0.0.1:*"):
        self.workdir = workdir
        self.db = db or os.path.join(workdir, "catalog.db")
        self.endpoint = endpoint or "ipc://%s" % os.path.join(workdir, "run", "admin.sock")
        # The agent side: an ephemeral port (ping tells which), the
        # certificate and allow-list in the work dir.
        self.agent_endpoint = agent_endpoint
        self.cert = os.path.join(workdir, "catalog.cert")
        self.agent_keys = os.path.join(workdir, "agents")
        self.config = config
        self.args = list(args)
        self.foreground = foreground
        self.verbose = verbose
        self.proc = None
        self.log_path = os.path.join(workdir, "catalogd-%d.log" % id(self))

    def command(self):
        cmd = [CATALOGD, "--db", self.db, "--admin", self.endpoint,
               "--agent", self.agent_endpoint, "--cert", self.cert,
               "--agent-keys", self.agent_keys]
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
        try:
            self.proc = subprocess.Popen(
                self.command(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                pass_fds=(wfd,), env=clean_env(XENSM_READY_FD=str(wfd)))
        finally:
            os.close(wfd)
            log.close()
        try:
            data = b""
            deadline = time.monotonic() + READY_TIMEOUT
            while b"\n" not in data:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.kill()
                    raise AssertionError("catalogd: no READY within %.0f s" % READY_TIMEOUT)
                ready, _, _ = select.select([rfd], [], [], left)
                if not ready:
                    continue
                chunk = os.read(rfd, 64)
                if not chunk:
                    break
                data += chunk
        finally:
            os.close(rfd)
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
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

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


def rawsend(endpoint, frames, timeout_ms=5000):
    """Sends raw frames with xs_rawsend; returns (rc, reply frames)."""
    proc = subprocess.run([RAWSEND, "--timeout", str(timeout_ms), endpoint] + list(frames),
                          capture_output=True, timeout=timeout_ms / 1000 + 20)
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
