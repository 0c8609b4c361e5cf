"""Phase B of the Block Storage API: the REAL Debian clients (openstack,
cinder, openstacksdk) against a real xensm-catalogd, four real agents and
the xapi simulator (xsm.World), in noauth mode.

One World for the class: flavor gold (one NFS backend in za) and silver
(one lvmoiscsi backend in zb). Each test uses its own project, so that
the tests do not see each other's volumes (that isolation is itself under
test). In noauth mode the project named api_noauth_project ("admin") is
the admin.
"""
import os
import shutil
import sys
import tempfile
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import api_http  # noqa: E402
import osclients  # noqa: E402
import xsm  # noqa: E402

http = api_http.http


class _ClassCleanups:
    """What xsm.World needs of a test case, for a World per class."""

    def __init__(self, cls):
        self.cls = cls

    def addCleanup(self, fn, *args, **kwargs):
        self.cls.addClassCleanup(fn, *args, **kwargs)


@unittest.skipUnless(osclients.have_clients(), "the OpenStack clients are not installed")
class CatalogApi(api_http.CatalogHttpCases, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workdir = tempfile.mkdtemp(prefix="xsm-api-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.w = xsm.World(_ClassCleanups(cls), cls.workdir)
        cls.root = cls.w.api_root
        assert cls.root and cls.root.startswith("http://127.0.0.1:"), cls.root
        w = cls.w
        w.ok("sm", "flavor_create", "gold", "NFS in za")
        w.ok("sm", "flavor_create", "silver", "iSCSI in zb")
        w.ok("--yes", "sm", "backend_add", "gold", "nfs", "name_label=gold-1",
             "server=filer", "serverpath=/g1", "zone=za")
        w.ok("--yes", "sm", "backend_add", "silver", "lvmoiscsi", "name_label=silver-1",
             "zone=zb", "target=10.0.0.5", "targetIQN=iqn.2004-04.com.example:lun1",
             "SCSIid=3600a0b80", "chapuser=xensm", "chappassword=s3cret-chap")
        w.wait_attached({"za": 1, "zb": 1})

    def clients(self, project):
        c = osclients.Clients(self.root, project=project)
        self.addCleanup(c.close)
        return c

    def tearDown(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is not None and any(t is self for t, _ in result.failures + result.errors):
            print("---- catalogd log (tail) ----\n" + self.w.catalogd.log()[-6000:])

    def catalog_volumes(self, project):
        return [v for v in self.w.volumes(all=False).values() if v.get("project") == project]

    # -- openstack ------------------------------------------------------------

    @osclients.real_clients
    def test_openstack_volume_create_list_show_delete(self):
        c = self.clients("web-team")
        made = c.openstack_json("volume", "create", "--type", "gold", "--size", "1", "web")
        self.assertEqual(made["name"], "web")
        self.assertEqual(made["size"], 1)
        self.assertEqual(made["type"], "gold")
        self.assertIn(made["status"], ("creating", "available"))
        listed = c.openstack_json("volume", "list")
        self.assertEqual([(v["Name"], v["Size"]) for v in listed], [("web", 1)])
        shown = c.openstack_json("volume", "show", "web")
        self.assertEqual(shown["id"], made["id"])
        self.assertEqual(shown["status"], "available")
        self.assertEqual(shown["availability_zone"], "za")
        self.assertEqual(shown["os-vol-tenant-attr:tenant_id"], "web-team")
        # The catalog agrees: one VDI in the simulator, tagged with the volume.
        [v] = self.catalog_volumes("web-team")
        self.assertEqual(v["uuid"], made["id"])
        self.assertEqual(v["size"], 1 << 30)
        self.assertIn(made["id"], self.w.tagged_vdis())
        # Rename (PUT); what xensm does not keep is refused, not dropped.
        c.openstack("volume", "set", "--name", "web2", "web")
        self.assertEqual(c.openstack_json("volume", "show", made["id"])["name"], "web2")
        p = c.openstack("volume", "set", "--description", "x", "web2", check=False)
        self.assertIn("does not store", p.stderr)
        self.assertEqual(c.openstack_json("volume", "show", made["id"])["size"], 1)
        self.check_extend(c, made["id"])
        # An admin's reset-state; an error volume is deletable.
        self.clients("admin").cinder("reset-state", "--state", "error", made["id"])
        self.assertEqual(c.openstack_json("volume", "show", made["id"])["status"], "error")
        c.openstack("volume", "delete", "web2")
        self.assertEqual(c.openstack_json("volume", "list"), [])
        self.assertEqual(self.catalog_volumes("web-team"), [])
        self.assertNotIn(made["id"], self.w.tagged_vdis())
        p = c.openstack("volume", "show", "web2", check=False)
        self.assertNotEqual(p.returncode, 0)

    def check_extend(self, c, uuid):
        """os-extend with both clients: the VDI grows; a size not larger is
        refused by the server with Cinder's reason, nothing changed; an
        agent failure leaves error_extending with the reason in the catalog."""
        def vdi_size():
            return self.w.tagged_vdis()[uuid][0]["virtual_size"]

        c.openstack("volume", "set", "--size", "2", uuid)
        shown = c.openstack_json("volume", "show", uuid)
        self.assertEqual((shown["size"], shown["status"]), (2, "available"))
        self.assertEqual(vdi_size(), 2 << 30)
        c.cinder("extend", uuid, "3")
        self.assertEqual(c.openstack_json("volume", "show", uuid)["size"], 3)
        self.assertEqual(vdi_size(), 3 << 30)
        # Not larger: the server's 400 (cinder does not check it itself).
        p = c.cinder("extend", uuid, "3", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("New size for extend must be greater than current size", p.stderr)
        self.assertIn("(HTTP 400)", p.stderr)
        self.assertEqual(vdi_size(), 3 << 30)
        # xapi fails: accepted (202), then error_extending with the reason.
        self.w.sim.fail("VDI.resize", "SR_BACKEND_FAILURE_44",
                        ["", "There is insufficient space", ""])
        c.cinder("extend", uuid, "4")
        shown = c.openstack_json("volume", "show", uuid)
        self.assertEqual((shown["size"], shown["status"]), (3, "error_extending"))
        v = self.w.json("volume", "show", uuid)["volume"]
        self.assertIn("SR_BACKEND_FAILURE_44", v["error"])
        self.assertEqual(vdi_size(), 3 << 30)
        # Not available any more: refused (Cinder's message, 400).
        st, _, reply = http("POST", "%s/v3/%s/volumes/%s/action"
                            % (self.root, shown["os-vol-tenant-attr:tenant_id"], uuid),
                            {"os-extend": {"new_size": 5}})
        self.assertEqual(st, 400, reply)
        self.assertIn("status must be available to extend", reply["badRequest"]["message"])

    @osclients.real_clients
    def test_volume_types_are_the_flavors(self):
        admin = self.clients("admin")
        types = admin.openstack_json("volume", "type", "list")
        self.assertEqual(sorted(t["Name"] for t in types), ["gold", "silver"])
        gold = admin.openstack_json("volume", "type", "show", "gold")
        self.assertEqual(gold["name"], "gold")
        self.assertEqual(gold["description"], "NFS in za")
        by_id = admin.openstack_json("volume", "type", "show", gold["id"])
        self.assertEqual(by_id["name"], "gold")
        made = admin.openstack_json("volume", "type", "create", "--description", "later",
                                    "bronze")
        self.assertEqual(made["name"], "bronze")
        flavors = [f["label"] for f in self.w.json("sm", "flavor_list")["flavors"]]
        self.assertIn("bronze", flavors)
        # Only the admin changes types; a duplicate is a conflict.
        user = self.clients("someone")
        p = user.openstack("volume", "type", "create", "tin", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("HTTP 403", p.stderr)
        p = admin.openstack("volume", "type", "create", "bronze", check=False)
        self.assertIn("HTTP 409", p.stderr)
        admin.openstack("volume", "type", "delete", "bronze")
        flavors = [f["label"] for f in self.w.json("sm", "flavor_list")["flavors"]]
        self.assertNotIn("bronze", flavors)
        # cinder's type commands too.
        rows = admin.cinder_table("type-list")
        self.assertEqual(sorted(r["Name"] for r in rows), ["gold", "silver"])

    @osclients.real_clients
    def test_availability_zones_are_the_zones(self):
        zones = self.clients("zones").openstack_json("availability", "zone", "list", "--volume")
        self.assertEqual(sorted((z["Zone Name"], z["Zone Status"]) for z in zones),
                         [("za", "available"), ("zb", "available")])

    # -- cinder ---------------------------------------------------------------

    def test_metrics_count_what_happened(self):
        """GET /metrics (Prometheus text, no authentication): volumes by
        flavor and state, creates, attempts, job latency, agents per zone,
        backend free space; no volume name and no secret in it."""
        st, _, body = http("POST", "%s/v3/metrics-team/volumes" % self.root,
                           {"volume": {"size": 1, "volume_type": "gold",
                                       "name": "private-name-7f3"}})
        self.assertEqual(st, 202, body)
        uuid = body["volume"]["id"]
        self.addCleanup(http, "DELETE", "%s/v3/metrics-team/volumes/%s" % (self.root, uuid))
        with urllib.request.urlopen(self.root + "/metrics", timeout=60) as r:
            self.assertEqual(r.status, 200)
            self.assertEqual(r.headers["Content-Type"],
                             "text/plain; version=0.0.4; charset=utf-8")
            text = r.read().decode()
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        self.assertGreaterEqual(samples['xensm_volumes{flavor="gold",state="available"}'], 1)
        self.assertGreaterEqual(samples['xensm_volume_creates_total{outcome="available"}'], 1)
        self.assertGreaterEqual(
            samples['xensm_placement_attempts_total{outcome="ok",reason="other"}'], 1)
        self.assertGreaterEqual(
            samples['xensm_job_duration_seconds_count{op="vdi_create",outcome="ok"}'], 1)
        self.assertEqual(samples['xensm_agents{zone="za",state="up"}'], 2)
        self.assertEqual(samples['xensm_agents{zone="zb",state="up"}'], 2)
        backends = self.w.json("sm", "backend_list")["backends"]
        gold = [b["id"] for b in backends if b["flavor"] == "gold"][0]
        self.assertGreater(samples['xensm_backend_free_bytes{backend="%d",zone="za"}' % gold], 0)
        self.assertNotIn("private-name-7f3", text)
        self.assertNotIn("s3cret-chap", text)
        self.assertNotIn("metrics-team", text)

    @osclients.real_clients
    def test_cinder_create_unplaceable_shows_the_attempts(self):
        self.w.ok("sm", "flavor_create", "empty", "a flavor without backends")
        self.addCleanup(self.w.manage, "sm", "flavor_delete", "empty")
        c = self.clients("doomed-team")
        p = c.cinder("create", "--volume-type", "empty", "--name", "doomed", "--poll", "1",
                     check=False)
        self.assertNotEqual(p.returncode, 0, p.stdout)
        out = p.stdout + p.stderr
        self.assertIn("no backend could take it", out)
        self.assertIn("flavor empty has no backends", out)
        rows = c.cinder_table("list")
        self.assertEqual([(r["Name"], r["Status"]) for r in rows], [("doomed", "error")])
        # The message is there for the API too, keyed by the create's request id.
        [v] = self.catalog_volumes("doomed-team")
        st, _, body = http("GET", "%s/v3/doomed-team/messages?request_id=%s"
                           % (self.root, v["request_id"]))
        self.assertEqual(st, 200)
        [m] = body["messages"]
        self.assertEqual(m["resource_uuid"], v["uuid"])
        self.assertIn("no backend could take it", m["user_message"])
        # Listed and shown to its project; another project sees neither.
        st, _, body = http("GET", "%s/v3/doomed-team/messages" % self.root)
        self.assertEqual([x["id"] for x in body["messages"]], [m["id"]])
        st, _, body = http("GET", "%s/v3/doomed-team/messages/%s" % (self.root, m["id"]))
        self.assertEqual((st, body["message"]["request_id"]), (200, v["request_id"]))
        st, _, body = http("GET", "%s/v3/other-team/messages" % self.root)
        self.assertEqual((st, body["messages"]), (200, []))
        st, _, _ = http("GET", "%s/v3/other-team/messages/%s" % (self.root, m["id"]))
        self.assertEqual(st, 404)
        c.cinder("delete", "doomed")
        self.w.wait_until("doomed deleted", lambda: not self.catalog_volumes("doomed-team"))

    @osclients.real_clients
    def test_cinder_quota_and_limits_count_the_catalog(self):
        c = self.clients("quota-team")
        c.cinder("create", "--volume-type", "silver", "--name", "q1", "2")
        rows = {r["Property"]: r for r in c.cinder_table("quota-show", "quota-team")}
        self.assertEqual(rows["volumes"]["Value"], "1000")
        self.assertEqual(rows["gigabytes"]["Value"], "100000")
        usage = {r["Type"]: r for r in c.cinder_table("quota-usage", "quota-team")}
        self.assertEqual(usage["volumes"]["In_use"], "1")
        self.assertEqual(usage["gigabytes"]["In_use"], "2")
        limits = {r["Name"]: r["Value"] for r in c.cinder_table("absolute-limits")}
        self.assertEqual(limits["totalVolumesUsed"], "1")
        self.assertEqual(limits["totalGigabytesUsed"], "2")
        self.assertEqual(limits["maxTotalVolumeGigabytes"], "100000")
        # Over the quota: 413 overLimit, and nothing is made.
        p = c.cinder("create", "--volume-type", "silver", "--name", "huge", "99999",
                     check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("HTTP 413", p.stderr)
        self.assertEqual([v["name"] for v in self.catalog_volumes("quota-team")], ["q1"])
        c.cinder("delete", "q1")
        self.w.wait_until("q1 deleted", lambda: not self.catalog_volumes("quota-team"))

    # -- openstacksdk ---------------------------------------------------------

    @osclients.real_clients
    def test_sdk_create_and_delete_with_wait(self):
        c = self.clients("sdk-team")
        out = c.sdk(
            "v = conn.create_volume(size=1, name='sdkvol', volume_type='gold', wait=True)\n"
            "out['created'] = {'id': v.id, 'status': v.status, 'size': v.size}\n"
            "out['listed'] = [x.name for x in conn.block_storage.volumes()]\n"
            "out['deleted'] = conn.delete_volume(v.id, wait=True)\n"
            "out['after'] = [x.name for x in conn.block_storage.volumes()]\n")
        self.assertEqual(out["created"]["status"], "available")
        self.assertEqual(out["created"]["size"], 1)
        self.assertEqual(out["listed"], ["sdkvol"])
        self.assertTrue(out["deleted"])
        self.assertEqual(out["after"], [])
        self.assertEqual(self.catalog_volumes("sdk-team"), [])

    # -- projects -------------------------------------------------------------

    @osclients.real_clients
    def test_two_projects_are_isolated(self):
        a, b = self.clients("proj-a"), self.clients("proj-b")
        va = a.openstack_json("volume", "create", "--type", "gold", "--size", "1", "mine-a")
        vb = b.openstack_json("volume", "create", "--type", "gold", "--size", "1", "mine-b")
        self.assertEqual([v["Name"] for v in a.openstack_json("volume", "list")], ["mine-a"])
        self.assertEqual([r["Name"] for r in b.cinder_table("list")], ["mine-b"])
        # By id, by name, and to delete: the other project's volume does not exist.
        self.assertNotEqual(b.openstack("volume", "show", va["id"], check=False).returncode, 0)
        self.assertNotEqual(b.openstack("volume", "show", "mine-a", check=False).returncode, 0)
        st, _, body = http("DELETE", "%s/v3/proj-b/volumes/%s" % (self.root, va["id"]))
        self.assertEqual(st, 404)
        self.assertEqual(body["itemNotFound"]["code"], 404)
        # The admin sees both with --all-tenants; the CLI filters by project.
        rows = self.clients("admin").cinder_table("list", "--all-tenants")
        names = {r["Name"] for r in rows}
        self.assertTrue({"mine-a", "mine-b"} <= names, names)
        listed = self.w.json("volume", "list", "--project", "proj-a")["volumes"]
        self.assertEqual([v["uuid"] for v in listed], [va["id"]])
        a.openstack("volume", "delete", "mine-a")
        # The admin's force delete (os-force_delete) of another project's volume.
        self.clients("admin").openstack("volume", "delete", "--force", vb["id"])
        self.assertEqual(self.catalog_volumes("proj-a") + self.catalog_volumes("proj-b"), [])

    # -- snapshots ------------------------------------------------------------

    @osclients.real_clients
    def test_openstack_snapshots_and_volumes_made_from_them(self):
        c = self.clients("snap-team")
        base = c.openstack_json("volume", "create", "--type", "gold", "--size", "1", "base")
        snap = c.openstack_json("volume", "snapshot", "create", "--volume", "base", "snap1")
        self.assertEqual(snap["volume_id"], base["id"])
        self.assertEqual(snap["size"], 1)
        self.assertIn(snap["status"], ("creating", "available"))
        listed = c.openstack_json("volume", "snapshot", "list")
        self.assertEqual([(s["Name"], s["Status"], s["Size"]) for s in listed],
                         [("snap1", "available", 1)])
        shown = c.openstack_json("volume", "snapshot", "show", "snap1")
        self.assertEqual(shown["id"], snap["id"])
        # Cinder's members, in the list's detail and in the show alike.
        _, _, body = http("GET", "%s/v3/snap-team/snapshots/detail" % self.root)
        [d] = body["snapshots"]
        _, _, one = http("GET", "%s/v3/snap-team/snapshots/%s" % (self.root, snap["id"]))
        self.assertEqual(d, one["snapshot"])
        self.assertEqual((d["id"], d["name"], d["volume_id"], d["status"], d["size"]),
                         (snap["id"], "snap1", base["id"], "available", 1))
        self.assertEqual((d["os-extended-snapshot-attributes:progress"],
                          d["os-extended-snapshot-attributes:project_id"],
                          d["description"], d["metadata"]), ("100%", "snap-team", None, {}))
        _, _, body = http("GET", "%s/v3/snap-team/snapshots" % self.root)
        self.assertEqual(body["snapshots"], [{k: v for k, v in d.items()
                                              if not k.startswith("os-extended")}])
        # The catalog's snapshot is a VDI snapshot of the volume's VDI, kept
        # out of the volume list.
        row = self.w.volumes()[snap["id"]]
        self.assertEqual(row["parent_uuid"], base["id"])
        [vdi] = self.w.tagged_vdis()[snap["id"]]
        self.assertTrue(vdi["is_a_snapshot"])
        self.assertEqual([v["Name"] for v in c.openstack_json("volume", "list")], ["base"])
        # Volumes from the snapshot and from the volume: its size and type.
        fs = c.openstack_json("volume", "create", "--snapshot", "snap1", "from-snap")
        fv = c.openstack_json("volume", "create", "--source", "base", "from-vol")
        self.assertEqual((fs["size"], fs["type"], fs["snapshot_id"], fs["source_volid"]),
                         (1, "gold", snap["id"], None))
        self.assertEqual((fv["size"], fv["type"], fv["snapshot_id"], fv["source_volid"]),
                         (1, "gold", None, base["id"]))
        rows = self.w.volumes()
        self.assertEqual((rows[fs["id"]]["parent_uuid"], rows[fv["id"]]["parent_uuid"]),
                         (snap["id"], base["id"]))
        # A volume with a snapshot is not deleted (Cinder's 400); a rename.
        p = c.openstack("volume", "delete", "base", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("snapshots", p.stderr)
        c.openstack("volume", "snapshot", "set", "--name", "snap2", "snap1")
        rows = c.cinder_table("snapshot-list")
        self.assertEqual([(r["Name"], r["Status"]) for r in rows], [("snap2", "available")])
        c.openstack("volume", "snapshot", "delete", "snap2")
        self.assertEqual(self.w.volumes()[snap["id"]]["state"], "deleted")
        self.assertNotIn(snap["id"], self.w.tagged_vdis())
        c.openstack("volume", "delete", "from-snap", "from-vol", "base")
        self.assertEqual(self.catalog_volumes("snap-team"), [])

    @osclients.real_clients
    def test_sdk_snapshot_create_and_delete_with_wait(self):
        c = self.clients("sdk-snap-team")
        out = c.sdk(
            "v = conn.create_volume(size=1, name='sv', volume_type='gold', wait=True)\n"
            "s = conn.create_volume_snapshot(v.id, name='ss', wait=True)\n"
            "out['snap'] = {'status': s.status, 'volume_id': s.volume_id, 'size': s.size,\n"
            "               'id': s.id, 'vid': v.id}\n"
            "out['listed'] = [x.name for x in conn.block_storage.snapshots()]\n"
            "out['deleted'] = conn.delete_volume_snapshot(s.id, wait=True)\n"
            "out['after'] = [x.name for x in conn.block_storage.snapshots()]\n"
            "out['vol_deleted'] = conn.delete_volume(v.id, wait=True)\n")
        snap = out["snap"]
        self.assertEqual((snap["status"], snap["volume_id"], snap["size"]),
                         ("available", snap["vid"], 1))
        self.assertEqual(out["listed"], ["ss"])
        self.assertTrue(out["deleted"])
        self.assertEqual(out["after"], [])
        self.assertTrue(out["vol_deleted"])
        self.assertEqual(self.catalog_volumes("sdk-snap-team"), [])

    def test_snapshots_of_two_projects_and_bad_input(self):
        va = self.w.json("volume", "create", "--flavor", "gold", "--size", "1G", "--name",
                         "pa", "--project", "snap-a")["volume"]["uuid"]
        a, b = "%s/v3/snap-a" % self.root, "%s/v3/snap-b" % self.root
        st, _, body = http("POST", a + "/snapshots", {"snapshot": {"volume_id": va,
                                                                   "force": False}})
        self.assertEqual(st, 202, body)
        sa = body["snapshot"]["id"]
        self.assertEqual(body["snapshot"]["status"], "available")
        self.assertEqual(body["snapshot"]["os-extended-snapshot-attributes:project_id"],
                         "snap-a")
        # The other project sees nothing of it; the admin does, with all_tenants.
        st, _, body = http("GET", b + "/snapshots/detail")
        self.assertEqual((st, body["snapshots"]), (200, []))
        st, _, body = http("GET", "%s/v3/admin/snapshots/detail?all_tenants=1" % self.root)
        self.assertIn(sa, [s["id"] for s in body["snapshots"]])
        st, _, body = http("GET", a + "/snapshots?volume_id=" + va)
        self.assertEqual([s["id"] for s in body["snapshots"]], [sa])
        before = self.w.volumes()
        other = "00000000-0000-4000-8000-000000000000"
        cases = [
            (b, "GET", "/snapshots/" + sa, None, 404, "itemNotFound"),
            (b, "DELETE", "/snapshots/" + sa, None, 404, "itemNotFound"),
            (b, "POST", "/snapshots", {"snapshot": {"volume_id": va}}, 404, "itemNotFound"),
            (b, "POST", "/volumes", {"volume": {"snapshot_id": sa}}, 404, "itemNotFound"),
            (a, "POST", "/snapshots", {"snapshot": {}}, 400, "badRequest"),
            (a, "POST", "/snapshots", {"snapshot": {"volume_id": other}}, 404, "itemNotFound"),
            (a, "POST", "/snapshots", {"snapshot": {"volume_id": sa}}, 404, "itemNotFound"),
            (a, "POST", "/snapshots", {"snapshot": {"volume_id": va, "metadata": {"k": "v"}}},
             400, "badRequest"),
            (a, "GET", "/snapshots/not-a-uuid", None, 404, "itemNotFound"),
            (a, "GET", "/volumes/" + sa, None, 404, "itemNotFound"),
            (a, "GET", "/snapshots/" + va, None, 404, "itemNotFound"),
            (a, "POST", "/volumes", {"volume": {"snapshot_id": sa, "size": 5}}, 400,
             "badRequest"),
            (a, "POST", "/volumes", {"volume": {"snapshot_id": sa, "volume_type": "silver"}},
             400, "badRequest"),
            (a, "POST", "/volumes", {"volume": {"snapshot_id": va}}, 404, "itemNotFound"),
            (a, "POST", "/volumes", {"volume": {"source_volid": sa}}, 404, "itemNotFound"),
            (a, "POST", "/volumes", {"volume": {"snapshot_id": sa, "source_volid": va}}, 400,
             "badRequest"),
            (a, "DELETE", "/volumes/" + va, None, 400, "badRequest"),
        ]
        for base, method, path, body, status, fault in cases:
            st, _, reply = http(method, base + path, body)
            self.assertEqual(st, status, (method, path, body, reply))
            self.assertEqual(list(reply), [fault], (method, path, reply))
        self.assertEqual(self.w.volumes(), before)
        # A volume in the wrong state is not snapshotted.
        st, _, _ = http("POST", "%s/v3/admin/volumes/%s/action" % (self.root, va),
                        {"os-reset_status": {"status": "error"}})
        self.assertEqual(st, 202)
        st, _, reply = http("POST", a + "/snapshots", {"snapshot": {"volume_id": va}})
        self.assertEqual((st, list(reply)), (400, ["badRequest"]), reply)
        self.assertIn("status must be available", reply["badRequest"]["message"])
        self.assertEqual(set(self.w.volumes()), set(before))
        st, _, _ = http("DELETE", a + "/snapshots/" + sa)
        self.assertEqual(st, 202)
        self.w.wait_until("snapshot deleted",
                          lambda: self.w.volumes()[sa]["state"] == "deleted")
        self.w.ok("volume", "delete", va)

    # -- paging ---------------------------------------------------------------

    def test_paging_is_stable_and_the_clients_follow_next(self):
        made = []
        for i in range(5):
            v = self.w.json("volume", "create", "--flavor", "silver", "--size", "1M",
                            "--name", "page-%d" % i, "--project", "page-team")["volume"]
            made.append(v["uuid"])
        newest_first = list(reversed(made))
        base = "%s/v3/page-team/volumes/detail" % self.root
        st, _, body = http("GET", base + "?limit=2")
        self.assertEqual(st, 200)
        self.assertEqual([v["id"] for v in body["volumes"]], newest_first[:2])
        seen = [v["id"] for v in body["volumes"]]
        while body.get("volumes_links"):
            [link] = body["volumes_links"]
            self.assertEqual(link["rel"], "next")
            self.assertTrue(link["href"].startswith(self.root + "/v3/page-team/"))
            st, _, body = http("GET", link["href"])
            self.assertEqual(st, 200)
            seen += [v["id"] for v in body["volumes"]]
        self.assertEqual(seen, newest_first)
        # A next link only when more follow (the page query reads one row
        # more): none under a page that ends the list, even a full one.
        st, _, body = http("GET", base + "?limit=5")
        self.assertEqual(([v["id"] for v in body["volumes"]], body.get("volumes_links")),
                         (newest_first, None))
        st, _, body = http("GET", base + "?limit=2&with_count=true&offset=1&marker="
                           + newest_first[0])
        self.assertEqual(([v["id"] for v in body["volumes"]], body["count"]),
                         (newest_first[2:4], 5))
        self.assertIn("marker=" + newest_first[3], body["volumes_links"][0]["href"])
        # The marker must be in the (filtered) list: 400 otherwise.
        st, _, body = http("GET", base + "?name=page-3&marker=" + made[2])
        self.assertEqual((st, list(body)), (400, ["badRequest"]), body)
        self.assertIn("marker not found", body["badRequest"]["message"])
        st, _, body = http("GET", "%s/v3/other-team/volumes?marker=%s" % (self.root, made[2]))
        self.assertEqual(st, 400, body)
        st, _, body = http("GET", base + "?status=available&name=page-3")
        self.assertEqual([v["id"] for v in body["volumes"]], [made[3]])
        # cinderclient follows the links itself (limit 2 per page).
        if not osclients.CLIENTS_OFF:
            rows = self.clients("page-team").cinder_table("list", "--limit", "2")
            self.assertEqual(len(rows), 2)
            rows = self.clients("page-team").cinder_table("list")     # cinder sorts its table
            self.assertEqual(sorted(r["ID"] for r in rows), sorted(made))
        for uuid in made:
            self.w.ok("volume", "delete", uuid)

    # -- bad input ------------------------------------------------------------

    def test_bad_input_gets_cinders_errors_and_changes_nothing(self):
        base = "%s/v3/bad-team" % self.root
        before = self.w.volumes()
        cases = [
            ("POST", "/volumes", b"{not json", 400, "badRequest"),
            ("POST", "/volumes", {"volume": {"size": "x"}}, 400, "badRequest"),
            ("POST", "/volumes", {"volume": {"size": 0, "volume_type": "gold"}}, 400,
             "badRequest"),
            ("POST", "/volumes", {"volume": {"size": 1}}, 400, "badRequest"),
            ("POST", "/volumes", {"volume": {"size": 1, "volume_type": "nope"}}, 404,
             "itemNotFound"),
            ("POST", "/volumes", {"nothing": {}}, 400, "badRequest"),
            ("GET", "/volumes/not-a-uuid", None, 404, "itemNotFound"),
            ("GET", "/volumes/detail?limit=-1", None, 400, "badRequest"),
            ("GET", "/volumes/detail?marker=00000000-0000-4000-8000-000000000000", None, 400,
             "badRequest"),
            ("GET", "/nothing-here", None, 404, "itemNotFound"),
            ("PATCH", "/volumes", None, 405, "badMethod"),
            ("POST", "/types", {"volume_type": {"name": "x"}}, 403, "forbidden"),
            ("POST", "/volumes/00000000-0000-4000-8000-000000000000/action",
             {"os-extend": {"new_size": 2}}, 404, "itemNotFound"),
        ]
        for method, path, body, status, fault in cases:
            st, headers, reply = http(method, base + path, body)
            self.assertEqual(st, status, (method, path, reply))
            self.assertEqual(list(reply), [fault], (method, path, reply))
            self.assertEqual(reply[fault]["code"], status)
            self.assertTrue(headers["x-openstack-request-id"].startswith("req-"))
        self.assertEqual(self.w.volumes(), before)


class StartUp(unittest.TestCase):
    """What catalogd refuses about the API, and turning it off."""

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="xsm-api-start-")
        self.addCleanup(shutil.rmtree, self.workdir, True)

    def config(self, text):
        path = os.path.join(self.workdir, "catalog.cfg")
        with open(path, "w") as f:
            f.write("[catalog]\n" + text)
        return path

    def test_noauth_off_loopback_needs_allow_insecure(self):
        rc, log = xsm.run_catalogd_expect_failure(self.workdir, api_listen="0.0.0.0:0")
        self.assertEqual(rc, 1)
        self.assertIn("api_allow_insecure", log)
        d = xsm.Catalogd(self.workdir, api_listen="0.0.0.0:0",
                         config=self.config("api_allow_insecure = true\n"))
        d.start()
        self.addCleanup(d.kill)
        self.assertTrue(d.ping()["api_endpoint"].startswith("http://0.0.0.0:"))
        self.assertEqual(d.stop(), 0)

    def test_keystone_needs_its_settings_and_keeps_the_password_secret(self):
        rc, log = xsm.run_catalogd_expect_failure(
            self.workdir, config=self.config("api_auth = keystone\n"))
        self.assertEqual(rc, 1)
        self.assertIn("keystone_password_file", log)
        secret = os.path.join(self.workdir, "ks.pw")
        with open(secret, "w") as f:
            f.write("pw-SECRET-123\n")
        d = xsm.Catalogd(self.workdir, config=self.config(
            "api_auth = keystone\nkeystone_url = http://127.0.0.1:9/v3\n"
            "keystone_user = xensm\nkeystone_password_file = %s\n" % secret))
        d.start()
        self.addCleanup(d.kill)
        root = d.ping()["api_endpoint"]
        st, headers, body = http("GET", root + "/v3/p1/volumes")
        self.assertEqual(st, 401)
        self.assertIn("Keystone uri=", headers["WWW-Authenticate"])
        self.assertEqual(d.stop(), 0)
        self.assertNotIn("pw-SECRET-123", d.log())

    def test_empty_api_listen_turns_it_off(self):
        d = xsm.Catalogd(self.workdir, api_listen="")
        d.start()
        self.addCleanup(d.kill)
        self.assertNotIn("api_endpoint", d.ping())
        self.assertEqual(d.stop(), 0)

    def test_bad_api_listen_is_refused(self):
        rc, log = xsm.run_catalogd_expect_failure(self.workdir, api_listen="localhost:8776")
        self.assertEqual(rc, 1)
        self.assertIn("api_listen", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
