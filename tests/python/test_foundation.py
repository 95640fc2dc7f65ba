"""The spine, through real clients: SigV4 as botocore and the AWS CLI sign it, the §2.3
auth failures, the §3.3 error envelope, request ids and the operational endpoints."""

from __future__ import annotations

import json
import re
import secrets
import stat
import urllib.error
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import http_get, status

INVALID_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
UNRECOGNIZED_CLIENT = "The security token included in the request is invalid."

# aws-wire.md §4: the model's runtime enum, in the model's order (the list filters' set).
RUNTIMES = (
    "nodejs, nodejs4.3, nodejs6.10, nodejs8.10, nodejs10.x, nodejs12.x, nodejs14.x, "
    "nodejs16.x, java8, java8.al2, java11, python2.7, python3.6, python3.7, python3.8, "
    "python3.9, dotnetcore1.0, dotnetcore2.0, dotnetcore2.1, dotnetcore3.1, dotnet6, dotnet8, "
    "nodejs4.3-edge, go1.x, ruby2.5, ruby2.7, provided, provided.al2, nodejs18.x, python3.10, "
    "java17, ruby3.2, ruby3.3, ruby3.4, python3.11, nodejs20.x, provided.al2023, python3.12, "
    "java21, python3.13, nodejs22.x, nodejs24.x, python3.14, java25, dotnet10, ruby4.0"
)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def error_of(excinfo) -> tuple[int, str, str]:
    response = excinfo.value.response
    return status(response), response["Error"]["Code"], response["Error"]["Message"]


def test_botocore_signed_list_layers_answers_an_empty_list(grantd, new_account):
    response = grantd.client(new_account()).list_layers()
    assert status(response) == 200
    assert response["Layers"] == []
    assert "NextMarker" not in response


def test_every_response_carries_a_request_id(grantd, new_account):
    response = grantd.client(new_account()).list_layers()
    request_id = response["ResponseMetadata"]["RequestId"]
    assert UUID.match(request_id), request_id
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"] == request_id

    with pytest.raises(ClientError) as excinfo:
        grantd.client(new_account()).list_layers(CompatibleRuntime="cobol85")
    assert UUID.match(excinfo.value.response["ResponseMetadata"]["RequestId"])


def test_aws_cli_list_layers_prints_an_empty_list(grantd, new_account):
    done = grantd.aws(new_account(), "lambda", "list-layers")
    assert json.loads(done.stdout) == {"Layers": []}


def test_wrong_secret_is_an_invalid_signature(grantd, owner):
    client = grantd.client(owner, aws_secret_access_key="x" * 40)
    with pytest.raises(ClientError) as excinfo:
        client.list_layers()
    assert error_of(excinfo) == (403, "InvalidSignatureException", INVALID_SIGNATURE)


def test_aws_cli_with_a_wrong_secret_fails_with_invalid_signature(grantd, owner):
    done = grantd.aws(owner, "lambda", "list-layers", check=False, secret="y" * 40)
    assert done.returncode != 0
    assert "InvalidSignatureException" in done.stderr
    assert INVALID_SIGNATURE in done.stderr
    assert done.stdout.strip() == ""


def test_unknown_access_key_is_an_unrecognized_client(grantd, owner):
    unknown = "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))
    client = grantd.client(owner, aws_access_key_id=unknown)
    with pytest.raises(ClientError) as excinfo:
        client.list_layers()
    assert error_of(excinfo) == (403, "UnrecognizedClientException", UNRECOGNIZED_CLIENT)


def test_session_token_is_an_unrecognized_client(grantd, owner):
    # grantd hands out no temporary credentials, so no session token can be valid.
    client = grantd.client(owner, aws_session_token="FwoGZXIvYXdzEXAMPLETOKEN")
    with pytest.raises(ClientError) as excinfo:
        client.list_layers()
    assert error_of(excinfo) == (403, "UnrecognizedClientException", UNRECOGNIZED_CLIENT)


def test_unsigned_request_is_missing_an_authentication_token(grantd, owner):
    client = grantd.client(owner, unsigned=True)
    with pytest.raises(ClientError) as excinfo:
        client.list_layers()
    assert error_of(excinfo) == (403, "MissingAuthenticationTokenException", "Missing Authentication Token")


