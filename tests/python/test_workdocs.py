"""WorkDocs sharing (issue 4) through boto3, against a real `grantd serve`, in both of the
modes of aws-wire.md §6.1:

- token mode: an unsigned client (`signature_version=UNSIGNED`) that sends
  `AuthenticationToken` on every call; the token comes from our login endpoint
  (`POST /api/v1/grantd/login`) or from `grantd admin create-token`;
- SigV4 admin mode: the account's access keys and no token; the caller administers its
  own account only.

Every test builds its own folders and grantees, so the tests do not depend on each other
or on their order. Groups are made over our admin endpoint (`POST /api/v1/groups`, signed
with botocore's SigV4Auth for the service `workdocs`) or with `grantd admin create-group`.
"""

from __future__ import annotations

import datetime
import json
import re
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import partial
from urllib.parse import quote

import boto3
import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, ParamValidationError

from conftest import REGION, Account, status, unique

USER_ID = re.compile(r"^S-1-1-11-\d{10}-\d{10}-\d{10}-\d{4}&d-[a-z0-9]{10}$")
RESOURCE_ID = re.compile(r"^[0-9a-f]{64}$")
VERSION_ID = re.compile(r"^\d{13}-[0-9a-f]{64}$")
BAD_TOKEN = "The authentication token is not valid or has expired."
LOGIN_REFUSED = "The username or password is incorrect."
PASSWORD = "correct-horse-1"
NO_SUCH_RESOURCE = "0" * 64


# -- clients and callers ---------------------------------------------------------------------


def workdocs_client(grantd, account: Account | None = None):
    """boto3 WorkDocs, retries off: signed with `account`'s keys, or unsigned without one."""
    if account is None:
        config = Config(retries={"total_max_attempts": 1}, signature_version=UNSIGNED)
        keys = {}
    else:
        config = Config(retries={"total_max_attempts": 1})
        keys = {
            "aws_access_key_id": account.access_key_id,
            "aws_secret_access_key": account.secret_access_key,
        }
    return boto3.session.Session().client(
        "workdocs", endpoint_url=grantd.endpoint, region_name=REGION, config=config, **keys
    )


class Caller:
    """A boto3 client as one principal: in token mode every operation gets
    `AuthenticationToken`; in admin mode the client signs and sends no token.
    `principal` is how grantd names the caller in messages and activities."""

    def __init__(self, client, principal: str, token: str | None = None):
        self.client = client
        self.principal = principal
        self.token = token

    def __getattr__(self, operation):
        method = getattr(self.client, operation)
        if self.token is None:
            return method
        return partial(method, AuthenticationToken=self.token)


@dataclass
class Person:
    user: dict  # the CreateUser `User`
    caller: Caller  # token mode

    @property
    def id(self) -> str:
        return self.user["Id"]

    @property
    def root(self) -> str:
        return self.user["RootFolderId"]


def http(grantd, method: str, path: str, body=None, *, account: Account | None = None, token=None):
    """A plain HTTP request, as curl sends it: SigV4-signed for the service `workdocs`
    when `account` is given, with `Authentication: Bearer <token>` when `token` is.
    Returns (status, headers, parsed JSON body or None)."""
    data = json.dumps(body).encode() if body is not None else b""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token is not None:
        headers["Authentication"] = f"Bearer {token}"
    request = AWSRequest(method=method, url=grantd.endpoint + path, data=data, headers=headers)
    if account is not None:
        credentials = Credentials(account.access_key_id, account.secret_access_key)
        SigV4Auth(credentials, "workdocs", REGION).add_auth(request)
    prepared = request.prepare()
    raw = urllib.request.Request(
        prepared.url, data=prepared.body or None, headers=dict(prepared.headers), method=method
    )
    try:
        with urllib.request.urlopen(raw, timeout=30) as resp:
            code, got_headers, text = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        code, got_headers, text = err.code, err.headers, err.read()
    return code, got_headers, (json.loads(text) if text else None)


def login(grantd, organization_id: str, username: str, password: str):
    return http(
        grantd,
        "POST",
        "/api/v1/grantd/login",
        {"OrganizationId": organization_id, "Username": username, "Password": password},
    )


def refusal(excinfo) -> tuple[int, str, str]:
    response = excinfo.value.response
    return status(response), response["Error"]["Code"], response["Error"]["Message"]


def not_visible(principal: str, op: str) -> str:
    return f"Principal [{principal}] is not allowed to execute [workdocs:{op}] on the resource."


def no_role(principal: str, op: str) -> str:
    return (
        f"Principal [{principal}] does not have the role required to execute "
        f"[workdocs:{op}] on the resource."
    )


def assert_recent(value) -> None:
    """botocore parsed grantd's epoch seconds into an aware datetime of about now."""
    assert isinstance(value, datetime.datetime), value
    assert value.tzinfo is not None
    assert abs(value.timestamp() - time.time()) < 300, value


