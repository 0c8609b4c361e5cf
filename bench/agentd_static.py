#!/usr/bin/env python3
"""xensm-agentd start-up, static (XENSM_STATIC_HOST) vs dynamic (issue 14).

    bench/agentd_static.py BUILD_DYNAMIC BUILD_STATIC [--rounds N]

Starts one xapi simulator and one xensm-catalogd (from BUILD_DYNAMIC), then
starts the agent of each build in turn, interleaved, N times each: the time
from exec to READY (XENSM_READY_FD: registered with the catalog over
loopback TCP, CURVE handshake and the first xapi calls included) and its
peak RSS (VmHWM) at READY; and, alone, the fork+exec+exit of
`xensm-agentd --version` (what the loader costs). Prints one table row per build (median, p10, p90
of the times; max of the RSS) in bench/results.md's format.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dynamic", help="build tree with the dynamic xensm-agentd")
    parser.add_argument("static", help="build tree configured with XENSM_STATIC_HOST=ON")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    agents = {name: os.path.abspath(os.path.join(tree, "hostagent", "xensm-agentd"))
              for name, tree in (("dynamic", args.dynamic), ("static", args.static))}
    os.environ["XENSM_PROG_XENSM_CATALOGD"] = os.path.abspath(
        os.path.join(args.dynamic, "catalog", "xensm-catalogd"))
    os.environ["XENSM_PROG_XENSM_MANAGE"] = os.path.abspath(
        os.path.join(args.dynamic, "catalog", "xensm-manage"))
    os.environ["XENSM_PROG_XS_RAWSEND"] = os.path.abspath(
        os.path.join(args.dynamic, "tests", "integration", "xs_rawsend"))
    os.environ["XENSM_PROG_XENSM_AGENTD"] = agents["dynamic"]
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
    import xsm

    class Holder(unittest.TestCase):
        def runTest(self):
            pass

    # Exec cost alone: `xensm-agentd --version` (loader, relocations, libc
    # and library constructors, exit), interleaved.
    version = {name: [] for name in agents}
    for _ in range(args.rounds * 3):
        for name, path in agents.items():
            t0 = time.perf_counter()
            subprocess.run([path, "--version"], check=True, stdout=subprocess.DEVNULL)
            version[name].append((time.perf_counter() - t0) * 1000)
    for name, times in version.items():
        q = statistics.quantiles(times, n=10)
        print(f"| 4 host | xensm-agentd --version, fork+exec to exit, {name}, median of "
              f"{len(times)} | {statistics.median(times):.2f} ms (p10 {q[0]:.2f}, "
              f"p90 {q[-1]:.2f}) | - | - | - |")

    holder = Holder()
    workdir = tempfile.mkdtemp(prefix="xs-bench-agentd-")
    try:
        world = xsm.World(holder, workdir, start_agents=False)
        host = world.sim.host("a1")
        results = {name: ([], []) for name in agents}
        # One key pair for both builds: the catalog binds a host to its key.
        cert = os.path.join(workdir, "a1.cert")
        world.new_agent("a1", "za", cert=cert).gen_cert()
        world.ok("host", "enroll", cert)
        for _ in range(args.rounds):
            for name, path in agents.items():
                xsm.AGENTD = path
                agent = xsm.Agentd(workdir, "a1", "za", world.agent_endpoint,
                                   world.catalogd.cert, host["unix"], host["uuid"],
                                   cert=cert)
                t0 = time.perf_counter()
                agent.start()
                elapsed = time.perf_counter() - t0
                results[name][0].append(elapsed * 1000)
                results[name][1].append(vm_hwm_kib(agent.proc.pid) / 1024)
                agent.kill(sig=15)
        for name, (times, rss) in results.items():
            q = statistics.quantiles(times, n=10)
            size = os.path.getsize(agents[name]) / 1e6
            print(f"| 4 host | xensm-agentd start-up, exec to READY (registered), {name} "
                  f"({size:.0f} MB file), median of {args.rounds} | "
                  f"{statistics.median(times):.1f} ms (p10 {q[0]:.1f}, p90 {q[-1]:.1f}), "
                  f"peak RSS at READY {max(rss):.2f} MiB | - | - | - |")
    finally:
        holder.doCleanups()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
