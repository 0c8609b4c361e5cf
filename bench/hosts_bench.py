"""bench/hosts_bench.py: the 10,000-agent row of bench/run (section 3).

The real xensm-catalogd (durable SQLite, default heartbeat_ms 1000) with
its 100 backends and 10 bench agents (bench/catalog_bench.py's Stack), plus
N light bench hosts (bench/bench_hosts.c: one DEALER socket and CURVE key
per host, register/welcome/sr_state/heartbeat as xensm-agentd, up to
HOSTS_PER_PROC per process, each process raising its descriptor limit) in
zones of 100 hosts (a pool), each zone with one backend of its own. Measures,
for N = the small and the large count: catalogd CPU over an idle window
(only heartbeats), per heartbeat and as a share of a core; its RSS; and the
create latency at window 1 with the 10 agents' backends, so that the large
count can be compared with the small one. Every process is started here,
waited for and stopped before returning.
"""

import json
import os
import resource
import subprocess
import time

import catalog_bench
from catalog_bench import BenchError, Proc, Stack, log

HOSTS_PER_PROC = 2500           # 2 descriptors per host (TCP + mailbox)
PER_ZONE = 100
READY_S = 600.0                 # for one process's hosts to be welcomed


class NotReached(Exception):
    """Not every bench host was welcomed in time: how far it got."""

    def __init__(self, started, elapsed):
        super().__init__("not every host welcomed after %.0f s" % elapsed)
        self.started = started          # the processes that were started
        self.elapsed = elapsed


def raise_nofile():
    """This process's (and so its children's) soft descriptor limit to the
    hard one: catalogd holds one TCP connection per host."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _start_hosts(stack, n):
    """n bench hosts on stack's catalogd, their zones' backends added; the
    processes, once every host is welcomed."""
    certs = os.path.join(stack.dir, "hostcerts")
    os.mkdir(certs)
    keys = os.path.join(stack.dir, "agents")
    prog = stack.prog("bench", "xs-bench-hosts")
    procs = []
    for first in range(0, n, HOSTS_PER_PROC):
        count = min(HOSTS_PER_PROC, n - first)
        subprocess.run([prog, "--prepare", "--dir", certs, "--enroll", keys,
                        "--first", str(first), "--hosts", str(count)], check=True)
    for zone in range((n + PER_ZONE - 1) // PER_ZONE):
        stack.load("setup", "--backends", "1", "--zone", "scale-%d" % zone,
                   "--flavor", "scale-%d" % zone, "--first", str(100000 + zone))
    # The allow-list directory was just written: catalogd reads it again
    # while it is younger than 2 s (see xs_allowlist).
    agent_endpoint = stack.load("ping").split()[0]
    started = time.monotonic()
    try:
        for first in range(0, n, HOSTS_PER_PROC):
            count = min(HOSTS_PER_PROC, n - first)
            procs.append(Proc([prog, "--catalog", agent_endpoint, "--catalog-key",
                               os.path.join(stack.dir, "server.cert"), "--dir", certs,
                               "--first", str(first), "--hosts", str(count),
                               "--per-zone", str(PER_ZONE)],
                              os.path.join(stack.dir, "hosts%d.log" % first),
                              ready_timeout=READY_S))
    except BenchError as exn:
        # Proc closed the process that was not ready; the others are
        # still connected: the caller measures how far it got.
        log("   %s" % exn)
        raise NotReached(procs, time.monotonic() - started) from exn
    except BaseException:
        for p in procs:
            p.close()
        raise
    return procs


def measure(build_dir, n, idle_s, creates):
    """catalogd with n bench hosts besides its 10 agents: idle CPU, RSS,
    create latency at window 1."""
    stack = procs = None
    try:
        stack = Stack(build_dir, "catalog")
        started = time.monotonic()
        try:
            procs = _start_hosts(stack, n)
        except NotReached as partial:
            procs = partial.started
            return _partial(stack, n, time.monotonic() - started)
        connect_s = time.monotonic() - started
        # Two heartbeat intervals for the SR attaches and the first stats.
        time.sleep(2.0)
        cpu0, t0 = stack.server.cpu_s(), time.monotonic()
        time.sleep(idle_s)
        cpu = stack.server.cpu_s() - cpu0
        wall = time.monotonic() - t0
        out = {"hosts": n, "connect_s": connect_s, "core": cpu / wall,
               "us_per_beat": cpu / (wall * (n + catalog_bench.AGENTS)) * 1e6,
               "rss": stack.server.status_kib("VmRSS") / 1024.0,
               "hwm": stack.server.status_kib("VmHWM") / 1024.0}
        stack.run(min(creates, 100), 1, "warm")
        out["run"] = stack.run(creates, 1, "hosts")
        down = _hosts_down(stack, n)
        if down:
            raise BenchError("%d of %d bench hosts were marked down during the run" % (down, n))
        log("   %d hosts: connected in %.0f s, catalogd %.1f%% of a core idle (%.1f us per "
            "heartbeat), RSS %.1f MiB, create p50 %.2f ms p99 %.2f ms"
            % (n, connect_s, out["core"] * 100, out["us_per_beat"], out["rss"],
               out["run"]["create"]["p50"], out["run"]["create"]["p99"]))
        return out
    finally:
        for p in procs or []:
            p.close()
        if stack:
            stack.close()


def _partial(stack, n, elapsed):
    """What a run that did not get every host welcomed reached: hosts up,
    catalogd's RSS and CPU share over the last seconds."""
    try:
        up = n - _hosts_down(stack, n)
        what = "up"
    except subprocess.SubprocessError:
        # Too busy to answer the admin (its agents' backlog first): the
        # hosts that registered at least once, by its log.
        up, what = _registered(stack), "registered (catalogd too busy to list them)"
    cpu0, t0 = stack.server.cpu_s(), time.monotonic()
    time.sleep(5.0)
    core = (stack.server.cpu_s() - cpu0) / (time.monotonic() - t0)
    out = {"hosts": n, "reached": up, "what": what, "connect_s": elapsed, "core": core,
           "rss": stack.server.status_kib("VmRSS") / 1024.0,
           "hwm": stack.server.status_kib("VmHWM") / 1024.0,
           "load": os.getloadavg()[0]}
    log("   %d hosts: only %d %s after %.0f s (load average %.1f); catalogd %.1f%% of a core, "
        "RSS %.1f MiB" % (n, up, what, elapsed, out["load"], core * 100, out["rss"]))
    return out