def assert_not_visible(call, principal: str, op: str, **kwargs) -> None:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    assert refusal(excinfo) == (404, "UnauthorizedResourceAccessException", not_visible(principal, op))


def principals(response) -> list[tuple[str, str, list[tuple[str, str]]]]:
    return [
        (p["Id"], p["Type"], [(r["Role"], r["Type"]) for r in p["Roles"]])
        for p in response["Principals"]
    ]


def share(caller, resource_id: str, *grants: tuple[str, str, str]) -> dict:
    response = caller.add_resource_permissions(
        ResourceId=resource_id,
        Principals=[{"Id": i, "Type": t, "Role": r} for i, t, r in grants],
    )
    assert status(response) == 201, response
    return response


# -- the site: the default account's WorkDocs organization -----------------------------------


class Site:
    def __init__(self, grantd, owner: Account):
        self.grantd = grantd
        self.account = owner
        credentials = json.loads((grantd.data_dir / "credentials.json").read_text())
        assert credentials["AccountId"] == owner.account_id
        self.org = credentials["DirectoryId"]
        self.admin = Caller(workdocs_client(grantd, owner), f"arn:aws:iam::{owner.account_id}:root")
        self.unsigned = workdocs_client(grantd)

    def create_user(self, prefix: str, **extra) -> dict:
        response = self.admin.create_user(
            Username=unique(prefix),
            GivenName=prefix.capitalize(),
            Surname="Tester",
            Password=PASSWORD,
            **extra,
        )
        assert status(response) == 201, response
        return response["User"]

    def token_caller(self, user: dict, token: str) -> Caller:
        return Caller(self.unsigned, user["Id"], token)

    def person(self, prefix: str) -> Person:
        """A new user with a token from `grantd admin create-token` (no login: the login
        endpoint limits attempts per source, and the suite makes many users)."""
        user = self.create_user(prefix)
        issued = self.grantd.admin("create-token", "--user-id", user["Id"])
        return Person(user, self.token_caller(user, issued["AuthenticationToken"]))

    def group(self, prefix: str, *members: Person) -> dict:
        code, _, body = http(
            self.grantd, "POST", "/api/v1/groups", {"Name": unique(prefix)}, account=self.account
        )
        assert code == 201, body
        group = body["Group"]
        for member in members:
            code, _, body = http(
                self.grantd,
                "PUT",
                f"/api/v1/groups/{quote(group['Id'], safe='')}/members/{quote(member.id, safe='')}",
                account=self.account,
            )
            assert (code, body) == (204, None)
        return group


@pytest.fixture(scope="module")
def site(grantd, owner) -> Site:
    return Site(grantd, owner)


@pytest.fixture(scope="module")
def alice(site, grantd) -> Person:
    """The owner of the trees the tests share; her token comes from our login endpoint."""
    user = site.create_user("alice", EmailAddress=f"alice-{secrets.token_hex(4)}@example.com")
    code, _, body = login(grantd, site.org, user["Username"], PASSWORD)
    assert code == 200, body
    return Person(user, site.token_caller(user, body["AuthenticationToken"]))


@pytest.fixture(params=["token", "sigv4"])
def sharer(request, site, alice) -> Caller:
    """Who builds and shares alice's folders: alice with her token, or the account's
    administrator with its access keys."""
    return alice.caller if request.param == "token" else site.admin


@dataclass
class Tree:
    folder: dict  # shared
    sub: dict
    document: dict  # InitiateDocumentVersionUpload's answer
    bob: Person  # grantee: USER VIEWER
    carol: Person  # member of `group`
    group: dict  # grantee: GROUP CONTRIBUTOR
    shared: dict  # AddResourcePermissions' answer

    @property
    def document_id(self) -> str:
        return self.document["Metadata"]["Id"]


def build_tree(site: Site, sharer: Caller, alice: Person) -> Tree:
    folder = sharer.create_folder(Name=unique("Projects"), ParentFolderId=alice.root)
    assert status(folder) == 201, folder
    sub = sharer.create_folder(Name="2026", ParentFolderId=folder["Metadata"]["Id"])
    assert status(sub) == 201, sub
    document = sharer.initiate_document_version_upload(
        Name="plan.txt",
        ParentFolderId=sub["Metadata"]["Id"],
        ContentType="text/plain",
        DocumentSizeInBytes=12,
    )
    assert status(document) == 201, document
    bob, carol = site.person("bob"), site.person("carol")
    group = site.group("reviewers", carol)
    shared = share(
        sharer,
        folder["Metadata"]["Id"],
        (bob.id, "USER", "VIEWER"),
        (group["Id"], "GROUP", "CONTRIBUTOR"),
        (f"S-1-1-11-0000000000-0000000000-0000000000-0000&{site.org}", "USER", "VIEWER"),
    )
    return Tree(folder["Metadata"], sub["Metadata"], document, bob, carol, group, shared)


