"""The orphan sweep (issue 11, D6 and the sweep; docs/DESIGN.md "Orphan
VDIs"), end to end: xapisim with two pools in two zones, catalogd with a
fast sweep, four agents, xensm-manage. And the chaos test: kill -9 of
catalogd and agents plus lost xapi replies while volumes come and go, then
every invariant, the sweep's included."""
import json
import os
import random
import shutil
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


class Orphans(unittest.TestCase):

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="xsm-orphans-")
        self.addCleanup(shutil.rmtree, self.workdir, True)
        self.w = None
        self.addCleanup(self.dump_logs_on_failure)

    def dump_logs_on_failure(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        errors = getattr(outcome, "errors", None) or []
        failed = any(e for _, e in errors) or (
            result is not None and any(t is self for t, _ in result.failures + result.errors))
        if self.w and (failed or os.environ.get("XSM_E2E_LOGS")):
            for name, proc in [("catalogd", self.w.catalogd)] + sorted(self.w.agents.items()):
                lines = [l for l in proc.log().splitlines() if l[:2] in ("N ", "W ", "E ")]
                print("---- %s notices, warnings, errors ----\n%s"
                      % (name, "\n".join(lines[-80:])))

    # -- helpers -----------------------------------------------------------------

    def start(self, grace_ms):
        self.w = xsm.World(self, self.workdir,
                           catalog_extra=SWEEP + "orphan_grace_ms = %d\n" % grace_ms)
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

    # -- D6 and the sweep ------------------------------------------------------------

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

        w.restart_catalogd(catalog_extra=SWEEP + "orphan_grace_ms = 1000\n")
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
        w.sim.delay("VDI.create", 3, when="after", repeat=False)
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
        t.join()
        self.assertEqual(result["p"].returncode, 0, result["p"].stderr)
        slow = json.loads(result["p"].stdout)["volume"]
        self.assertEqual([d["uuid"] for d in w.tagged_vdis()[slow["uuid"]]], [slow["vdi_uuid"]])
        self.assertEqual({d["uuid"] for d in w.tagged_vdis()[keep["uuid"]]},
                         {keep["vdi_uuid"], elsewhere})


if __name__ == "__main__":
    unittest.main(verbosity=2)
