"""Faults found by the campaigns of ../shared/review/fault-campaigns.md (issue
11): each test reproduces one with the real programs and the xapi simulator,
and checks the fixed behaviour."""
import json
import os
import resource
import shutil
import socket
import tempfile
import threading
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
        xsm.dump_logs_on_failure(self, self.w)

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



class RequestIdRetry(Faults):
    """D3: a create whose request id had made a volume now in `error` exited
    0 (text and --json), and the id could never succeed. Now a failed create
    is placed again when its request id is asked for again (PROTOCOL.md)."""

    def test_failed_request_id_is_retried(self):
        w = self.w
        self.add_gold()
        w.wait_attached({"za": 1})
        for json_out in (False, True):
            rid = "r-json" if json_out else "r-text"
            args = (["--json"] if json_out else []) + [
                "volume", "create", "--flavor", "gold", "--size", "16M", "--request-id", rid]
            w.sim.fail("VDI.create", "SR_BACKEND_FAILURE_78", ["", "VDI creation failed", ""],
                       repeat=True)
            for _ in range(2):
                p = w.manage(*args)
                self.assertNotEqual(p.returncode, 0, p.stdout)
                self.assertIn("VDI creation failed", p.stdout + p.stderr)
            failed = [v for v in w.volumes().values() if v.get("request_id") == rid]
            self.assertEqual(len(failed), 1)
            self.assertEqual(failed[0]["state"], "error")
            w.sim.clear_faults()
            p = w.manage(*args)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            if json_out:
                v = json.loads(p.stdout)["volume"]
                self.assertEqual((v["uuid"], v["state"]), (failed[0]["uuid"], "available"))
            else:
                self.assertIn(failed[0]["uuid"], p.stdout)
                self.assertIn("available", p.stdout)
            # Asked again: the same volume, no new one.
            again = w.json("volume", "create", "--flavor", "gold", "--size", "16M",
                           "--request-id", rid)["volume"]
            self.assertEqual(again["uuid"], failed[0]["uuid"])
        self.assertEqual(len(w.tagged_vdis()), 2)


class CreateAfterRestart(Faults):
    """D4: a create right after a catalog restart, before the agents had
    registered again, failed at once with "no live agent in zone"; it waits
    up to job_wait_ms for an agent of the zone now."""

    def test_create_waits_for_agents_to_register(self):
        w = self.w
        self.add_gold()
        w.wait_attached({"za": 1})
        for name in ("a1", "a2"):
            w.agents[name].kill()
        w.catalogd.stop()
        w.catalogd.start()
        out = {}
        t = threading.Thread(target=lambda: out.update(
            p=w.manage("--json", "volume", "create", "--flavor", "gold", "--size", "16M")))
        t.start()
        # (Before the fix the create failed at once instead.)
        w.wait_until("the create waiting for an agent",
                     lambda: "waiting up to" in w.catalogd.log() or not t.is_alive())
        for name in ("a1", "a2"):
            w.agents[name].start()
        t.join(60)
        p = out["p"]
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(json.loads(p.stdout)["volume"]["state"], "available")

    def test_gives_up_after_job_wait(self):
        w = self.w
        self.add_gold()
        w.wait_attached({"za": 1})
        for name in ("a1", "a2"):
            w.agents[name].kill()
        w.wait_until("za's agents down", lambda: all(
            h["state"] != "up" for h in w.hosts() if h["zone"] == "za"))
        p = w.manage("volume", "create", "--flavor", "gold", "--size", "16M", timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no live agent", p.stderr)



class ReserveBackToBack(Faults):
    """D2: creates back to back were judged against the last SR stats, which
    did not count the volumes placed since: a 2 GiB SR with reserve=50 took
    8 x 256 MiB. Placement counts them now."""
    CAPACITY = (({"serverpath": "/small"}, 2 * GIB),)

    def test_reserve_holds_for_a_burst(self):
        w = self.w
        small = self.add_gold("reserve=50", path="/small")
        big = self.add_gold(path="/big")
        w.wait_attached({"za": 2})
        out = []

        def create(i):
            out.append(w.manage("--json", "volume", "create", "--flavor", "gold",
                                "--size", "256M", "--name", "b%d" % i))
        threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        for p in out:
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        placed = [json.loads(p.stdout)["volume"]["backend_id"] for p in out]
        self.assertEqual(len(placed), 8)
        self.assertLessEqual(placed.count(small), 4, placed)
        self.assertEqual(placed.count(small) + placed.count(big), 8)
        # One by one as well: the limit (1 GiB) holds.
        for i in range(4):
            v = self.create("--flavor", "gold", "--size", "256M")
            self.assertEqual(v["state"], "available")
        on_small = [v for v in w.volumes().values()
                    if v["backend_id"] == small and v["state"] == "available"]
        self.assertLessEqual(len(on_small), 4)



class SecretInXapiError(Faults):
    """D7: a secret inside a xapi error text (an SR.create failure quoting
    the CHAP password, with its key and bare) showed in backend_list and the
    logs. Redacted now: secret key=value pairs and the backend's secret
    values."""

    def test_sr_create_failure_text_is_redacted(self):
        w = self.w
        secret = "s3cret-chap-ZZ9"
        w.sim.fail("SR.create", "SR_BACKEND_FAILURE_68",
                   ["", "iscsiadm --login chappassword=%s failed; CHAP secret %s was "
                    "refused by the target" % (secret, secret), ""], repeat=True)
        w.ok("sm", "flavor_create", "silver", "iSCSI in zb")
        w.ok("--yes", "sm", "backend_add", "silver", "lvmoiscsi", "name_label=silver-1",
             "zone=zb", "target=10.0.0.5", "targetIQN=iqn.2004-04.com.example:lun1",
             "SCSIid=3600a0b80", "chapuser=xensm", "chappassword=" + secret)

        def failed():
            b = w.json("sm", "backend_list")["backends"][0]
            return b if "SR_BACKEND_FAILURE_68" in (b.get("error") or "") else None
        b = w.wait_until("the SR.create failure recorded", failed)
        self.assertIn("chappassword=******", b["error"])
        self.assertIn("CHAP secret ****** was refused", b["error"])
        shown = w.ok("sm", "backend_list").stdout + w.ok("--json", "sm", "backend_list").stdout
        self.assertIn("SR_BACKEND_FAILURE_68", shown)
        logs = w.catalogd.log() + "".join(a.log() for a in w.agents.values())
        self.assertIn("SR_BACKEND_FAILURE_68", logs)
        for where, text in (("backend_list", shown), ("logs", logs)):
            self.assertNotIn(secret, text, where)


if __name__ == "__main__":
    unittest.main(verbosity=2)