@pytest.fixture
def tree(site, sharer, alice) -> Tree:
    """alice's folder / sub-folder / document, the folder shared with bob (VIEWER) and
    with a group holding carol (CONTRIBUTOR), by `sharer`."""
    return build_tree(site, sharer, alice)


# -- users and tokens ------------------------------------------------------------------------


def test_create_user_as_administrator_makes_active_users_with_their_folders(site):
    first = site.admin.create_user(
        Username=unique("ana"), GivenName="Ana", Surname="Lima", Password=PASSWORD,
        EmailAddress="ana@example.com",
    )
    second = site.admin.create_user(
        Username=unique("ben"), GivenName="Ben", Surname="Okafor", Password=PASSWORD,
        StorageRule={"StorageAllocatedInBytes": 1_000_000, "StorageType": "QUOTA"},
    )
    for response in (first, second):
        assert status(response) == 201
        user = response["User"]
        assert USER_ID.match(user["Id"]), user["Id"]
        assert user["Id"].endswith("&" + site.org)
        assert user["OrganizationId"] == site.org
        assert user["Status"] == "ACTIVE" and user["Type"] == "USER"
        assert RESOURCE_ID.match(user["RootFolderId"]) and RESOURCE_ID.match(user["RecycleBinFolderId"])
        assert user["RootFolderId"] != user["RecycleBinFolderId"]
        assert_recent(user["CreatedTimestamp"])
        assert user["ModifiedTimestamp"] == user["CreatedTimestamp"]
        assert "Password" not in user
    assert first["User"]["Id"] != second["User"]["Id"]
    assert first["User"]["EmailAddress"] == "ana@example.com"
    assert first["User"]["Storage"] == {
        "StorageUtilizedInBytes": 0, "StorageRule": {"StorageType": "UNLIMITED"},
    }
    assert second["User"]["Storage"]["StorageRule"] == {
        "StorageAllocatedInBytes": 1_000_000, "StorageType": "QUOTA",
    }
    # Both are found by id, as the administrator created them.
    found = site.admin.describe_users(UserIds=f"{first['User']['Id']},{second['User']['Id']}")
    assert status(found) == 200
    assert sorted(u["Id"] for u in found["Users"]) == sorted(
        (first["User"]["Id"], second["User"]["Id"])
    )


def test_create_user_refuses_a_taken_username_and_token_callers(site, alice):
    name = unique("dup")
    site.admin.create_user(Username=name, GivenName="A", Surname="B", Password=PASSWORD)
    with pytest.raises(ClientError) as excinfo:
        site.admin.create_user(Username=name, GivenName="C", Surname="D", Password=PASSWORD)
    code, error, _ = refusal(excinfo)
    assert (code, error) == (409, "EntityAlreadyExistsException")

    with pytest.raises(ClientError) as excinfo:
        alice.caller.create_user(Username=unique("x"), GivenName="X", Surname="Y", Password=PASSWORD)
    assert refusal(excinfo) == (403, "UnauthorizedOperationException", no_role(alice.id, "CreateUser"))


def test_login_endpoint_gives_a_token_that_boto3_carries(grantd, site):
    user = site.create_user("login")
    code, headers, body = login(grantd, site.org, user["Username"], PASSWORD)
    assert code == 200, body
    assert headers["Content-Type"] == "application/json"
    assert sorted(body) == ["AuthenticationToken", "ExpiresAt"]
    assert isinstance(body["ExpiresAt"], float)
    assert abs(body["ExpiresAt"] - (time.time() + 12 * 3600)) < 300  # 12 hours by default
    me = site.token_caller(user, body["AuthenticationToken"]).get_current_user()
    assert status(me) == 200
    assert me["User"]["Id"] == user["Id"]

    # A wrong password and an unknown user get the same answer.
    wrong = login(grantd, site.org, user["Username"], "wrong-password")
    unknown = login(grantd, site.org, unique("nobody"), PASSWORD)
    for code, headers, body in (wrong, unknown):
        assert code == 401
        assert headers["X-Amzn-ErrorType"] == "InvalidPasswordException"
        assert body == {"Message": LOGIN_REFUSED, "__type": "InvalidPasswordException"}


def test_get_current_user_is_the_token_user_and_refused_to_administrators(grantd, site, alice):
    me = alice.caller.get_current_user()
    assert status(me) == 200
    assert me["User"]["Id"] == alice.id
    assert me["User"]["Username"] == alice.user["Username"]
    assert me["User"]["RootFolderId"] == alice.root
    assert_recent(me["User"]["CreatedTimestamp"])

    # The model makes the token required here, so botocore will not send the call without one.
    with pytest.raises(ParamValidationError):
        site.admin.client.get_current_user()
    # Sent signed and without a token anyway, it is refused.
    for path, op in (("/api/v1/me", "GetCurrentUser"), ("/api/v1/me/root", "DescribeRootFolders")):
        code, headers, body = http(grantd, "GET", path, account=site.account)
        assert code == 403
        assert headers["X-Amzn-ErrorType"] == "UnauthorizedOperationException"
        assert body == {
            "Message": f"[workdocs:{op}] is not a valid action for SigV4 (administrative API) clients.",
            "__type": "UnauthorizedOperationException",
        }


