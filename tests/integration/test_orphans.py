"""The orphan sweep (issue 11, D6 and the sweep; docs/DESIGN.md "Orphan
VDIs"), end to end: xapisim with two pools in two zones, catalogd with a
fast sweep, four agents, xensm-manage. And the chaos test: kill -9 of
catalogd and agents plus lost xapi replies while volumes come and go, then
every invariant, the sweep's included."""
import json
import os
import random
import shutil
import signal
import tempfile
import threading
import unittest
import uuid

import xsm

MIB = 1024 ** 2
SWEEP = "orphan_sweep_ms = 200\n"
VDI_REC = {"name_label": "not-xensm", "name_description": "", "virtual_size": str(MIB),
           "type": "user", "sharable": False, "read_only": False,
           "other_config": {}, "xenstore_data": {}, "sm_config": {}, "tags": []}


class WorldCase(unittest.TestCase):
    """A World with a fast orphan sweep, and helpers."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="xsm-orphans-")
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.w = None
        self.addCleanup(self.dump_logs_on_failure)

    def dump_logs_on_failure(self):
        xsm.dump_logs_on_failure(self, self.w, lines=80)

    # -- helpers -----------------------------------------------------------------

    def start(self, grace_ms):
        self.w = xsm.World(self, self.workdir,
                           catalog_cfg=SWEEP + "orphan_grace_ms = %d\n" % grace_ms)
        w = self.w
        w.ok("sm", "flavor_create", "gold", "NFS in za")
        w.ok("sm", "flavor_create", "silver", "NFS in zb")
        self.ids = {}
        for flavor, name, zone in (("gold", "g1", "za"), ("gold", "g2", "za"),
                                   ("silver", "s1", "zb")):
            out = json.loads(w.ok("--json", "--yes", "sm", "backend_add", flavor, "nfs",
                                  "name_label=" + name, "server=filer", "serverpath=/" + name,
                                  "zone=" + zone).stdout)
            self.ids[name] = out["backend"]["id"]
        w.wait_attached({"za": 2, "zb": 1})

    def create(self, *args):
        return self.w.json("volume", "create", *args)["volume"]

    def orphans(self):
        return self.w.json("volume", "orphans")

    def sr_of(self, backend_id):
        return [b for b in self.w.json("sm", "backend_list")["backends"]
                if b["id"] == backend_id][0]["sr_uuid"]

    def xapi(self, host="a1"):
        """A session on `host`'s xapi (its pool's master answers)."""
        proxy = self.w.sim.proxy(host, unix=True)
        self.addCleanup(lambda: proxy("close")())
        session = proxy.session.login_with_password("root", "", "1.0", "test")["Value"]
        return proxy, session

    def make_vdi(self, sr_uuid, other_config):
        """A VDI made behind xensm's back (as an operator would), in sr_uuid."""
        x, s = self.xapi()
        sr = x.SR.get_by_uuid(s, sr_uuid)["Value"]
        ref = x.VDI.create(s, dict(VDI_REC, SR=sr, other_config=other_config))["Value"]
        return x.VDI.get_uuid(s, ref)["Value"]

    def all_vdis(self):
        return {v["uuid"]: v for p in self.w.dump()["pools"] for v in p["VDIs"]}