def _registered(stack):
    """Bench hosts that registered at least once, by catalogd's log."""
    seen = set()
    with open(os.path.join(stack.dir, "catalog.log"), encoding="utf-8", errors="replace") as f:
        for line in f:
            if " registered in zone " in line and "00000000-0000-4000-a000-" in line:
                seen.add(line.split("host ", 1)[1].split(" ", 1)[0])
    return len(seen)


def _hosts_down(stack, n):
    """Bench hosts catalogd does not count as up (missed heartbeats), by
    its own host list."""
    out = subprocess.run([stack.prog("catalog", "xensm-manage"), "--endpoint", stack.endpoint,
                          "--json", "host", "list"], stdout=subprocess.PIPE, text=True,
                         check=True, timeout=120).stdout
    hosts = json.loads(out)
    hosts = hosts.get("hosts", hosts) if isinstance(hosts, dict) else hosts
    up = sum(1 for h in hosts
             if h.get("uuid", "").startswith("00000000-0000-4000-a000-") and h["state"] == "up")
    return n - up


def rows(build_dir, sizes, idle_s, creates):
    """The 10,000-agent rows: sizes = (small, large)."""
    limit = raise_nofile()
    need = 2 * HOSTS_PER_PROC + 100
    if limit < max(sizes) + 100 or limit < need:
        return [("3 hosts", "%s connected agents on one catalogd" % "{:,}".format(sizes[-1]),
                 "not measured: descriptor limit %d (hard), %d needed"
                 % (limit, max(max(sizes), need) + 100), "-", "-", "-")]
    res = {}
    for n in sizes:
        log("3. hosts: %d bench hosts (%d per process, zones of %d with a backend each), "
            "%.0f s idle, %d creates at window 1" % (n, HOSTS_PER_PROC, PER_ZONE, idle_s, creates))
        res[n] = measure(build_dir, n, idle_s, creates)
    small, large = res[sizes[0]], res[sizes[-1]]
    if "reached" in small or "reached" in large:
        return _partial_rows(small, large)
    ratio = large["run"]["create"]["p50"] / small["run"]["create"]["p50"]
    fmt = "{:,}".format
    return [
        ("3 hosts", "catalogd CPU with %s connected agents (+%d), heartbeats only at the default "
         "1 s (idle %.0f s): share of a core, per heartbeat; connect+register of all"
         % (fmt(large["hosts"]), catalog_bench.AGENTS, idle_s),
         "%.1f%% of a core, %.1f us/heartbeat; %.0f s"
         % (large["core"] * 100, large["us_per_beat"], large["connect_s"]),
         "%s agents: %.1f%%, %.1f us" % (fmt(small["hosts"]), small["core"] * 100,
                                         small["us_per_beat"]), "-",
         "<=50%% of a core: %s" % ("met" if large["core"] <= 0.5 else "MISSED")),
        ("3 hosts", "catalogd RSS (VmRSS / VmHWM) with %s connected agents" % fmt(large["hosts"]),
         "%.1f / %.1f MiB" % (large["rss"], large["hwm"]),
         "%s agents: %.1f / %.1f MiB" % (fmt(small["hosts"]), small["rss"], small["hwm"]), "-",
         "<=256 MiB: %s" % ("met" if large["hwm"] <= 256 else "MISSED")),
        ("3 hosts", "create latency (placement among the %d agents' backends) at window 1, p50 / "
         "p99, with %s connected agents" % (catalog_bench.AGENTS, fmt(large["hosts"])),
         "%.2f / %.2f ms" % (large["run"]["create"]["p50"], large["run"]["create"]["p99"]),
         "%s agents: %.2f / %.2f ms" % (fmt(small["hosts"]), small["run"]["create"]["p50"],
                                        small["run"]["create"]["p99"]),
         "p50 %.2fx" % ratio, "unchanged (<=1.5x): %s" % ("met" if ratio <= 1.5 else "MISSED")),
    ]


def _partial_rows(small, large):
    """The row when a size was not reached: how far, and catalogd's RSS
    per connected agent between the two sizes."""
    fmt = "{:,}".format
    bad = large if "reached" in large else small
    got = bad["reached"]
    slope = ""
    if "reached" not in small and got > small["hosts"]:
        slope = "; RSS %.1f KiB per added agent" % (
            (bad["rss"] - small["rss"]) * 1024 / (got - small["hosts"]))
    return [("3 hosts", "%s connected agents on one catalogd" % fmt(bad["hosts"]),
             "not measured: only %s of %s %s after %.0f s (load average %.1f); catalogd "
             "%.1f%% of a core, RSS %.1f MiB%s" % (fmt(got), fmt(bad["hosts"]), bad["what"],
                                                  bad["connect_s"], bad["load"],
                                                  bad["core"] * 100, bad["rss"], slope),
             "-", "-", "MISSED")]