def test_a_signed_request_with_a_token_acts_as_the_token_user(site, alice):
    me = site.admin.client.get_current_user(AuthenticationToken=alice.caller.token)
    assert status(me) == 200
    assert me["User"]["Id"] == alice.id
    # `Bearer <token>` and the bare token are the same token.
    me = site.unsigned.get_current_user(AuthenticationToken=f"Bearer {alice.caller.token}")
    assert me["User"]["Id"] == alice.id


def test_an_unknown_token_is_refused(site):
    for token in ("gdt_" + secrets.token_urlsafe(32), "Bearer not-a-token"):
        with pytest.raises(ClientError) as excinfo:
            site.unsigned.get_current_user(AuthenticationToken=token)
        assert refusal(excinfo) == (404, "UnauthorizedResourceAccessException", BAD_TOKEN)


def test_describe_root_folders_lists_the_root_and_the_recycle_bin(alice):
    response = alice.caller.describe_root_folders()
    assert status(response) == 200
    folders = {f["Id"]: f for f in response["Folders"]}
    assert set(folders) == {alice.root, alice.user["RecycleBinFolderId"]}
    for folder in folders.values():
        assert folder["CreatorId"] == alice.id
        assert folder["ResourceState"] == "ACTIVE"
        assert_recent(folder["CreatedTimestamp"])


def test_deactivate_user_refuses_their_token_at_once(grantd, site):
    user = site.create_user("leaver")
    issued = grantd.admin("create-token", "--user-id", user["Id"])
    assert sorted(issued) == ["AuthenticationToken", "ExpiresAt"]
    leaver = site.token_caller(user, issued["AuthenticationToken"])
    assert leaver.get_current_user()["User"]["Status"] == "ACTIVE"
    assert status(leaver.get_folder(FolderId=user["RootFolderId"])) == 200

    response = site.admin.deactivate_user(UserId=user["Id"])
    assert status(response) == 204

    for call, kwargs in (
        (leaver.get_current_user, {}),
        (leaver.get_folder, {"FolderId": user["RootFolderId"]}),
        (leaver.describe_root_folders, {}),
    ):
        with pytest.raises(ClientError) as excinfo:
            call(**kwargs)
        assert refusal(excinfo) == (404, "UnauthorizedResourceAccessException", BAD_TOKEN)
    code, _, body = login(grantd, site.org, user["Username"], PASSWORD)
    assert (code, body["Message"]) == (401, LOGIN_REFUSED)
    listed = site.admin.describe_users(UserIds=user["Id"], Include="ALL")["Users"]
    assert [(u["Id"], u["Status"]) for u in listed] == [(user["Id"], "INACTIVE")]


# -- groups ----------------------------------------------------------------------------------


def test_groups_from_our_endpoint_and_the_admin_command(grantd, site, alice):
    member = site.person("member")
    name = unique("Editors")
    code, _, body = http(grantd, "POST", "/api/v1/groups", {"Name": name}, account=site.account)
    assert code == 201, body
    group = body["Group"]
    assert USER_ID.match(group["Id"]) and group["Name"] == name
    members_path = f"/api/v1/groups/{quote(group['Id'], safe='')}/members"
    member_path = f"{members_path}/{quote(member.id, safe='')}"
    for _ in range(2):  # adding a member again changes nothing
        assert http(grantd, "PUT", member_path, account=site.account)[::2] == (204, None)
    code, _, body = http(grantd, "GET", members_path, account=site.account)
    assert code == 200
    assert [u["Id"] for u in body["Users"]] == [member.id]

    code, _, body = http(grantd, "POST", "/api/v1/groups", {"Name": name}, account=site.account)
    assert code == 409 and body["__type"] == "EntityAlreadyExistsException"
    # Token users do not administer groups.
    code, _, body = http(grantd, "POST", "/api/v1/groups", {"Name": unique("x")}, token=alice.caller.token)
    assert (code, body) == (
        403,
        {"Message": no_role(alice.id, "CreateGroup"), "__type": "UnauthorizedOperationException"},
    )

    # The same through `grantd admin`, on the data directory of the running server.
    command_name = unique("Auditors")
    made = grantd.admin("create-group", "--account-id", site.account.account_id, "--name", command_name)
    assert USER_ID.match(made["Id"]) and made["Name"] == command_name
    grantd.admin("add-group-member", "--group-id", made["Id"], "--user-id", member.id)
    code, _, body = http(
        grantd, "GET", f"/api/v1/groups/{quote(made['Id'], safe='')}/members", account=site.account
    )
    assert [u["Id"] for u in body["Users"]] == [member.id]

    # DescribeGroups finds both, for the administrator and for a token user.
    for caller in (site.admin, member.caller):
        for wanted in (group, made):
            found = caller.describe_groups(SearchQuery=wanted["Name"])
            assert status(found) == 200
            assert found["Groups"] == [{"Id": wanted["Id"], "Name": wanted["Name"]}]