class Orphans(WorldCase):


    def test_lost_copy_replies_leave_orphans_the_sweep_lists_then_destroys(self):
        """D6: the reply of a VDI.snapshot and of a VDI.clone is lost; the
        copies xapi made carry the parent's tag. The sweep lists them (and a
        VDI tagged with a volume the catalog never had) as orphans and, with
        a grace of an hour, touches nothing; restarted with a grace of 1 s it
        destroys exactly those, one log line each: the parent keeps its one
        VDI, the operator's untagged VDI in the same SR stays."""
        self.start(grace_ms=3600 * 1000)
        w = self.w
        parent = self.create("--flavor", "gold", "--size", "1M", "--name", "parent")
        sr = self.sr_of(parent["backend_id"])
        untagged = self.make_vdi(sr, {})
        stranger = str(uuid.uuid4())
        foreign = self.make_vdi(sr, {"xensm-volume": stranger})
        for op, method in (("snapshot", "VDI.snapshot"), ("clone", "VDI.clone")):
            w.sim.drop(method, when="after")
            p = w.manage("volume", op, parent["uuid"], "--name", "lost-" + op)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        # xapi finished both copies: the parent's tag is on three VDIs.
        w.wait_until("both copies to exist in xapi",
                     lambda: len(w.tagged_vdis().get(parent["uuid"], [])) == 3)
        copies = {d["uuid"] for d in w.tagged_vdis()[parent["uuid"]]} - {parent["vdi_uuid"]}

        def listed():
            found = self.orphans()["orphans"]
            return found if {o["vdi_uuid"] for o in found} == copies | {foreign} else None

        found = {o["vdi_uuid"]: o for o in w.wait_until("the sweep to list the orphans", listed)}
        for vdi in copies:
            o = found[vdi]
            self.assertEqual((o["zone"], o["backend_id"], o["sr_uuid"], o["volume_uuid"]),
                             ("za", parent["backend_id"], sr, parent["uuid"]))
            self.assertIn("records VDI " + parent["vdi_uuid"], o["why"])
            self.assertGreater(o["first_seen"], 0)
        self.assertEqual(found[foreign]["volume_uuid"], stranger)
        self.assertIn("no volume %s in the catalog" % stranger, found[foreign]["why"])
        self.assertNotIn(untagged, found)
        text = w.ok("volume", "orphans").stdout
        self.assertIn("3 orphan VDI(s)", text)
        for vdi in copies | {foreign}:
            self.assertIn(vdi, text)
        # An hour's grace: several sweeps later every VDI is still there.
        last = self.orphans()["last_sweep"]
        w.wait_until("two more sweeps", lambda: self.orphans()["last_sweep"] > last + 300)
        self.assertTrue(copies | {foreign, untagged, parent["vdi_uuid"]} <= set(self.all_vdis()))

        # Meanwhile the parent snapshots from its own VDI, the one the
        # catalog records, not from a copy that carries its tag.
        snap = self.w.json("volume", "snapshot", parent["uuid"])["volume"]
        self.assertEqual(snap["state"], "available")
        vdi = w.tagged_vdis()[snap["uuid"]][0]
        vdis = self.all_vdis()
        self.assertEqual(vdis[vdi["uuid"]]["snapshot_of"], vdis[parent["vdi_uuid"]]["ref"])

        # A clean stop with orphans known and listings in flight (the
        # sanitizer builds check that nothing leaks), then a 1 s grace.
        rc = w.restart_catalogd(catalog_cfg=SWEEP + "orphan_grace_ms = 1000\n",
                                sig=signal.SIGTERM)
        self.assertEqual(rc, 0, w.catalogd.log()[-3000:])
        w.wait_until("the orphans to be destroyed",
                     lambda: not (copies | {foreign}) & set(self.all_vdis()), timeout=60)
        self.assertEqual([d["uuid"] for d in w.tagged_vdis()[parent["uuid"]]],
                         [parent["vdi_uuid"]])
        self.assertIn(untagged, self.all_vdis())
        w.wait_until("an empty orphan list", lambda: self.orphans()["orphans"] == [])
        log = w.catalogd.log()
        for vdi in copies | {foreign}:
            lines = [l for l in log.splitlines() if "orphan VDI " + vdi in l and "destroyed" in l]
            self.assertEqual(len(lines), 1, lines)
        self.assertNotIn(untagged, log)

    def test_sweep_spares_busy_volumes_and_other_srs(self):
        """A VDI whose volume is being created, or that is in an SR no
        backend has, is never listed nor destroyed, whatever the grace."""
        self.start(grace_ms=0)
        w = self.w
        keep = self.create("--flavor", "gold", "--size", "1M")
        # An SR of the pool that is no backend's, holding a VDI with keep's
        # tag (copied by hand, say): not xensm's to judge.
        x, s = self.xapi()
        host = x.host.get_all(s)["Value"][0]
        sr = x.SR.create(s, host, {"server": "filer", "serverpath": "/operator"}, "0",
                         "operator-sr", "", "nfs", "user", True, {})["Value"]
        ref = x.VDI.create(s, dict(VDI_REC, SR=sr,
                                   other_config={"xensm-volume": keep["uuid"]}))["Value"]
        elsewhere = x.VDI.get_uuid(s, ref)["Value"]
        # A create held in xapi: its volume is `creating` with its VDI
        # already tagged once the delay ends... and its job still running.
        w.sim.delay("VDI.create", 8, when="after", repeat=False)
        result = {}
        t = threading.Thread(target=lambda: result.update(p=w.manage(
            "--json", "volume", "create", "--flavor", "gold", "--size", "1M", "--name", "slow")))
        t.start()
        self.addCleanup(t.join)
        w.wait_until("the slow create's VDI to exist",
                     lambda: any(v["name"] == "slow" and v["uuid"] in w.tagged_vdis()
                                 for v in w.volumes().values()), timeout=30)
        last = self.orphans()["last_sweep"]
        w.wait_until("two more sweeps", lambda: self.orphans()["last_sweep"] > last + 300)
        self.assertEqual(self.orphans()["orphans"], [])
        # ...swept while the create still ran (its task held in xapi).
        self.assertEqual([v["state"] for v in w.volumes().values() if v["name"] == "slow"],
                         ["creating"])
        t.join()
        self.assertEqual(result["p"].returncode, 0, result["p"].stderr)
        slow = json.loads(result["p"].stdout)["volume"]
        self.assertEqual([d["uuid"] for d in w.tagged_vdis()[slow["uuid"]]], [slow["vdi_uuid"]])
        self.assertEqual({d["uuid"] for d in w.tagged_vdis()[keep["uuid"]]},
                         {keep["vdi_uuid"], elsewhere})


