"""The Block Storage API's routes driven over raw HTTP (urllib), for
test_api_catalog.CatalogApi: what the real-client tests there do through
openstack, cinder and the SDK, request by request against the same catalogd.

These run in every pass. In the AddressSanitizer pass (scripts/test sets
XENSM_TEST_CLIENTS=off) they are what drives catalogd's routes: volume
create/list/show/rename/extend/reset/force-delete/delete, clones from a volume
and from a snapshot, snapshot create/list/show/rename/delete, types and their
extra specs, zones, quota sets, limits, messages and the version documents.
The other raw-HTTP tests of CatalogApi add metrics, paging and bad input.
"""
import xsm


http = xsm.http


class CatalogHttpCases:
    """Mixed into CatalogApi (self.w: the World, self.root: the API root)."""

    def api(self, project, method, path, body=None, want=None):
        """One request as the clients send it (a microversion header, which
        the reply names back)."""
        st, headers, reply = http(method, "%s/v3/%s%s" % (self.root, project, path), body,
                                  {"OpenStack-API-Version": "volume 3.67"})
        if want is not None:
            self.assertEqual(st, want, (method, path, body, reply))
        self.assertEqual(headers["OpenStack-API-Version"], "volume 3.67", (method, path))
        return st, reply

    def wait_volume(self, project, uuid, what, predicate, kind="volumes"):
        """The volume's (or snapshot's) view once predicate(view) holds."""
        seen = {}

        def done():
            _, reply = self.api(project, "GET", "/%s/%s" % (kind, uuid), want=200)
            seen["v"] = reply[kind[:-1]]
            return predicate(seen["v"])
        self.w.wait_until(what, done, timeout=60)
        return seen["v"]

    def make_volume(self, project, body):
        _, reply = self.api(project, "POST", "/volumes", {"volume": body}, want=202)
        v = reply["volume"]
        self.assertIn(v["status"], ("creating", "available"))
        return self.wait_volume(project, v["id"], "%s available" % v["id"],
                                lambda x: x["status"] == "available")

    def delete_volume(self, project, uuid):
        self.api(project, "DELETE", "/volumes/" + uuid, want=202)
        self.w.wait_until("%s deleted" % uuid, lambda: uuid not in self.w.tagged_vdis()
                          and self.api(project, "GET", "/volumes/" + uuid)[0] == 404, timeout=60)

    def test_http_volume_create_show_rename_extend_delete(self):
        p = "http-team"
        v = self.make_volume(p, {"size": 1, "volume_type": "gold", "name": "web"})
        uuid = v["id"]
        self.assertEqual((v["name"], v["size"], v["volume_type"], v["availability_zone"],
                          v["os-vol-tenant-attr:tenant_id"]), ("web", 1, "gold", "za", p))
        [row] = self.catalog_volumes(p)
        self.assertEqual((row["uuid"], row["size"]), (uuid, 1 << 30))
        _, listed = self.api(p, "GET", "/volumes", want=200)
        self.assertEqual([(x["id"], x["name"]) for x in listed["volumes"]], [(uuid, "web")])
        _, detail = self.api(p, "GET", "/volumes/detail", want=200)
        self.assertEqual([(x["id"], x["status"]) for x in detail["volumes"]],
                         [(uuid, "available")])
        # Rename (PUT); a description is refused, not dropped.
        _, reply = self.api(p, "PUT", "/volumes/" + uuid, {"volume": {"name": "web2"}}, 200)
        self.assertEqual(reply["volume"]["name"], "web2")
        _, reply = self.api(p, "PUT", "/volumes/" + uuid, {"volume": {"description": "x"}}, 400)
        self.assertIn("does not store", reply["badRequest"]["message"])
        # os-extend: the VDI grows; not larger is refused; a failing xapi
        # leaves error_extending with the reason.
        self.api(p, "POST", "/volumes/%s/action" % uuid, {"os-extend": {"new_size": 2}}, 202)
        self.wait_volume(p, uuid, "extended to 2", lambda x: x["size"] == 2
                         and x["status"] == "available")
        self.assertEqual(self.w.tagged_vdis()[uuid][0]["virtual_size"], 2 << 30)
        _, reply = self.api(p, "POST", "/volumes/%s/action" % uuid,
                            {"os-extend": {"new_size": 2}}, 400)
        self.assertIn("New size for extend must be greater than current size",
                      reply["badRequest"]["message"])
        self.w.sim.fail("VDI.resize", "SR_BACKEND_FAILURE_44",
                        ["", "There is insufficient space", ""])
        self.api(p, "POST", "/volumes/%s/action" % uuid, {"os-extend": {"new_size": 3}}, 202)
        v = self.wait_volume(p, uuid, "error_extending",
                             lambda x: x["status"] == "error_extending")
        self.assertEqual(v["size"], 2)
        self.assertIn("SR_BACKEND_FAILURE_44", self.w.json("volume", "show", uuid)["volume"]
                      ["error"])
        # Only the admin resets the state; an error volume is deletable.
        self.api(p, "POST", "/volumes/%s/action" % uuid,
                 {"os-reset_status": {"status": "available"}}, 403)
        self.api("admin", "POST", "/volumes/%s/action" % uuid,
                 {"os-reset_status": {"status": "error"}}, 202)
        self.assertEqual(self.api(p, "GET", "/volumes/" + uuid, want=200)[1]["volume"]
                         ["status"], "error")
        self.delete_volume(p, uuid)
        self.assertEqual(self.catalog_volumes(p), [])
        self.assertEqual(self.api(p, "GET", "/volumes", want=200)[1]["volumes"], [])

    def test_http_snapshots_clones_and_force_delete(self):
        p = "http-snap"
        base = self.make_volume(p, {"size": 1, "volume_type": "gold", "name": "base"})
        _, reply = self.api(p, "POST", "/snapshots", {"snapshot": {
            "volume_id": base["id"], "name": "s1"}}, 202)
        sid = reply["snapshot"]["id"]
        s = self.wait_volume(p, sid, "snapshot available", lambda x: x["status"] == "available",
                             kind="snapshots")
        self.assertEqual((s["name"], s["volume_id"], s["size"]), ("s1", base["id"], 1))
        _, listed = self.api(p, "GET", "/snapshots", want=200)
        self.assertEqual([x["id"] for x in listed["snapshots"]], [sid])
        self.assertTrue(self.w.tagged_vdis()[sid][0]["is_a_snapshot"])
        _, reply = self.api(p, "PUT", "/snapshots/" + sid, {"snapshot": {"name": "s2"}}, 200)
        self.assertEqual(reply["snapshot"]["name"], "s2")
        # Volumes from the snapshot and from the volume: its size and type.
        fs = self.make_volume(p, {"snapshot_id": sid, "name": "from-snap"})
        fv = self.make_volume(p, {"source_volid": base["id"], "name": "from-vol"})
        self.assertEqual((fs["size"], fs["volume_type"], fs["snapshot_id"]), (1, "gold", sid))
        self.assertEqual((fv["size"], fv["volume_type"], fv["source_volid"]),
                         (1, "gold", base["id"]))
        rows = self.w.volumes()
        self.assertEqual((rows[fs["id"]]["parent_uuid"], rows[fv["id"]]["parent_uuid"]),
                         (sid, base["id"]))
        self.api(p, "DELETE", "/snapshots/" + sid, want=202)
        self.w.wait_until("snapshot deleted", lambda: self.w.volumes()[sid]["state"]
                          == "deleted" and sid not in self.w.tagged_vdis(), timeout=60)
        # The admin sees them with all_tenants and force-deletes another's volume.
        _, reply = self.api("admin", "GET", "/volumes/detail?all_tenants=1", want=200)
        self.assertTrue({base["id"], fs["id"], fv["id"]} <= {x["id"] for x in reply["volumes"]})
        self.api(p, "POST", "/volumes/%s/action" % fs["id"], {"os-force_delete": {}}, 403)
        # As cinderclient sends it: {"os-force_delete": null}.
        self.api("admin", "POST", "/volumes/%s/action" % fs["id"],
                 b'{"os-force_delete": null}', 202)
        for uuid in (fv["id"], base["id"]):
            self.delete_volume(p, uuid)
        self.w.wait_until("all deleted", lambda: not self.catalog_volumes(p), timeout=60)

    def test_http_types_zones_quota_limits_versions(self):
        _, reply = self.api("admin", "GET", "/types", want=200)
        types = {t["name"]: t for t in reply["volume_types"]}
        self.assertTrue({"gold", "silver"} <= set(types), types)
        _, reply = self.api("admin", "GET", "/types/" + types["gold"]["id"], want=200)
        self.assertEqual((reply["volume_type"]["name"], reply["volume_type"]["description"]),
                         ("gold", "NFS in za"))
        _, reply = self.api("admin", "GET", "/types/%s/extra_specs" % types["gold"]["id"],
                            want=200)
        self.assertEqual(reply, {"extra_specs": {}})
        _, reply = self.api("admin", "POST", "/types/%s/extra_specs" % types["gold"]["id"],
                            {"extra_specs": {"k": "v"}}, 400)
        self.assertIn("keeps no extra specs", reply["badRequest"]["message"])
        _, reply = self.api("admin", "POST", "/types", {"volume_type": {
            "name": "http-bronze", "description": "later"}}, 200)
        made = reply["volume_type"]
        flavors = [f["label"] for f in self.w.json("sm", "flavor_list")["flavors"]]
        self.assertIn("http-bronze", flavors)
        self.api("someone", "POST", "/types", {"volume_type": {"name": "tin"}}, 403)
        self.api("admin", "POST", "/types", {"volume_type": {"name": "http-bronze"}}, 409)
        self.api("admin", "DELETE", "/types/" + made["id"], want=202)
        flavors = [f["label"] for f in self.w.json("sm", "flavor_list")["flavors"]]
        self.assertNotIn("http-bronze", flavors)
        _, reply = self.api("zones", "GET", "/os-availability-zone", want=200)
        self.assertEqual(sorted((z["zoneName"], z["zoneState"]["available"])
                                for z in reply["availabilityZoneInfo"]),
                         [("za", True), ("zb", True)])
        # Quota and limits count the catalog.
        p = "http-quota"
        self.make_volume(p, {"size": 2, "volume_type": "silver", "name": "q1"})
        _, reply = self.api(p, "GET", "/os-quota-sets/%s?usage=True" % p, want=200)
        q = reply["quota_set"]
        self.assertEqual((q["volumes"]["limit"], q["volumes"]["in_use"],
                          q["gigabytes"]["limit"], q["gigabytes"]["in_use"]), (1000, 1, 100000, 2))
        _, reply = self.api(p, "GET", "/os-quota-sets/" + p, want=200)
        self.assertEqual(reply["quota_set"]["volumes"], 1000)
        self.api(p, "GET", "/os-quota-sets/other-team", want=403)
        _, reply = self.api(p, "GET", "/limits", want=200)
        a = reply["limits"]["absolute"]
        self.assertEqual((a["totalVolumesUsed"], a["totalGigabytesUsed"],
                          a["maxTotalVolumeGigabytes"]), (1, 2, 100000))
        _, reply = self.api(p, "POST", "/volumes", {"volume": {
            "size": 99999, "volume_type": "silver", "name": "huge"}}, 413)
        self.assertEqual(list(reply), ["overLimit"])
        self.assertEqual([v["name"] for v in self.catalog_volumes(p)], ["q1"])
        self.delete_volume(p, self.catalog_volumes(p)[0]["uuid"])
        # The version documents.
        for path, want in (("/", 300), ("/v3", 200)):
            st, _, reply = http("GET", self.root + path)
            self.assertEqual((st, reply["versions"][0]["version"]), (want, "3.70"), path)

    def test_http_unplaceable_create_leaves_a_message(self):
        self.w.ok("sm", "flavor_create", "http-empty", "a flavor without backends")
        self.addCleanup(self.w.manage, "sm", "flavor_delete", "http-empty")
        p = "http-doomed"
        _, reply = self.api(p, "POST", "/volumes", {"volume": {
            "size": 1, "volume_type": "http-empty", "name": "doomed"}}, 202)
        uuid = reply["volume"]["id"]
        self.wait_volume(p, uuid, "doomed in error", lambda x: x["status"] == "error")
        [v] = self.catalog_volumes(p)
        _, reply = self.api(p, "GET", "/messages?request_id=" + v["request_id"], want=200)
        [m] = reply["messages"]
        self.assertEqual(m["resource_uuid"], uuid)
        self.assertIn("no backend could take it", m["user_message"])
        self.assertIn("flavor http-empty has no backends", m["user_message"])
        _, reply = self.api(p, "GET", "/messages/" + m["id"], want=200)
        self.assertEqual(reply["message"]["resource_uuid"], uuid)
        self.api("http-other", "GET", "/messages/" + m["id"], want=404)
        self.delete_volume(p, uuid)
        self.w.wait_until("doomed deleted", lambda: not self.catalog_volumes(p), timeout=60)