# -- folders and documents -------------------------------------------------------------------


def test_folder_sub_folder_and_document(sharer, alice):
    name = unique("Folder")
    folder = sharer.create_folder(Name=name, ParentFolderId=alice.root)
    assert status(folder) == 201
    meta = folder["Metadata"]
    assert RESOURCE_ID.match(meta["Id"])
    assert meta["Name"] == name and meta["ParentFolderId"] == alice.root
    assert meta["CreatorId"] == sharer.principal
    assert (meta["ResourceState"], meta["Signature"], meta["Size"], meta["LatestVersionSize"]) == (
        "ACTIVE", "", 0, 0,
    )
    assert_recent(meta["CreatedTimestamp"])
    assert_recent(meta["ModifiedTimestamp"])

    sub = sharer.create_folder(Name="inner", ParentFolderId=meta["Id"])
    assert status(sub) == 201
    assert sub["Metadata"]["ParentFolderId"] == meta["Id"]

    started = sharer.initiate_document_version_upload(
        Name="notes.txt",
        ParentFolderId=sub["Metadata"]["Id"],
        ContentType="text/plain",
        DocumentSizeInBytes=5,
        ContentCreatedTimestamp=datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
    )
    assert status(started) == 201
    document = started["Metadata"]
    version = document["LatestVersionMetadata"]
    assert RESOURCE_ID.match(document["Id"])
    assert document["ParentFolderId"] == sub["Metadata"]["Id"]
    assert document["CreatorId"] == sharer.principal
    assert document["ResourceState"] == "ACTIVE"
    assert VERSION_ID.match(version["Id"])
    assert (version["Name"], version["ContentType"], version["Size"], version["Status"]) == (
        "notes.txt", "text/plain", 5, "INITIALIZED",
    )
    assert version["ContentCreatedTimestamp"] == datetime.datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc
    )
    assert_recent(version["CreatedTimestamp"])
    assert started["UploadMetadata"]["UploadUrl"].startswith("http")
    assert started["UploadMetadata"]["SignedHeaders"] == {"Content-Type": "text/plain"}

    got = sharer.get_document(DocumentId=document["Id"])
    assert status(got) == 200
    assert got["Metadata"]["LatestVersionMetadata"]["Id"] == version["Id"]
    contents = sharer.describe_folder_contents(FolderId=meta["Id"])
    assert [f["Id"] for f in contents["Folders"]] == [sub["Metadata"]["Id"]]
    # Uploads not completed are listed only with include=INITIALIZED.
    inner = sharer.describe_folder_contents(FolderId=sub["Metadata"]["Id"], Include="INITIALIZED")
    assert [d["Id"] for d in inner["Documents"]] == [document["Id"]]


# -- sharing ---------------------------------------------------------------------------------


def test_add_resource_permissions_answers_each_principal_in_order(tree, site):
    folder_id = tree.folder["Id"]
    unknown = f"S-1-1-11-0000000000-0000000000-0000000000-0000&{site.org}"
    assert tree.shared["ShareResults"] == [
        {"PrincipalId": tree.bob.id, "Role": "VIEWER", "Status": "SUCCESS",
         "ShareId": folder_id, "StatusMessage": ""},
        {"PrincipalId": tree.group["Id"], "Role": "CONTRIBUTOR", "Status": "SUCCESS",
         "ShareId": folder_id, "StatusMessage": ""},
        {"PrincipalId": unknown, "Role": "VIEWER", "Status": "FAILURE",
         "ShareId": folder_id, "StatusMessage": f"The principal {unknown} does not exist."},
    ]
    described = site.admin.describe_resource_permissions(ResourceId=folder_id)
    assert status(described) == 200
    owner_id = described["Principals"][0]["Id"]
    assert sorted(principals(described)) == sorted([
        (owner_id, "USER", [("OWNER", "DIRECT")]),
        (tree.bob.id, "USER", [("VIEWER", "DIRECT")]),
        (tree.group["Id"], "GROUP", [("CONTRIBUTOR", "DIRECT")]),
    ])


