"""Lambda layers and layer-version permissions (issue 3), through boto3 and the AWS CLI,
checked against aws-wire.md §4, §5 and the §8 deviations of moto that we must not have."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import REGION, http_get, make_zip, organization_id, sha256_b64, status, unique

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CREATED_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
ACTION = "lambda:GetLayerVersion"
STALE_REVISION = (
    "The Revision Id provided does not match the latest Revision Id. "
    "Call the GetLayerPolicy API to retrieve the latest Revision Id"
)
NO_POLICY = "No policy is associated with the given resource."
NOT_FOUND = "The resource you requested does not exist."

pytestmark = pytest.mark.layers


def layer_arn(account_id: str, name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{account_id}:layer:{name}"


def statement(sid: str, principal, resource: str, org: str | None = None) -> str:
    """The exact §5.2 string: compact, keys Sid, Effect, Principal, Action, Resource[, Condition]."""
    principal_json = '"*"' if principal == "*" else f'{{"AWS":"arn:aws:iam::{principal}:root"}}'
    text = (
        f'{{"Sid":"{sid}","Effect":"Allow","Principal":{principal_json},'
        f'"Action":"{ACTION}","Resource":"{resource}"'
    )
    if org:
        text += f',"Condition":{{"StringEquals":{{"aws:PrincipalOrgID":"{org}"}}}}'
    return text + "}"


def policy(*statements: str) -> str:
    return '{"Version":"2012-10-17","Id":"default","Statement":[' + ",".join(statements) + "]}"


def error_of(excinfo) -> tuple[int, str, str]:
    response = excinfo.value.response
    return status(response), response["Error"]["Code"], response["Error"]["Message"]


def publish(client, name: str, zip_bytes: bytes | None = None, **kwargs) -> dict:
    response = client.publish_layer_version(
        LayerName=name, Content={"ZipFile": zip_bytes or make_zip(name)}, **kwargs
    )
    assert status(response) == 201, response
    return response


def grant(client, name, version, sid, principal, **kwargs) -> dict:
    response = client.add_layer_version_permission(
        LayerName=name,
        VersionNumber=version,
        StatementId=sid,
        Action=ACTION,
        Principal=principal,
        **kwargs,
    )
    assert status(response) == 201, response
    return response


def assert_denied(excinfo, caller_id: str, version_arn: str) -> None:
    code, error_code, message = error_of(excinfo)
    assert (code, error_code) == (403, "AccessDeniedException")
    assert message == (
        f"User: arn:aws:iam::{caller_id}:root is not authorized to perform: {ACTION} on resource: "
        f"{version_arn} because no resource-based policy allows the {ACTION} action"
    )


@pytest.fixture
def owner_client(grantd, owner):
    return grantd.client(owner)


# -- publish, get, list, delete --------------------------------------------------------------


def test_publish_numbers_versions_and_reports_the_zip_digest(owner_client, owner):
    name = unique("publish")
    first_zip, second_zip = make_zip("one"), make_zip("two, a little longer")
    first = publish(owner_client, name, first_zip)
    second = publish(owner_client, name, second_zip)

    assert first["Version"] == 1 and second["Version"] == 2
    for response, data in ((first, first_zip), (second, second_zip)):
        assert response["Content"]["CodeSha256"] == sha256_b64(data)
        assert response["Content"]["CodeSize"] == len(data)
        assert response["Content"]["Location"].startswith("http")
        assert response["LayerArn"] == layer_arn(owner.account_id, name)
        assert response["LayerVersionArn"] == f"{layer_arn(owner.account_id, name)}:{response['Version']}"
        assert CREATED_DATE.match(response["CreatedDate"]), response["CreatedDate"]


def test_publish_output_has_description_and_lists_but_no_unset_license(owner_client):
    bare = publish(owner_client, unique("bare"))
    assert bare["Description"] == ""
    assert bare["CompatibleRuntimes"] == []
    assert bare["CompatibleArchitectures"] == []
    assert "LicenseInfo" not in bare

    full = publish(
        owner_client,
        unique("full"),
        Description="shared helpers",
        CompatibleRuntimes=["python3.12", "python3.13"],
        CompatibleArchitectures=["arm64"],
        LicenseInfo="MIT",
    )
    assert full["Description"] == "shared helpers"
    assert full["CompatibleRuntimes"] == ["python3.12", "python3.13"]
    assert full["CompatibleArchitectures"] == ["arm64"]
    assert full["LicenseInfo"] == "MIT"


def test_publish_with_an_unsupported_runtime_is_a_validation_error(owner_client):
    with pytest.raises(ClientError) as excinfo:
        owner_client.publish_layer_version(
            LayerName=unique("bad"), Content={"ZipFile": make_zip()}, CompatibleRuntimes=["python2.7"]
        )
    code, error_code, message = error_of(excinfo)
    assert (code, error_code) == (400, "ValidationException")
    assert message.startswith(
        "1 validation error detected: Value '[python2.7]' at 'compatibleRuntimes' failed to satisfy "
        "constraint: Member must satisfy enum value set: [nodejs20.x, python3.14, "
    )


def test_get_layer_version_returns_what_publish_returned(owner_client, owner):
    name = unique("get")
    published = publish(owner_client, name, CompatibleRuntimes=["python3.12"], Description="d")
    for layer_name in (name, layer_arn(owner.account_id, name)):
        got = owner_client.get_layer_version(LayerName=layer_name, VersionNumber=1)
        assert status(got) == 200
        for key in ("LayerArn", "LayerVersionArn", "Version", "Description", "CreatedDate",
                    "CompatibleRuntimes", "CompatibleArchitectures"):
            assert got[key] == published[key], key
        assert got["Content"]["CodeSha256"] == published["Content"]["CodeSha256"]
        assert got["Content"]["CodeSize"] == published["Content"]["CodeSize"]


def test_get_layer_version_by_arn_returns_the_version(owner_client):
    name = unique("byarn")
    published = publish(owner_client, name)
    got = owner_client.get_layer_version_by_arn(Arn=published["LayerVersionArn"])
    assert status(got) == 200
    assert got["Version"] == 1
    assert got["LayerVersionArn"] == published["LayerVersionArn"]
    assert got["Content"]["CodeSha256"] == published["Content"]["CodeSha256"]


def test_get_layer_version_by_arn_without_a_version_is_a_validation_error(owner_client, owner):
    arn = layer_arn(owner.account_id, unique("noversion"))
    with pytest.raises(ClientError) as excinfo:
        owner_client.get_layer_version_by_arn(Arn=arn)
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        f"1 validation error detected: Value '{arn}' at 'arn' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: "
        r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}"
        r":layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)",
    )


def test_unknown_version_is_not_found_and_version_zero_is_invalid(owner_client):
    name = unique("missing")
    publish(owner_client, name)
    with pytest.raises(ClientError) as excinfo:
        owner_client.get_layer_version(LayerName=name, VersionNumber=2)
    assert error_of(excinfo) == (404, "ResourceNotFoundException", NOT_FOUND)
    # Modeled: botocore also parses the members, with Lambda's capital-M Message (§3.3).
    assert excinfo.value.response.get("Type") == "User"
    assert excinfo.value.response.get("Message") == NOT_FOUND

    with pytest.raises(ClientError) as excinfo:
        owner_client.get_layer_version(LayerName=name, VersionNumber=0)
    assert error_of(excinfo) == (400, "InvalidParameterValueException", "Layer Version Cannot be less than 1")
    assert excinfo.value.response.get("Type") == "User"
    assert excinfo.value.response.get("message") == "Layer Version Cannot be less than 1"


def test_owner_downloads_the_zip_from_content_location(owner_client):
    data = make_zip("downloaded by its owner")
    location = publish(owner_client, unique("download"), data)["Content"]["Location"]
    assert http_get(location) == (200, data)


def test_list_layers_shows_the_latest_matching_version(grantd, new_account):
    client = grantd.client(new_account())
    publish(client, "alpha", CompatibleRuntimes=["python3.12"], CompatibleArchitectures=["x86_64"])
    publish(client, "alpha", CompatibleRuntimes=["nodejs20.x"], CompatibleArchitectures=["arm64"])
    publish(client, "beta", CompatibleRuntimes=["python3.12"], Description="beta v1")

    everything = client.list_layers()
    assert status(everything) == 200
    latest = {layer["LayerName"]: layer["LatestMatchingVersion"] for layer in everything["Layers"]}
    assert sorted(latest) == ["alpha", "beta"]
    assert latest["alpha"]["Version"] == 2
    assert latest["beta"]["Version"] == 1
    assert latest["beta"]["Description"] == "beta v1"
    assert "Content" not in latest["alpha"]
    arn = everything["Layers"][0]["LayerArn"]
    assert arn == layer_arn(arn.split(":")[4], everything["Layers"][0]["LayerName"])

    python = client.list_layers(CompatibleRuntime="python3.12")["Layers"]
    assert {(l["LayerName"], l["LatestMatchingVersion"]["Version"]) for l in python} == {("alpha", 1), ("beta", 1)}
    arm = client.list_layers(CompatibleArchitecture="arm64")["Layers"]
    assert [(l["LayerName"], l["LatestMatchingVersion"]["Version"]) for l in arm] == [("alpha", 2)]
    assert client.list_layers(CompatibleRuntime="java21")["Layers"] == []


def test_list_layer_versions_is_newest_first(owner_client, owner):
    name = unique("versions")
    for _ in range(3):
        publish(owner_client, name)
    listed = owner_client.list_layer_versions(LayerName=name)
    assert status(listed) == 200
    assert [v["Version"] for v in listed["LayerVersions"]] == [3, 2, 1]
    assert "NextMarker" not in listed
    by_arn = owner_client.list_layer_versions(LayerName=layer_arn(owner.account_id, name))
    assert [v["Version"] for v in by_arn["LayerVersions"]] == [3, 2, 1]


def test_list_layer_versions_of_an_unknown_layer_is_empty(owner_client):
    listed = owner_client.list_layer_versions(LayerName=unique("nothing"))
    assert status(listed) == 200
    assert listed["LayerVersions"] == []


def test_max_items_above_fifty_is_a_validation_error(owner_client):
    with pytest.raises(ClientError) as excinfo:
        owner_client.list_layer_versions(LayerName=unique("page"), MaxItems=51)
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        "1 validation error detected: Value '51' at 'maxItems' failed to satisfy constraint: "
        "Member must have value less than or equal to 50",
    )


def test_paginator_walks_list_layer_versions_to_the_end(owner_client):
    name = unique("paged")
    for _ in range(5):
        publish(owner_client, name)
    pages = list(
        owner_client.get_paginator("list_layer_versions").paginate(
            LayerName=name, PaginationConfig={"PageSize": 2}
        )
    )
    sizes = [len(page["LayerVersions"]) for page in pages]
    assert sizes == [2, 2, 1]
    versions = [v["Version"] for page in pages for v in page["LayerVersions"]]
    assert versions == [5, 4, 3, 2, 1]
    assert "NextMarker" not in pages[-1]


def test_paginator_walks_list_layers_to_the_end(grantd, new_account):
    client = grantd.client(new_account())
    names = [f"layer-{i}" for i in range(5)]
    for name in names:
        publish(client, name)
    pages = list(client.get_paginator("list_layers").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(page["Layers"]) for page in pages] == [2, 2, 1]
    seen = [layer["LayerName"] for page in pages for layer in page["Layers"]]
    assert sorted(seen) == names and len(set(seen)) == len(seen)


def test_delete_is_always_204_and_version_numbers_are_never_reused(owner_client):
    name = unique("delete")
    publish(owner_client, name)
    publish(owner_client, name)
    for version in (1, 2, 2):
        assert status(owner_client.delete_layer_version(LayerName=name, VersionNumber=version)) == 204
    assert status(owner_client.delete_layer_version(LayerName=unique("never"), VersionNumber=1)) == 204

    with pytest.raises(ClientError) as excinfo:
        owner_client.get_layer_version(LayerName=name, VersionNumber=1)
    assert error_of(excinfo) == (404, "ResourceNotFoundException", NOT_FOUND)
    assert owner_client.list_layer_versions(LayerName=name)["LayerVersions"] == []
    assert name not in [l["LayerName"] for l in owner_client.list_layers()["Layers"]]

    assert publish(owner_client, name)["Version"] == 3


def test_deleting_a_version_deletes_its_policy(grantd, owner_client, owner, new_account):
    name = unique("delpolicy")
    publish(owner_client, name)
    grantee = new_account()
    grant(owner_client, name, 1, "xaccount", grantee.account_id)
    owner_client.delete_layer_version(LayerName=name, VersionNumber=1)
    with pytest.raises(ClientError) as excinfo:
        owner_client.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert error_of(excinfo)[:2] == (404, "ResourceNotFoundException")
    with pytest.raises(ClientError) as excinfo:
        grantd.client(grantee).get_layer_version(LayerName=layer_arn(owner.account_id, name), VersionNumber=1)
    assert error_of(excinfo)[:2] == (403, "AccessDeniedException")


# -- permissions ------------------------------------------------------------------------------


def test_grant_to_an_account_returns_the_exact_statement(owner_client, owner, new_account):
    name = unique("stmt")
    version_arn = publish(owner_client, name)["LayerVersionArn"]
    grantee = new_account()

    added = grant(owner_client, name, 1, "xaccount", grantee.account_id)
    expected = statement("xaccount", grantee.account_id, version_arn)
    assert added["Statement"] == expected
    assert UUID.match(added["RevisionId"])

    got = owner_client.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert status(got) == 200
    assert got["Policy"] == policy(expected)
    assert got["RevisionId"] == added["RevisionId"]


def test_principal_given_as_a_root_arn_is_stored_like_an_account_id(owner_client, new_account):
    name = unique("rootarn")
    version_arn = publish(owner_client, name)["LayerVersionArn"]
    grantee = new_account()
    added = grant(owner_client, name, 1, "root", f"arn:aws:iam::{grantee.account_id}:root")
    assert added["Statement"] == statement("root", grantee.account_id, version_arn)


def test_layer_arn_as_layer_name_grants_the_version_arn(owner_client, owner, new_account):
    name = unique("arnname")
    version_arn = publish(owner_client, name)["LayerVersionArn"]
    grantee = new_account()
    added = grant(owner_client, layer_arn(owner.account_id, name), 1, "byarn", grantee.account_id)
    assert added["Statement"] == statement("byarn", grantee.account_id, version_arn)


def test_granted_account_gets_and_downloads_the_version(grantd, owner_client, owner, new_account):
    name = unique("shared")
    data = make_zip("shared with one account")
    version_arn = publish(owner_client, name, data)["LayerVersionArn"]
    grantee = new_account()
    grant(owner_client, name, 1, "xaccount", grantee.account_id)
    client = grantd.client(grantee)

    got = client.get_layer_version(LayerName=layer_arn(owner.account_id, name), VersionNumber=1)
    assert status(got) == 200
    assert got["LayerVersionArn"] == version_arn
    assert got["Content"]["CodeSha256"] == sha256_b64(data)
    assert http_get(got["Content"]["Location"]) == (200, data)

    by_arn = client.get_layer_version_by_arn(Arn=version_arn)
    assert status(by_arn) == 200
    assert by_arn["Version"] == 1
    assert http_get(by_arn["Content"]["Location"]) == (200, data)

    # The grant covers one version only (§5.1).
    publish(owner_client, name)
    with pytest.raises(ClientError) as excinfo:
        client.get_layer_version_by_arn(Arn=f"{layer_arn(owner.account_id, name)}:2")
    assert_denied(excinfo, grantee.account_id, f"{layer_arn(owner.account_id, name)}:2")


def test_ungranted_account_is_denied(grantd, owner_client, owner, new_account):
    name = unique("denied")
    version_arn = publish(owner_client, name)["LayerVersionArn"]
    grant(owner_client, name, 1, "xaccount", new_account().account_id)
    stranger = new_account()
    client = grantd.client(stranger)

    with pytest.raises(ClientError) as excinfo:
        client.get_layer_version(LayerName=layer_arn(owner.account_id, name), VersionNumber=1)
    assert_denied(excinfo, stranger.account_id, version_arn)
    with pytest.raises(ClientError) as excinfo:
        client.get_layer_version_by_arn(Arn=version_arn)
    assert_denied(excinfo, stranger.account_id, version_arn)


def test_a_missing_foreign_version_answers_like_an_ungranted_one(grantd, owner_client, owner, new_account):
    name = unique("oracle")
    publish(owner_client, name)
    stranger = new_account()
    missing = f"{layer_arn(owner.account_id, name)}:99"
    with pytest.raises(ClientError) as excinfo:
        grantd.client(stranger).get_layer_version_by_arn(Arn=missing)
    assert_denied(excinfo, stranger.account_id, missing)
    never = f"{layer_arn(owner.account_id, unique('never'))}:1"
    with pytest.raises(ClientError) as excinfo:
        grantd.client(stranger).get_layer_version_by_arn(Arn=never)
    assert_denied(excinfo, stranger.account_id, never)


def test_a_grant_authorizes_nothing_but_reading_the_version(grantd, owner_client, owner, new_account):
    name = unique("readonly")
    publish(owner_client, name)
    grantee = new_account()
    grant(owner_client, name, 1, "xaccount", grantee.account_id)
    client = grantd.client(grantee)
    foreign = layer_arn(owner.account_id, name)

    attempts = [
        lambda: client.get_layer_version_policy(LayerName=foreign, VersionNumber=1),
        lambda: client.add_layer_version_permission(
            LayerName=foreign, VersionNumber=1, StatementId="mine", Action=ACTION, Principal="*"
        ),
        lambda: client.remove_layer_version_permission(LayerName=foreign, VersionNumber=1, StatementId="xaccount"),
        lambda: client.delete_layer_version(LayerName=foreign, VersionNumber=1),
        lambda: client.list_layer_versions(LayerName=foreign),
        lambda: client.publish_layer_version(LayerName=foreign, Content={"ZipFile": make_zip()}),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError) as excinfo:
            attempt()
        assert error_of(excinfo)[:2] == (403, "AccessDeniedException")

    # Nothing changed, and the foreign layer is not in the grantee's own list.
    assert owner_client.list_layer_versions(LayerName=name)["LayerVersions"][0]["Version"] == 1
    assert json.loads(owner_client.get_layer_version_policy(LayerName=name, VersionNumber=1)["Policy"])[
        "Statement"
    ][0]["Sid"] == "xaccount"
    assert client.list_layers()["Layers"] == []


def test_revoking_a_grant_denies_the_account_again(grantd, owner_client, owner, new_account):
    name = unique("revoke")
    version_arn = publish(owner_client, name)["LayerVersionArn"]
    grantee = new_account()
    added = grant(owner_client, name, 1, "xaccount", grantee.account_id)
    client = grantd.client(grantee)
    location = client.get_layer_version_by_arn(Arn=version_arn)["Content"]["Location"]

    removed = owner_client.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="xaccount")
    assert status(removed) == 204

    with pytest.raises(ClientError) as excinfo:
        client.get_layer_version_by_arn(Arn=version_arn)
    assert_denied(excinfo, grantee.account_id, version_arn)
    with pytest.raises(ClientError) as excinfo:
        client.get_layer_version(LayerName=layer_arn(owner.account_id, name), VersionNumber=1)
    assert_denied(excinfo, grantee.account_id, version_arn)
    # A download URL handed out before the revocation stops working too.
    assert http_get(location)[0] == 403

    # The last statement is gone: no policy at all (§9).
    with pytest.raises(ClientError) as excinfo:
        owner_client.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert error_of(excinfo) == (404, "ResourceNotFoundException", NO_POLICY)
    assert added["RevisionId"]


def test_organization_grant_admits_members_only(grantd, owner_client, new_account):
    name = unique("org")
    data = make_zip("for the organization")
    version_arn = publish(owner_client, name, data)["LayerVersionArn"]
    org = organization_id()
    member, outsider, loner = new_account(org), new_account(organization_id()), new_account()

    added = grant(owner_client, name, 1, "engineering-org", "*", OrganizationId=org)
    assert added["Statement"] == statement("engineering-org", "*", version_arn, org)

    got = grantd.client(member).get_layer_version_by_arn(Arn=version_arn)
    assert status(got) == 200
    assert http_get(got["Content"]["Location"]) == (200, data)
    for account in (outsider, loner):
        with pytest.raises(ClientError) as excinfo:
            grantd.client(account).get_layer_version_by_arn(Arn=version_arn)
        assert_denied(excinfo, account.account_id, version_arn)


def test_public_grant_admits_every_account(grantd, owner_client, new_account):
    name = unique("public")
    version_arn = publish(owner_client, name)["LayerVersionArn"]
    added = grant(owner_client, name, 1, "public", "*")
    assert added["Statement"] == statement("public", "*", version_arn)
    for account in (new_account(), new_account(organization_id())):
        assert status(grantd.client(account).get_layer_version_by_arn(Arn=version_arn)) == 200


def test_organization_with_an_account_principal_is_an_invalid_parameter(owner_client, new_account):
    name = unique("orgacct")
    publish(owner_client, name)
    with pytest.raises(ClientError) as excinfo:
        owner_client.add_layer_version_permission(
            LayerName=name, VersionNumber=1, StatementId="s1", Action=ACTION,
            Principal=new_account().account_id, OrganizationId=organization_id(),
        )
    assert error_of(excinfo)[:2] == (400, "InvalidParameterValueException")


def test_statements_keep_insertion_order_and_revisions_change_on_every_write(owner_client, new_account):
    name = unique("order")
    version_arn = publish(owner_client, name)["LayerVersionArn"]
    a, b = new_account(), new_account()
    first = grant(owner_client, name, 1, "s2", a.account_id)
    assert owner_client.get_layer_version_policy(LayerName=name, VersionNumber=1)["RevisionId"] == first["RevisionId"]
    second = grant(owner_client, name, 1, "s1", b.account_id, RevisionId=first["RevisionId"])
    assert second["RevisionId"] != first["RevisionId"]

    got = owner_client.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert got["Policy"] == policy(statement("s2", a.account_id, version_arn), statement("s1", b.account_id, version_arn))
    assert got["RevisionId"] == second["RevisionId"]

    owner_client.remove_layer_version_permission(
        LayerName=name, VersionNumber=1, StatementId="s2", RevisionId=second["RevisionId"]
    )
    after = owner_client.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert after["Policy"] == policy(statement("s1", b.account_id, version_arn))
    assert after["RevisionId"] not in (first["RevisionId"], second["RevisionId"])
    assert UUID.match(after["RevisionId"])


def test_stale_revision_is_a_precondition_failure_and_changes_nothing(owner_client, new_account):
    name = unique("stale")
    version_arn = publish(owner_client, name)["LayerVersionArn"]
    a = new_account()
    first = grant(owner_client, name, 1, "s1", a.account_id)
    grant(owner_client, name, 1, "s2", "*")
    before = owner_client.get_layer_version_policy(LayerName=name, VersionNumber=1)

    with pytest.raises(ClientError) as excinfo:
        owner_client.add_layer_version_permission(
            LayerName=name, VersionNumber=1, StatementId="s3", Action=ACTION, Principal="*",
            RevisionId=first["RevisionId"],
        )
    assert error_of(excinfo) == (412, "PreconditionFailedException", STALE_REVISION)
    assert excinfo.value.response.get("Type") == "User"

    with pytest.raises(ClientError) as excinfo:
        owner_client.remove_layer_version_permission(
            LayerName=name, VersionNumber=1, StatementId="s1", RevisionId=first["RevisionId"]
        )
    assert error_of(excinfo) == (412, "PreconditionFailedException", STALE_REVISION)

    after = owner_client.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert after == {**after, "Policy": before["Policy"], "RevisionId": before["RevisionId"]}
    assert json.loads(after["Policy"])["Statement"][0]["Resource"] == version_arn


def test_revision_given_before_any_policy_exists_is_a_precondition_failure(owner_client):
    # aws-wire.md §9 pins 412: no revision can match when there is no policy yet.
    name = unique("norev")
    publish(owner_client, name)
    with pytest.raises(ClientError) as excinfo:
        owner_client.add_layer_version_permission(
            LayerName=name, VersionNumber=1, StatementId="s1", Action=ACTION, Principal="*",
            RevisionId="35d87451-f796-4a3f-a618-95a3671b0a0c",
        )
    assert error_of(excinfo) == (412, "PreconditionFailedException", STALE_REVISION)


def test_duplicate_statement_id_is_a_conflict(owner_client):
    name = unique("dup")
    publish(owner_client, name)
    first = grant(owner_client, name, 1, "s1", "*")
    message = (
        "The statement id (s1) provided already exists. "
        "Please provide a new statement id, or remove the existing statement."
    )
    with pytest.raises(ClientError) as excinfo:
        grant(owner_client, name, 1, "s1", "*")
    assert error_of(excinfo) == (409, "ResourceConflictException", message)
    assert excinfo.value.response.get("Type") == "User"
    # Duplicate and stale in one request: 409 (aws-wire.md §9 pins the order).
    with pytest.raises(ClientError) as excinfo:
        grant(owner_client, name, 1, "s1", "*", RevisionId="00000000-0000-0000-0000-000000000000")
    assert error_of(excinfo) == (409, "ResourceConflictException", message)
    assert owner_client.get_layer_version_policy(LayerName=name, VersionNumber=1)["RevisionId"] == first["RevisionId"]


def test_policy_of_a_version_without_statements_is_not_found(owner_client):
    name = unique("nopolicy")
    publish(owner_client, name)
    with pytest.raises(ClientError) as excinfo:
        owner_client.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert error_of(excinfo) == (404, "ResourceNotFoundException", NO_POLICY)


def test_policy_operations_on_a_missing_version_name_the_version_arn(owner_client, owner):
    name = unique("nover")
    publish(owner_client, name)
    missing_version = f"Layer version {layer_arn(owner.account_id, name)}:2 does not exist."
    calls = [
        lambda n, v: owner_client.get_layer_version_policy(LayerName=n, VersionNumber=v),
        lambda n, v: owner_client.add_layer_version_permission(
            LayerName=n, VersionNumber=v, StatementId="s1", Action=ACTION, Principal="*"
        ),
        lambda n, v: owner_client.remove_layer_version_permission(LayerName=n, VersionNumber=v, StatementId="s1"),
    ]
    missing_layer = unique("nolayer")
    for call in calls:
        with pytest.raises(ClientError) as excinfo:
            call(name, 2)
        assert error_of(excinfo) == (404, "ResourceNotFoundException", missing_version)
        with pytest.raises(ClientError) as excinfo:
            call(missing_layer, 1)
        assert error_of(excinfo) == (
            404,
            "ResourceNotFoundException",
            f"Layer version {layer_arn(owner.account_id, missing_layer)}:1 does not exist.",
        )


def test_removing_an_unknown_statement_is_not_found(owner_client):
    name = unique("nostmt")
    publish(owner_client, name)
    grant(owner_client, name, 1, "s1", "*")
    with pytest.raises(ClientError) as excinfo:
        owner_client.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="doesnotexist")
    assert error_of(excinfo) == (404, "ResourceNotFoundException", "Statement doesnotexist is not found in resource policy.")


def test_only_get_layer_version_may_be_granted(owner_client):
    name = unique("action")
    publish(owner_client, name)
    with pytest.raises(ClientError) as excinfo:
        owner_client.add_layer_version_permission(
            LayerName=name, VersionNumber=1, StatementId="s1", Action="*", Principal="*"
        )
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        "1 validation error detected: Value '*' at 'action' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: lambda:GetLayerVersion",
    )


def test_policy_size_limit(owner_client):
    name = unique("big")
    publish(owner_client, name)
    sid = "s" * 90
    with pytest.raises(ClientError) as excinfo:
        for i in range(200):
            grant(owner_client, name, 1, f"{sid}{i:03d}", "*")
    code, error_code, message = error_of(excinfo)
    assert (code, error_code) == (400, "PolicyLengthExceededException")
    # aws-wire.md §5.5 recommends this text [INFER].
    assert re.fullmatch(r"The final policy size \(\d+\) is bigger than the limit \(20480\)\.", message), message
    assert len(owner_client.get_layer_version_policy(LayerName=name, VersionNumber=1)["Policy"]) <= 20480


# -- the README walk-through, with the AWS CLI ---------------------------------------------------


def test_aws_cli_walkthrough(grantd, owner, new_account, tmp_path: Path):
    zip_path = tmp_path / "layer.zip"
    data = make_zip("def greet():\n    return 'hello'\n")
    zip_path.write_bytes(data)
    name = unique("my-layer")
    org = organization_id()
    bob, carol = new_account(), new_account(org)

    published = grantd.aws_json(
        owner, "lambda", "publish-layer-version", "--layer-name", name,
        "--description", "shared helpers", "--zip-file", f"fileb://{zip_path}",
        "--compatible-runtimes", "python3.12", "python3.13",
        "--compatible-architectures", "x86_64", "arm64",
    )
    assert published["Version"] == 1
    assert published["Content"]["CodeSha256"] == sha256_b64(data)
    version_arn = published["LayerVersionArn"]
    arn = published["LayerArn"]

    shared = grantd.aws_json(
        owner, "lambda", "add-layer-version-permission", "--layer-name", name, "--version-number", "1",
        "--statement-id", "share-with-bob", "--action", ACTION, "--principal", bob.account_id,
    )
    assert shared["Statement"] == statement("share-with-bob", bob.account_id, version_arn)
    org_shared = grantd.aws_json(
        owner, "lambda", "add-layer-version-permission", "--layer-name", name, "--version-number", "1",
        "--statement-id", "share-with-org", "--action", ACTION, "--principal", "*",
        "--organization-id", org,
    )
    assert org_shared["Statement"] == statement("share-with-org", "*", version_arn, org)
    policy_doc = grantd.aws_json(owner, "lambda", "get-layer-version-policy", "--layer-name", name, "--version-number", "1")
    assert policy_doc["Policy"] == policy(shared["Statement"], org_shared["Statement"])
    assert policy_doc["RevisionId"] == org_shared["RevisionId"]

    for account in (bob, carol):
        got = grantd.aws_json(account, "lambda", "get-layer-version-by-arn", "--arn", version_arn)
        assert got["Version"] == 1
        assert http_get(got["Content"]["Location"]) == (200, data)
        got = grantd.aws_json(account, "lambda", "get-layer-version", "--layer-name", arn, "--version-number", "1")
        assert got["LayerVersionArn"] == version_arn

    stale = grantd.aws(
        owner, "lambda", "remove-layer-version-permission", "--layer-name", name, "--version-number", "1",
        "--statement-id", "share-with-bob", "--revision-id", shared["RevisionId"], check=False,
    )
    assert stale.returncode != 0 and "PreconditionFailedException" in stale.stderr

    removed = grantd.aws(
        owner, "lambda", "remove-layer-version-permission", "--layer-name", name, "--version-number", "1",
        "--statement-id", "share-with-bob", "--revision-id", policy_doc["RevisionId"],
    )
    assert removed.stdout.strip() == ""
    denied = grantd.aws(bob, "lambda", "get-layer-version-by-arn", "--arn", version_arn, check=False)
    assert denied.returncode != 0
    assert "AccessDeniedException" in denied.stderr
    # Carol's organization grant is untouched.
    assert grantd.aws_json(carol, "lambda", "get-layer-version-by-arn", "--arn", version_arn)["Version"] == 1

    grantd.aws(owner, "lambda", "remove-layer-version-permission", "--layer-name", name, "--version-number", "1",
               "--statement-id", "share-with-org")
    denied = grantd.aws(carol, "lambda", "get-layer-version-by-arn", "--arn", version_arn, check=False)
    assert denied.returncode != 0 and "AccessDeniedException" in denied.stderr

    listed = grantd.aws_json(owner, "lambda", "list-layer-versions", "--layer-name", name)
    assert [v["Version"] for v in listed["LayerVersions"]] == [1]
    assert grantd.aws(owner, "lambda", "delete-layer-version", "--layer-name", name, "--version-number", "1").returncode == 0
    assert grantd.aws_json(owner, "lambda", "list-layer-versions", "--layer-name", name) == {"LayerVersions": []}
