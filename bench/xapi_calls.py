"""Section 4 of bench/run: XenAPI calls that land on the pool master (issue 11,
"Fewer calls to the master"), counted by the xapi simulator itself.

The real programs of the build tree: xensm-catalogd, four xensm-agentd (the
end-to-end world of tests/integration/xsm.py: pool-a a1, a2 in zone za,
pool-b b1, b2 in zone zb, tests/xapisim) and xensm-manage. One nfs backend
in za. Then:
  - per create: `volume create` N times; the calls of the agents' sessions
    that ran an Async.VDI.create (a worker's session: not the SR-stats
    watch's), split into the create's own calls and the task follow-up
    (task.*, event.from), per create;
  - per idle minute: nothing asked for W seconds; every agent's calls except
    event.from (the waiting long poll), per agent, scaled to a minute; the
    event.from rounds shown beside.
"""
import json
import os
import shutil
import subprocess
import tempfile
import time

SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


class _Cleanups:
    """What xsm.World wants of a unittest.TestCase: addCleanup."""

    def __init__(self):
        self.fns = []

    def addCleanup(self, fn, *args):  # noqa: N802 - unittest's name
        self.fns.append((fn, args))

    def run(self):
        for fn, args in reversed(self.fns):
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - best effort on the way out
                pass


def _world(build_dir, workdir, cleanups):
    env = {"XENSM_PROG_XENSM_CATALOGD": os.path.join(build_dir, "catalog", "xensm-catalogd"),
           "XENSM_PROG_XENSM_MANAGE": os.path.join(build_dir, "catalog", "xensm-manage"),
           "XENSM_PROG_XENSM_AGENTD": os.path.join(build_dir, "hostagent", "xensm-agentd"),
           # xsm.py wants it; this section never sends raw frames.
           "XENSM_PROG_XS_RAWSEND": "/bin/false",
           "XENSM_BUILD_DIR": build_dir, "XENSM_SOURCE_DIR": SOURCE_DIR}
    os.environ.update(env)
    import sys
    path = os.path.join(SOURCE_DIR, "tests", "integration")
    if path not in sys.path:
        sys.path.insert(0, path)
    import xsm  # pylint: disable=import-outside-toplevel

    def ping(catalogd):
        # The bench tree has no xs_rawsend (BUILD_TESTING=OFF): the same
        # answer through the admin CLI.
        p = xsm.manage(["--json", "catalog", "status"], endpoint=catalogd.endpoint)
        if p.returncode != 0:
            raise RuntimeError("catalog status: %s" % p.stderr)
        return json.loads(p.stdout)
    xsm.Catalogd.ping = ping
    return xsm.World(cleanups, workdir)


def _diff(before, after):
    out = {}
    for k, v in after.items():
        n = v - before.get(k, 0)
        if n:
            out[k] = n
    return out


def _follow_up(method):
    return method.startswith("task.") or method == "event.from"


def measure(build_dir, creates=5, idle_s=60.0):
    """{create, follow, create_methods, idle_per_min, events_per_min}."""
    cleanups = _Cleanups()
    workdir = tempfile.mkdtemp(prefix="xs-bench-xapi-")
    try:
        w = _world(build_dir, workdir, cleanups)
        w.ok("sm", "flavor_create", "gold", "bench")
        w.ok("--yes", "sm", "backend_add", "gold", "nfs", "name_label=bench", "server=filer",
             "serverpath=/bench", "zone=za")
        w.wait_attached({"za": 1})
        w.sim.wait_idle()
        before = w.sim.call_counts()["sessions"]
        for i in range(creates):
            w.ok("volume", "create", "--flavor", "gold", "--size", "1G",
                 "--request-id", "bench-%d" % i)
        w.wait_settled()
        w.sim.wait_idle()
        after = w.sim.call_counts()["sessions"]
        create_calls, follow_calls = {}, {}
        for sref, info in after.items():
            methods = _diff(before.get(sref, {}).get("methods", {}), info["methods"])
            if not methods.get("Async.VDI.create"):
                continue
            for m, n in methods.items():
                into = follow_calls if _follow_up(m) else create_calls
                into[m] = into.get(m, 0) + n

        # Idle: the agents' calls while nothing is asked.
        t0 = time.monotonic()
        before = w.sim.counts()
        time.sleep(idle_s)       # the measurement window itself
        after = w.sim.counts()
        seconds = time.monotonic() - t0
        idle = _diff(before, after)
        agents = len(w.agents)
        per_min = 60.0 / seconds / agents
        return {
            "create": sum(create_calls.values()) / creates,
            "follow": sum(follow_calls.values()) / creates,
            "create_methods": {m: n / creates for m, n in sorted(create_calls.items())},
            "idle_per_min": sum(n for m, n in idle.items() if m != "event.from") * per_min,
            "idle_methods": {m: round(n * per_min, 2) for m, n in sorted(idle.items())},
            "events_per_min": idle.get("event.from", 0) * per_min,
            "creates": creates, "idle_s": seconds, "agents": agents,
        }
    finally:
        cleanups.run()
        shutil.rmtree(workdir, ignore_errors=True)


def rows(build_dir, creates=5, idle_s=60.0):
    try:
        r = measure(build_dir, creates, idle_s)
    except Exception as e:  # noqa: BLE001 - the row says why
        return [("4 xapi calls", "XenAPI calls per volume create and per idle agent minute",
                 "not measured: %s" % e, "-", "-", "-")]
    methods = ", ".join("%s %g" % (m, n) for m, n in r["create_methods"].items())
    idle = ", ".join("%s %g" % (m, n) for m, n in r["idle_methods"].items()) or "none"
    met_create = "met" if r["create"] <= 3 else "MISSED"
    met_idle = "met" if r["idle_per_min"] <= 1 else "MISSED"
    return [
        ("4 xapi calls", "XenAPI calls per volume create through xensm-agentd (xapisim's own "
         "counts, the sessions that ran Async.VDI.create, %d creates): %s"
         % (r["creates"], methods),
         "%.1f (+ %.1f following the task: task.*, event.from)" % (r["create"], r["follow"]),
         "was 4 (SR.get_by_uuid, VDI.get_by_name_label, VDI.create, VDI.get_record), no task",
         "-", "<=3 besides the task follow-up: %s" % met_create),
        ("4 xapi calls", "XenAPI calls of an idle agent per minute besides a waiting event.from "
         "(4 agents, %.0f s window; per agent and minute: %s)" % (r["idle_s"], idle),
         "%.2f (event.from rounds: %.1f)" % (r["idle_per_min"], r["events_per_min"]),
         "was 2 per SR per heartbeat x stats_every (SR.get_by_uuid + SR.get_record)",
         "-", "<=1 per minute: %s" % met_idle),
    ]


if __name__ == "__main__":
    import sys
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(SOURCE_DIR, "build")
    print(json.dumps(measure(build, idle_s=float(sys.argv[2]) if len(sys.argv) > 2 else 60.0),
                     indent=2))