def test_granting_again_is_a_no_op_and_another_role_overwrites(tree, sharer):
    folder_id = tree.folder["Id"]
    again = share(sharer, folder_id, (tree.bob.id, "USER", "VIEWER"))
    assert [(r["Status"], r["StatusMessage"]) for r in again["ShareResults"]] == [("SUCCESS", "")]
    upgraded = share(sharer, folder_id, (tree.bob.id, "USER", "COOWNER"))
    assert upgraded["ShareResults"][0]["Status"] == "SUCCESS"
    mine = tree.bob.caller.describe_resource_permissions(ResourceId=folder_id, PrincipalId=tree.bob.id)
    assert principals(mine) == [(tree.bob.id, "USER", [("COOWNER", "DIRECT")])]
    changes = sharer.describe_activities(
        **({"OrganizationId": tree.bob.user["OrganizationId"]} if sharer.token is None else {}),
        ResourceId=folder_id,
    )["UserActivities"]
    # One share, one role change; the repeated grant recorded nothing.
    bob_changes = [
        a["Type"] for a in changes
        if [u["Id"] for u in a["Participants"]["Users"]] == [tree.bob.id]
    ]
    assert bob_changes == ["FOLDER_SHARE_PERMISSION_CHANGED", "FOLDER_SHARED"]


def test_the_grantee_sees_the_documents_inherited_permissions(tree, alice):
    for grantee in (tree.bob, tree.carol):
        described = grantee.caller.describe_resource_permissions(ResourceId=tree.document_id)
        assert status(described) == 200
        assert principals(described) == [
            (alice.id, "USER", [("OWNER", "DIRECT")]),
            *sorted([
                (tree.group["Id"], "GROUP", [("CONTRIBUTOR", "INHERITED")]),
                (tree.bob.id, "USER", [("VIEWER", "INHERITED")]),
            ]),
        ]
        assert "Marker" not in described
    got = tree.bob.caller.get_document(DocumentId=tree.document_id)
    assert status(got) == 200
    assert got["Metadata"]["Id"] == tree.document_id
    assert_recent(got["Metadata"]["CreatedTimestamp"])


def test_roles_decide_what_grantees_may_do(tree, alice):
    sub_id = tree.sub["Id"]
    # bob is a viewer: he may not share or add, and is told so (he can see the folder).
    with pytest.raises(ClientError) as excinfo:
        share(tree.bob.caller, sub_id, (alice.id, "USER", "VIEWER"))
    assert refusal(excinfo) == (
        403, "UnauthorizedOperationException", no_role(tree.bob.id, "AddResourcePermissions"),
    )
    with pytest.raises(ClientError) as excinfo:
        tree.bob.caller.create_folder(Name="bob's", ParentFolderId=sub_id)
    assert refusal(excinfo) == (403, "UnauthorizedOperationException", no_role(tree.bob.id, "CreateFolder"))
    # carol contributes through her group.
    made = tree.carol.caller.create_folder(Name="carol's", ParentFolderId=sub_id)
    assert status(made) == 201
    assert made["Metadata"]["CreatorId"] == tree.carol.id


def test_shared_with_me_for_the_token_user_and_for_the_administrator(tree, site):
    folder_id = tree.folder["Id"]
    for grantee in (tree.bob, tree.carol):  # carol through her group
        mine = grantee.caller.get_resources(CollectionType="SHARED_WITH_ME")
        assert status(mine) == 200
        assert [f["Id"] for f in mine["Folders"]] == [folder_id]
        assert mine["Documents"] == []
        assert_recent(mine["Folders"][0]["CreatedTimestamp"])
        theirs = site.admin.get_resources(UserId=grantee.id, CollectionType="SHARED_WITH_ME")
        assert status(theirs) == 200
        assert (theirs["Folders"], theirs["Documents"]) == (mine["Folders"], mine["Documents"])

    with pytest.raises(ClientError) as excinfo:
        site.admin.get_resources(CollectionType="SHARED_WITH_ME")
    assert refusal(excinfo) == (
        400, "InvalidArgumentException",
        "UserId is required when calling GetResources with administrator (SigV4) credentials.",
    )
    # A token user asks about themselves only.
    assert_not_visible(
        tree.bob.caller.get_resources, tree.bob.id, "GetResources",
        UserId=tree.carol.id, CollectionType="SHARED_WITH_ME",
    )