class Chaos(WorldCase):
    """kill -9 of catalogd (once per fault, each fault once, in a seeded
    order) and agents and lost xapi replies while creates,
    deletes, snapshots and clones stream; then, faults cleared and the
    sweep's grace over: no acknowledged volume lost, no orphan, no
    duplicate per request id, nothing transitional."""

    SEED = int(os.environ.get("XSM_CHAOS_SEED", "1234"))
    WORKERS = 3
    FAULTS = (("drop", "VDI.create", "after"), ("drop", "VDI.create", "before"),
              ("drop", "VDI.clone", "after"), ("drop", "VDI.snapshot", "after"),
              ("fail", "VDI.destroy", None), ("delay", "VDI.create", None))

    def test_lost_dropped_and_killed_then_every_invariant(self):
        self.start(grace_ms=1000)
        w = self.w
        rng = random.Random(self.SEED)
        lock = threading.Lock()
        live = []                       # acknowledged volumes we may act on
        acked = {}                      # uuid -> request id (creates, copies)
        deleted, tried_deletes = set(), set()
        done = [0]                      # operations finished (any outcome)
        stop = threading.Event()

        def run(*args):
            p = w.manage("--json", "--timeout", "4", *args, timeout=60)
            with lock:
                done[0] += 1
            return json.loads(p.stdout)["volume"] if p.returncode == 0 else None

        def keep(v, rid):
            # Acknowledged means exit 0 *and* available (an `error` volume
            # answered with exit 0 is D3's, another item).
            if v and v["state"] == "available":
                with lock:
                    acked[v["uuid"]] = rid
                    live.append(v["uuid"])

        def worker(n):
            r = random.Random(self.SEED * 100 + n)
            i = 0
            while not stop.is_set() or i < 6:
                i += 1
                rid = "chaos-%d-%d" % (n, i)
                kind = r.random()
                with lock:
                    target = r.choice(live) if live else None
                    if target and kind < 0.15:
                        live.remove(target)
                        tried_deletes.add(target)
                if target is None or kind >= 0.40:
                    keep(run("volume", "create", "--flavor", r.choice(["gold", "silver"]),
                             "--size", "1M", "--request-id", rid), rid)
                elif kind < 0.15:
                    if run("volume", "delete", target):
                        with lock:
                            deleted.add(target)
                else:
                    op = "snapshot" if kind < 0.27 else "clone"
                    keep(run("volume", op, target, "--name", rid), rid)

        workers = [threading.Thread(target=worker, args=(n,)) for n in range(self.WORKERS)]
        for t in workers:
            t.start()
        try:
            faults = list(self.FAULTS)
            rng.shuffle(faults)
            for action, method, when in faults:
                # Paced by acknowledged work, not time: creates right after
                # a restart fail fast until the agents are back (D4).
                mark = len(acked)
                w.wait_until("work acknowledged between kills", lambda: len(acked) >= mark + 2,
                             timeout=60, interval=0.02)
                if action == "drop":
                    w.sim.drop(method, when=when)
                elif action == "fail":
                    w.sim.fail(method, "SR_BACKEND_FAILURE_1", ["", "destroy failed", ""])
                else:
                    w.sim.delay(method, 1, repeat=False)
                w.restart_catalogd()
                if rng.random() < 0.6:
                    victim = w.agents[rng.choice(sorted(w.agents))]
                    victim.kill()
                    victim.start()
            # Work on a catalog that stays up too, before the end.
            mark = len(acked)
            w.wait_until("work after the last kill", lambda: len(acked) >= mark + 3, timeout=60,
                         interval=0.02)
        finally:
            stop.set()
            for t in workers:
                t.join()
        self.assertGreaterEqual(len(acked), 2 * len(self.FAULTS) + 3)
        fired = sum(f["fired"] for f in w.sim.faults())
        if os.environ.get("XSM_CHAOS_DEBUG"):
            print(json.dumps(w.sim.faults()))
            print("\n".join(l for l in w.catalogd.log().splitlines() if "orphan" in l or "failed" in l))
        w.sim.clear_faults()
        w.wait_settled(timeout=60)
        self.check(acked, deleted, tried_deletes)
        # Every request id once more: the same volume for each, no second.
        for uuid_, rid in sorted(acked.items(), key=lambda kv: kv[1]):
            if rid.startswith("chaos-") and uuid_ not in tried_deletes:
                v = w.volumes()[uuid_]
                if v["parent_uuid"]:
                    continue
                again = self.create("--flavor", v["flavor"], "--size", "1M", "--request-id", rid)
                self.assertEqual(again["uuid"], uuid_)
        ids = [v["request_id"] for v in w.volumes().values() if v["request_id"]]
        self.assertEqual(len(ids), len(set(ids)), "two volumes for one request id")
        reaped = [l for l in w.catalogd.log().splitlines()
                  if "orphan VDI" in l and ": destroyed (" in l]
        print("\n  seed %d: %d volumes and %d deletes acknowledged, %d of %d faults fired, "
              "%d orphan(s) destroyed" % (self.SEED, len(acked), len(deleted), fired,
                                          len(self.FAULTS), len(reaped)))

    def check(self, acked, deleted, tried_deletes):
        w = self.w
        volumes = w.volumes()

        def no_orphan():
            if self.orphans()["orphans"]:
                return False
            for vol, vdis in w.tagged_vdis().items():
                v = volumes.get(vol)
                if not v or len(vdis) != 1 or vdis[0]["uuid"] != v["vdi_uuid"] \
                   or v["state"] not in ("available", "error_deleting"):
                    return False
            return True

        w.wait_until("the sweep to leave no orphan", no_orphan, timeout=60, interval=0.2)
        vdis = w.tagged_vdis()
        for uuid_ in acked:
            v = volumes[uuid_]
            if uuid_ in tried_deletes:
                self.assertIn(v["state"], ("available", "deleted", "error_deleting"), v)
                continue
            self.assertEqual(v["state"], "available", v)
            self.assertEqual([d["uuid"] for d in vdis.get(uuid_, [])], [v["vdi_uuid"]], v)
        for uuid_ in deleted:
            self.assertEqual(volumes[uuid_]["state"], "deleted")
            self.assertNotIn(uuid_, vdis)
        for v in volumes.values():
            self.assertNotIn(v["state"], ("creating", "deleting", "extending"), v)
            if v["state"] == "available":
                self.assertIn(v["uuid"], vdis, "available volume without its VDI")
        untagged = [d for p in w.dump()["pools"] for d in p["VDIs"]
                    if not d.get("other_config", {}).get("xensm-volume")]
        self.assertEqual(untagged, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
