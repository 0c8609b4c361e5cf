"""Faults found by the campaigns of ../shared/review/fault-campaigns.md (issue
11): each test reproduces one with the real programs and the xapi simulator,
and checks the fixed behaviour."""
import json
import os
import resource
import shutil
import socket
import tempfile
import unittest

import xsm

GIB = 1024 ** 3
MIB = 1024 ** 2


class Faults(unittest.TestCase):
    CAPACITY = ()
    NOFILE = None

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="xsm-faults-")
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.w = xsm.World(self, self.workdir, capacity=self.CAPACITY,
                           catalogd_nofile=self.NOFILE)
        self.addCleanup(self.dump_logs_on_failure)

    def dump_logs_on_failure(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        errors = getattr(outcome, "errors", None) or []
        failed = any(e for _, e in errors) or (
            result is not None and any(t is self for t, _ in result.failures + result.errors))
        if failed:
            print("---- catalogd log (tail) ----\n" + self.w.catalogd.log()[-6000:])

    def add_gold(self, *extra, path="/g1"):
        w = self.w
        if not any(f["label"] == "gold" for f in w.json("sm", "flavor_list")["flavors"]):
            w.ok("sm", "flavor_create", "gold", "NFS in za")
        out = w.json("--yes", "sm", "backend_add", "gold", "nfs", "name_label=gold" + path,
                     "server=filer", "serverpath=" + path, "zone=za", *extra)
        return out["backend"]["id"]

    def create(self, *args, timeout=60):
        return self.w.json("volume", "create", *args, timeout=timeout)["volume"]


class DescriptorFlood(Faults):
    """D1: idle unauthenticated connections to the agent port used up the
    descriptors, and libzmq aborted catalogd at the next admin connection
    (EMFILE in the ipc listener)."""
    NOFILE = (1024, 1024)

    def test_idle_connection_flood_is_shed(self):
        w = self.w
        self.add_gold()
        w.wait_attached({"za": 1})
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 1400:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
        host, port = w.agent_endpoint[len("tcp://"):].rsplit(":", 1)
        flood = []
        self.addCleanup(lambda: [s.close() for s in flood])
        refused = 0
        for _ in range(1100):
            # Without a guard the daemon stops accepting at its limit (the
            # backlog fills): those connects time out.
            try:
                flood.append(socket.create_connection((host, int(port)), timeout=2))
            except OSError:
                refused += 1
                if refused > 3:
                    break
        # The admin socket and a create still work; the daemon lives.
        w.ok("catalog", "status")
        v = self.create("--flavor", "gold", "--size", "16M")
        self.assertEqual(v["state"], "available")
        self.assertTrue(w.catalogd.running())
        pid = w.catalogd.proc.pid
        self.assertLess(len(os.listdir("/proc/%d/fd" % pid)), 1024)
        w.wait_until("the shed connections logged",
                     lambda: "shed" in w.catalogd.log() and "handshake interval"
                     in w.catalogd.log())
        # The agents still serve (their connections were not shed).
        self.assertTrue(all(h["state"] == "up" for h in w.hosts()))

    def test_soft_limit_raised_to_hard(self):
        d = xsm.Catalogd(self.workdir, db=os.path.join(self.workdir, "second.db"),
                         endpoint="ipc://" + os.path.join(self.workdir, "second.sock"))
        d.cert = os.path.join(self.workdir, "second.cert")
        d.nofile = (256, 1024)
        self.addCleanup(d.kill)
        d.start()
        with open("/proc/%d/limits" % d.proc.pid) as f:
            line = [l for l in f if l.startswith("Max open files")][0]
        self.assertEqual(line.split()[3:5], ["1024", "1024"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