def test_describe_activities_records_the_shares(tree, site, sharer):
    folder_id = tree.folder["Id"]
    response = site.admin.describe_activities(OrganizationId=site.org, ResourceId=folder_id)
    assert status(response) == 200
    shares = [a for a in response["UserActivities"] if a["Type"] == "FOLDER_SHARED"]
    assert len(shares) == 2
    assert sorted(
        ([u["Id"] for u in a["Participants"]["Users"]], [g["Id"] for g in a["Participants"]["Groups"]])
        for a in shares
    ) == sorted([([tree.bob.id], []), ([], [tree.group["Id"]])])
    group_share = next(a for a in shares if a["Participants"]["Groups"])
    assert group_share["Participants"]["Groups"] == [{"Id": tree.group["Id"], "Name": tree.group["Name"]}]
    for activity in shares:
        assert activity["Initiator"]["Id"] == sharer.principal
        assert activity["IsIndirectActivity"] is False
        assert activity["OrganizationId"] == site.org
        assert activity["ResourceMetadata"]["Type"] == "FOLDER"
        assert activity["ResourceMetadata"]["Id"] == folder_id
        assert activity["ResourceMetadata"]["Name"] == tree.folder["Name"]
        assert_recent(activity["TimeStamp"])
    assert response["UserActivities"][-1]["Type"] == "FOLDER_CREATED"  # newest first

    # On the document: its own upload; the folder's shares only as indirect activities.
    direct = site.admin.describe_activities(OrganizationId=site.org, ResourceId=tree.document_id)
    assert [a["Type"] for a in direct["UserActivities"]] == ["DOCUMENT_VERSION_UPLOADED"]
    indirect = site.admin.describe_activities(
        OrganizationId=site.org, ResourceId=tree.document_id, IncludeIndirectActivities=True
    )
    assert sorted((a["Type"], a["IsIndirectActivity"]) for a in indirect["UserActivities"]) == [
        ("DOCUMENT_VERSION_UPLOADED", False), ("FOLDER_SHARED", True), ("FOLDER_SHARED", True),
    ]
    # A filter by type and time, and bob's own view (what he took part in).
    typed = site.admin.describe_activities(
        OrganizationId=site.org, UserId=tree.bob.id, ActivityTypes="FOLDER_SHARED",
        StartTime=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5),
    )
    assert [(a["Type"], a["ResourceMetadata"]["Id"]) for a in typed["UserActivities"]] == [
        ("FOLDER_SHARED", folder_id)
    ]
    own = tree.bob.caller.describe_activities()
    assert [(a["Type"], a["ResourceMetadata"]["Id"]) for a in own["UserActivities"]] == [
        ("FOLDER_SHARED", folder_id)
    ]

    with pytest.raises(ClientError) as excinfo:
        site.admin.describe_activities(ResourceId=folder_id)
    assert refusal(excinfo) == (
        400, "InvalidArgumentException",
        "OrganizationId is required when calling DescribeActivities with administrator (SigV4) credentials.",
    )


def test_revoking_a_share_hides_the_document_again(tree, sharer, site):
    folder_id = tree.folder["Id"]
    removed = sharer.remove_resource_permission(
        ResourceId=folder_id, PrincipalId=tree.bob.id, PrincipalType="USER"
    )
    assert status(removed) == 204
    assert_not_visible(tree.bob.caller.get_document, tree.bob.id, "GetDocument", DocumentId=tree.document_id)
    assert_not_visible(
        tree.bob.caller.describe_resource_permissions, tree.bob.id, "DescribeResourcePermissions",
        ResourceId=tree.document_id,
    )
    # Exactly what bob is told about a document that does not exist.
    assert_not_visible(tree.bob.caller.get_document, tree.bob.id, "GetDocument", DocumentId=NO_SUCH_RESOURCE)
    gone = tree.bob.caller.get_resources(CollectionType="SHARED_WITH_ME")
    assert (gone["Folders"], gone["Documents"]) == ([], [])
    # Removing again is fine; carol still reads through her group.
    again = sharer.remove_resource_permission(ResourceId=folder_id, PrincipalId=tree.bob.id)
    assert status(again) == 204
    assert status(tree.carol.caller.get_document(DocumentId=tree.document_id)) == 200

    removed = sharer.remove_resource_permission(
        ResourceId=folder_id, PrincipalId=tree.group["Id"], PrincipalType="GROUP"
    )
    assert status(removed) == 204
    assert_not_visible(tree.carol.caller.get_document, tree.carol.id, "GetDocument", DocumentId=tree.document_id)
    unshared = site.admin.describe_activities(
        OrganizationId=site.org, ResourceId=folder_id, ActivityTypes="FOLDER_UNSHARED"
    )
    assert [
        ([u["Id"] for u in a["Participants"]["Users"]], [g["Id"] for g in a["Participants"]["Groups"]])
        for a in unshared["UserActivities"]
    ] == [([], [tree.group["Id"]]), ([tree.bob.id], [])]


