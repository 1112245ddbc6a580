"""The keys API: admins issue keys (secret shown once), list them and revoke them at once."""

from tests.conftest import ADMIN
from tests.factories import event, issue_key, unique_id


async def test_admin_issues_a_key_whose_secret_is_shown_once(fresh_client):
    r = await fresh_client.post(
        "/v1/keys", json={"name": "partner-one", "role": "partner"}, headers=ADMIN
    )
    assert r.status_code == 201
    body = r.json()
    assert body["name"] == "partner-one" and body["role"] == "partner"
    assert body["secret"].startswith("srt_")
    listed = (await fresh_client.get("/v1/keys", headers=ADMIN)).json()["data"]
    assert {"partner-one", "bootstrap-admin"} <= {k["name"] for k in listed}
    assert all("secret" not in k and "hash" not in k for k in listed)


async def test_taken_key_name_is_409(fresh_client):
    await issue_key(fresh_client, "twice", "reader")
    r = await fresh_client.post("/v1/keys", json={"name": "twice", "role": "reader"}, headers=ADMIN)
    assert r.status_code == 409


async def test_unknown_role_is_422(fresh_client):
    r = await fresh_client.post("/v1/keys", json={"name": "x-key", "role": "root"}, headers=ADMIN)
    assert r.status_code == 422


async def test_revoked_key_is_401_at_once(fresh_client):
    headers = await issue_key(fresh_client, "short-lived", "editor")
    assert (
        await fresh_client.put(f"/v1/events/{unique_id()}", json=event(), headers=headers)
    ).status_code == 201
    assert (await fresh_client.delete("/v1/keys/short-lived", headers=ADMIN)).status_code == 204
    r = await fresh_client.put(f"/v1/events/{unique_id()}", json=event(), headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert (await fresh_client.delete("/v1/keys/short-lived", headers=ADMIN)).status_code == 404


async def test_revisions_record_which_key_made_each_change(fresh_client):
    editor = await issue_key(fresh_client, "curator", "editor")
    partner = await issue_key(fresh_client, "partner-x", "partner")
    record_id = unique_id()
    await fresh_client.put(f"/v1/events/{record_id}", json=event(), headers=partner)
    await fresh_client.patch(f"/v1/events/{record_id}", json={"summary": "Edited"}, headers=editor)
    revisions = (await fresh_client.get(f"/v1/events/{record_id}/revisions")).json()["data"]
    assert [(r["version"], r["by"]) for r in revisions] == [(2, "curator"), (1, "partner-x")]
    record = (await fresh_client.get(f"/v1/events/{record_id}")).json()
    assert record["owner"] == "partner-x" and record["updated_by"] == "curator"


async def test_a_revoked_key_is_401_at_once_on_every_instance(app_client):
    database = f"test_revoke_{unique_id()}".replace("-", "_")
    async with app_client(database=database) as one, app_client(database=database) as other:
        headers = await issue_key(one, "revoked-elsewhere", "editor")
        url = f"/v1/events/{unique_id()}"
        assert (await other.put(url, json=event(), headers=headers)).status_code == 201
        assert (await one.delete("/v1/keys/revoked-elsewhere", headers=ADMIN)).status_code == 204
        r = await other.put(url, json=event(title="After revocation"), headers=headers)
        assert r.status_code == 401


async def test_a_revoked_name_is_never_reissued_so_its_records_stay_its_own(fresh_client):
    partner = await issue_key(fresh_client, "partner-gone", "partner")
    record_id = unique_id()
    url = f"/v1/events/{record_id}"
    assert (await fresh_client.put(url, json=event(), headers=partner)).status_code == 201
    assert (await fresh_client.delete("/v1/keys/partner-gone", headers=ADMIN)).status_code == 204
    again = await fresh_client.post(
        "/v1/keys", json={"name": "partner-gone", "role": "partner"}, headers=ADMIN
    )
    assert again.status_code == 409
    assert "rotation" in again.json()["detail"]
    listed = {
        k["name"]: k for k in (await fresh_client.get("/v1/keys", headers=ADMIN)).json()["data"]
    }
    assert listed["partner-gone"]["revoked_at"] is not None
    newcomer = await issue_key(fresh_client, "partner-new", "partner")
    r = await fresh_client.patch(url, json={"summary": "Taken over"}, headers=newcomer)
    assert r.status_code == 403
    assert (await fresh_client.get(url)).json()["owner"] == "partner-gone"


async def test_rotation_keeps_the_principal_and_stops_the_old_secret(fresh_client):
    old = await issue_key(fresh_client, "partner-rotated", "partner")
    url = f"/v1/events/{unique_id()}"
    assert (await fresh_client.put(url, json=event(), headers=old)).status_code == 201
    assert (await fresh_client.delete("/v1/keys/partner-rotated", headers=ADMIN)).status_code == 204
    r = await fresh_client.post("/v1/keys/partner-rotated/rotation", headers=ADMIN)
    assert r.status_code == 201 and r.json()["name"] == "partner-rotated"
    new = {"Authorization": f"Bearer {r.json()['secret']}"}
    assert (await fresh_client.patch(url, json={"summary": "x"}, headers=old)).status_code == 401
    assert (await fresh_client.patch(url, json={"summary": "Mine"}, headers=new)).status_code == 200
    listed = {
        k["name"]: k for k in (await fresh_client.get("/v1/keys", headers=ADMIN)).json()["data"]
    }
    assert listed["partner-rotated"]["revoked_at"] is None
    missing = await fresh_client.post("/v1/keys/never-issued/rotation", headers=ADMIN)
    assert missing.status_code == 404
