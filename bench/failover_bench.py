"""bench/failover_bench.py: section 5 of bench/run, catalog failover.

Two real xensm-catalogd, default leadership settings (leader_lease_ms 5000,
leader_retry_ms 1000), on one database of a real PostgreSQL 15 (fsync on,
started here by tests/support/pgtest.py), with bench agents
(bench/bench_agents.c, the real xs_agent) given both agent endpoints. Each
round: one create through xensm-manage with both admin endpoints proves the
leader serves; kill -9 of the leader; then the same CLI, with the same list,
creates one volume again and again (a new request id each try, 20 ms apart,
each try bounded by --timeout) until one is acknowledged. The figure is the
time from the kill to that acknowledgement: the follower's takeover, the
agents' move to it and the CLI finding it. The killed catalogd is started
again (it follows) before the next round, so the leader alternates.

Every process is started here, waited for (XENSM_READY_FD, or the server's
own state through the admin protocol) and stopped before returning.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

from catalog_bench import BenchError, Proc, log, pg_server

AGENTS = 4
BACKENDS = 4
TRY_TIMEOUT_S = 5               # the CLI's --timeout of one try
GIVE_UP_S = 120                 # a round that never serves again fails the row


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Pair:
    """Two catalogd on one PostgreSQL database and bench agents that know both."""

    def __init__(self, build_dir, db_uri):
        self.build_dir = build_dir
        self.dir = tempfile.mkdtemp(prefix="xensm-bench-failover-")
        self.cats = {}                  # name -> (argv, admin endpoint)
        self.procs = {}                 # name -> Proc
        self.agents = None
        self.tries = 0
        try:
            self._start(db_uri)
        except BaseException:
            self.close()
            raise

    def prog(self, *parts):
        return os.path.join(self.build_dir, *parts)

    def _start(self, db_uri):
        d = self.dir
        keys, certs = os.path.join(d, "agents"), os.path.join(d, "certs")
        os.mkdir(keys)
        os.mkdir(certs)
        subprocess.run([self.prog("bench", "xs-bench-agents"), "--prepare", "--dir", certs,
                        "--enroll", keys, "--agents", str(AGENTS)], check=True)
        cert = os.path.join(d, "server.cert")
        agent_endpoints = []
        for name in ("a", "b"):
            cfg = os.path.join(d, "catalog-%s.cfg" % name)
            with open(cfg, "w", encoding="utf-8") as f:
                f.write("[catalog]\ninstance = bench-%s\napi_listen = 127.0.0.1:0\n" % name)
            agent = "tcp://127.0.0.1:%d" % _free_port()
            agent_endpoints.append(agent)
            admin = "ipc://%s/admin-%s.sock" % (d, name)
            argv = [self.prog("catalog", "xensm-catalogd"), "--foreground", "-c", cfg,
                    "--db", db_uri, "--admin", admin, "--agent", agent, "--cert", cert,
                    "--agent-keys", keys]
            self.cats[name] = (argv, admin)
            self.start(name)
            if name == "a":
                self.wait_role("a", "leader")
        self.endpoints = ",".join(self.cats[n][1] for n in ("a", "b"))
        self.load("setup", "--backends", str(BACKENDS))
        self.agents = Proc([self.prog("bench", "xs-bench-agents"), "--catalog",
                            ",".join(agent_endpoints), "--catalog-key", cert, "--dir", certs,
                            "--agents", str(AGENTS)], os.path.join(d, "agents.log"))
        self.load("wait", "--backends", str(BACKENDS), "--hosts", str(AGENTS),
                  "--timeout-ms", "120000")

    def start(self, name):
        argv, _ = self.cats[name]
        self.procs[name] = Proc(argv, os.path.join(self.dir, "catalog-%s.log" % name))

    def role(self, name):
        """The role catalogd `name` reports in ping, or None."""
        out = self.manage(["--json", "catalog", "status"], endpoint=self.cats[name][1],
                          timeout=2)
        if out.returncode != 0:
            return None
        try:
            return json.loads(out.stdout).get("role")
        except ValueError:
            return None

    def wait_role(self, name, role, timeout=60.0):
        deadline = time.monotonic() + timeout
        while self.role(name) != role:
            if time.monotonic() > deadline:
                raise BenchError("catalogd %s is not %s after %.0f s" % (name, role, timeout))
            time.sleep(0.05)

    def leader(self):
        for name in ("a", "b"):
            if self.role(name) == "leader":
                return name
        return None

    def load(self, *args):
        """xs-bench-load against the leader (it takes one endpoint)."""
        leader = self.leader()
        if not leader:
            raise BenchError("xs-bench-load %s: no catalogd leads" % args[0])
        argv = [self.prog("bench", "xs-bench-load"), "--endpoint",
                self.cats[leader][1]] + list(args)
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=600, check=False)
        if done.returncode != 0:
            raise BenchError("xs-bench-load %s: %s" % (args[0], done.stderr.strip()))
        return done.stdout

    def manage(self, args, endpoint=None, timeout=TRY_TIMEOUT_S):
        env = {k: v for k, v in os.environ.items() if not k.startswith("XENSM_")}
        return subprocess.run([self.prog("catalog", "xensm-manage"), "--endpoint",
                               endpoint or self.endpoints, "--timeout", str(timeout)]
                              + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env, check=False)

    def create(self, rid):
        self.tries += 1
        return self.manage(["volume", "create", "--flavor", "bench", "--size", "1G",
                            "--request-id", rid]).returncode == 0

    def kill_and_measure(self, k):
        """One round: seconds from kill -9 of the leader to the next
        acknowledged create through the CLI's endpoint list."""
        leader = self.leader()
        if not leader:
            raise BenchError("round %d: no catalogd leads" % k)
        follower = "b" if leader == "a" else "a"
        self.wait_role(follower, "follower")
        if not self.create("warm-%d" % k):
            raise BenchError("round %d: a create before the kill failed" % k)
        proc = self.procs[leader].proc
        t0 = time.monotonic()
        proc.kill()
        proc.wait()
        n = 0
        while True:
            n += 1
            if self.create("after-%d-%d" % (k, n)):
                took = time.monotonic() - t0
                break
            if time.monotonic() - t0 > GIVE_UP_S:
                raise BenchError("round %d: no create acknowledged %d s after the kill"
                                 % (k, GIVE_UP_S))
            time.sleep(0.02)
        self.procs[leader].close()
        self.start(leader)              # it comes back as the follower
        # The agents all registered with the new leader before the next kill.
        self.load("wait", "--backends", str(BACKENDS), "--hosts", str(AGENTS),
                  "--timeout-ms", "120000")
        return took, n

    def close(self):
        if self.agents:
            self.agents.close()
        for p in self.procs.values():
            p.close()
        self.procs = {}
        shutil.rmtree(self.dir, ignore_errors=True)


def rows(build_dir, kills=10):
    """5 failover: kill -9 of the leader to the next acknowledged create,
    p50 and max over `kills` kills."""
    what = ("failover: kill -9 of the leader to the next acknowledged create "
            "(xensm-manage with both endpoints), 2 catalogd on PostgreSQL, %d agents" % AGENTS)
    server, why = pg_server()
    if not server:
        return [["5 failover", what, "not measured: %s" % why, "-", "-", "max <10 s"]]
    pair = None
    try:
        pair = Pair(build_dir, server.create_db("bench_failover"))
        times, tries = [], []
        for k in range(kills):
            took, n = pair.kill_and_measure(k)
            log("5. failover %d/%d: %.2f s (%d tries)" % (k + 1, kills, took, n))
            times.append(took)
            tries.append(n)
    finally:
        if pair:
            pair.close()
        server.stop()
    return [["5 failover", what,
             "p50 %.2f s, max %.2f s over %d kills (tries per round: median %d, max %d)"
             % (statistics.median(times), max(times), kills, statistics.median(tries),
                max(tries)),
             "-", "-", "max <10 s: %s" % ("met" if max(times) < 10 else "MISSED")]]