def test_a_folder_share_reaches_three_levels_down_and_leaves_with_the_revocation(site, sharer, alice):
    top = sharer.create_folder(Name=unique("Top"), ParentFolderId=alice.root)["Metadata"]["Id"]
    level1 = sharer.create_folder(Name="one", ParentFolderId=top)["Metadata"]["Id"]
    level2 = sharer.create_folder(Name="two", ParentFolderId=level1)["Metadata"]["Id"]
    level3 = sharer.create_folder(Name="three", ParentFolderId=level2)["Metadata"]["Id"]
    document = sharer.initiate_document_version_upload(
        Name="deep.txt", ParentFolderId=level3, ContentType="text/plain"
    )["Metadata"]["Id"]
    dana = site.person("dana")
    assert_not_visible(dana.caller.get_document, dana.id, "GetDocument", DocumentId=document)

    share(sharer, top, (dana.id, "USER", "VIEWER"))
    got = dana.caller.get_document(DocumentId=document)
    assert status(got) == 200 and got["Metadata"]["ParentFolderId"] == level3
    mine = dana.caller.describe_resource_permissions(ResourceId=document, PrincipalId=dana.id)
    assert principals(mine) == [(dana.id, "USER", [("VIEWER", "INHERITED")])]
    path = dana.caller.get_document_path(DocumentId=document)
    assert [c["Id"] for c in path["Path"]["Components"]][-4:] == [level1, level2, level3, document]
    assert status(dana.caller.get_folder(FolderId=level2)) == 200

    assert status(sharer.remove_resource_permission(ResourceId=top, PrincipalId=dana.id)) == 204
    assert_not_visible(dana.caller.get_document, dana.id, "GetDocument", DocumentId=document)
    assert_not_visible(dana.caller.get_folder, dana.id, "GetFolder", FolderId=level2)
    assert_not_visible(
        dana.caller.describe_resource_permissions, dana.id, "DescribeResourcePermissions",
        ResourceId=document,
    )


# -- tenants ---------------------------------------------------------------------------------


def test_another_accounts_administrator_sees_nothing_of_this_account(grantd, site, alice):
    sharer = alice.caller
    folder = sharer.create_folder(Name=unique("Private"), ParentFolderId=alice.root)["Metadata"]["Id"]
    document = sharer.initiate_document_version_upload(
        Name="secret.txt", ParentFolderId=folder, ContentType="text/plain"
    )["Metadata"]["Id"]
    created = grantd.admin("create-account")
    other = Caller(workdocs_client(grantd, Account.from_json(created)), f"arn:aws:iam::{created['AccountId']}:root")

    def same_as_for_nothing(op: str, call, **ids):
        """The answer for this account's ids is the answer for ids that exist nowhere."""
        answers = []
        for kwargs in (ids, {k: NO_SUCH_RESOURCE for k in ids}):
            with pytest.raises(ClientError) as excinfo:
                call(**kwargs)
            answers.append(refusal(excinfo))
        assert answers == [(404, "UnauthorizedResourceAccessException", not_visible(other.principal, op))] * 2

    same_as_for_nothing("GetFolder", other.get_folder, FolderId=folder)
    same_as_for_nothing("GetFolder", other.get_folder, FolderId=alice.root)
    same_as_for_nothing("GetDocument", other.get_document, DocumentId=document)
    same_as_for_nothing("DescribeFolderContents", other.describe_folder_contents, FolderId=folder)
    same_as_for_nothing("DescribeResourcePermissions", other.describe_resource_permissions, ResourceId=document)
    same_as_for_nothing("RemoveAllResourcePermissions", other.remove_all_resource_permissions, ResourceId=folder)
    same_as_for_nothing(
        "AddResourcePermissions",
        partial(other.add_resource_permissions, Principals=[{"Id": "anonymous", "Type": "ANONYMOUS", "Role": "VIEWER"}]),
        ResourceId=folder,
    )
    same_as_for_nothing(
        "CreateFolder", partial(other.create_folder, Name="intruder"), ParentFolderId=folder
    )
    assert_not_visible(
        other.get_resources, other.principal, "GetResources",
        UserId=alice.id, CollectionType="SHARED_WITH_ME",
    )
    assert_not_visible(other.describe_activities, other.principal, "DescribeActivities", OrganizationId=site.org)
    assert other.describe_users(UserIds=alice.id)["Users"] == []

    # Its own folder cannot be shared with a user of this account: a per-principal failure.
    own_user = other.create_user(Username=unique("zed"), GivenName="Zed", Surname="Z", Password=PASSWORD)["User"]
    assert own_user["OrganizationId"] == created["DirectoryId"] != site.org
    own = other.create_folder(Name="theirs", ParentFolderId=own_user["RootFolderId"])["Metadata"]["Id"]
    results = share(other, own, (alice.id, "USER", "VIEWER"))["ShareResults"]
    assert [(r["Status"], r["StatusMessage"]) for r in results] == [
        ("FAILURE", f"The principal {alice.id} does not exist.")
    ]
    # A token of this account, signed with the other account's keys, is no credential.
    with pytest.raises(ClientError) as excinfo:
        other.client.get_current_user(AuthenticationToken=alice.caller.token)
    assert refusal(excinfo) == (404, "UnauthorizedResourceAccessException", BAD_TOKEN)

    # Nothing changed on this side.
    described = site.admin.describe_resource_permissions(ResourceId=folder)
    assert principals(described) == [(alice.id, "USER", [("OWNER", "DIRECT")])]