def test_invalid_runtime_filter_is_a_validation_error(grantd, owner):
    with pytest.raises(ClientError) as excinfo:
        grantd.client(owner).list_layers(CompatibleRuntime="runtimedoesnotexist")
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        "1 validation error detected: Value 'runtimedoesnotexist' at 'compatibleRuntime' "
        f"failed to satisfy constraint: Member must satisfy enum value set: [{RUNTIMES}]",
    )
    # An unmodeled code: nothing beyond Error and ResponseMetadata is parsed.
    assert excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == "ValidationException"


def test_invalid_architecture_filter_is_a_validation_error(grantd, owner):
    with pytest.raises(ClientError) as excinfo:
        grantd.client(owner).list_layers(CompatibleArchitecture="archdoesnotexist")
    assert error_of(excinfo) == (
        400,
        "ValidationException",
        "1 validation error detected: Value 'archdoesnotexist' at 'compatibleArchitecture' "
        "failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]",
    )


def test_aws_cli_validation_error_reaches_stderr(grantd, owner):
    done = grantd.aws(owner, "lambda", "list-layers", "--compatible-runtime", "cobol85", check=False)
    assert done.returncode != 0
    assert "ValidationException" in done.stderr
    assert "Value 'cobol85' at 'compatibleRuntime'" in done.stderr


def test_error_body_carries_the_type_marker_and_header(grantd):
    # Unsigned, by hand: the envelope itself, as any HTTP client sees it.
    code, body = http_get(f"{grantd.endpoint}/2018-10-31/layers")
    assert code == 403
    assert json.loads(body)["__type"] == "MissingAuthenticationTokenException"


def test_unknown_route_is_an_unknown_operation(grantd):
    request = urllib.request.Request(f"{grantd.endpoint}/no/such/operation")
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("expected 404")
    except urllib.error.HTTPError as err:
        assert err.code == 404
        assert err.headers["x-amzn-ErrorType"] == "UnknownOperationException"
        assert err.headers["x-amzn-RequestId"]
        assert json.loads(err.read())["__type"] == "UnknownOperationException"


def test_operational_endpoints_answer(grantd):
    code, body = http_get(f"{grantd.endpoint}/healthz")
    assert code == 200
    code, body = http_get(f"{grantd.endpoint}/readyz")
    assert code == 200
    code, body = http_get(f"{grantd.endpoint}/metrics")
    assert code == 200
    text = body.decode()
    # Prometheus text format with the request metrics and the pool gauges of issue 2.
    assert "# TYPE " in text
    assert "grantd_http_request" in text
    assert "grantd_db_pool" in text


def test_first_start_saved_the_default_credentials_privately(grantd, owner):
    saved = grantd.data_dir / "credentials.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    doc = json.loads(saved.read_text())
    assert (doc["AccountId"], doc["AccessKeyId"], doc["SecretAccessKey"]) == (
        owner.account_id,
        owner.access_key_id,
        owner.secret_access_key,
    )
    assert re.fullmatch(r"d-[a-z0-9]{10}", doc["DirectoryId"])


def test_admin_created_account_has_working_keys_and_a_directory(grantd):
    account = grantd.create_account()
    assert re.fullmatch(r"\d{12}", account.account_id)
    assert re.fullmatch(r"AKIA[A-Z0-9]{16}", account.access_key_id)
    assert len(account.secret_access_key) == 40
    assert status(grantd.client(account).list_layers()) == 200


def test_admin_created_access_key_works_beside_the_first(grantd, new_account):
    account = new_account()
    created = grantd.admin("create-access-key", "--account-id", account.account_id)
    assert created["AccessKeyId"] != account.access_key_id
    second = type(account)(
        account.account_id, None, created["AccessKeyId"], created["SecretAccessKey"]
    )
    assert status(grantd.client(second).list_layers()) == 200
    assert status(grantd.client(account).list_layers()) == 200


def test_region_in_scope_must_be_the_servers(grantd, owner):
    # aws-wire.md §2.2 step 2; the exact text is not pinned by the spec.
    with pytest.raises(ClientError) as excinfo:
        grantd.client(owner, region="eu-west-1").list_layers()
    code, error_code, message = error_of(excinfo)
    assert (code, error_code) == (403, "InvalidSignatureException")
    assert "region" in message
