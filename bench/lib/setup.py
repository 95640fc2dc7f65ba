#!/usr/bin/env python3
"""Builds the benchmark's starting state through the public APIs, as a client would:
Lambda layers with boto3 (against grantd or moto), the WorkDocs tree with plain HTTP and a
bearer token (CreateFolder, InitiateDocumentVersionUpload, AddResourcePermissions,
GetDocument). Prints one JSON object on stdout.
"""

import argparse
import io
import json
import sys
import urllib.error
import urllib.request
import zipfile

import boto3
from botocore.config import Config


def layer_zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("python/bench.py", "def hello():\n    return 'bench'\n")
    return buf.getvalue()


def lambda_client(args):
    return boto3.client(
        "lambda",
        endpoint_url=args.endpoint,
        region_name="us-east-1",
        aws_access_key_id=args.key,
        aws_secret_access_key=args.secret,
        config=Config(retries={"total_max_attempts": 1}),
    )


def publish(args):
    """Publishes `--versions` versions of `--layer` (one request each)."""
    lam = lambda_client(args)
    content = layer_zip()
    last = None
    for _ in range(args.versions):
        last = lam.publish_layer_version(
            LayerName=args.layer,
            Description="grantd benchmark layer",
            Content={"ZipFile": content},
            CompatibleRuntimes=["python3.12"],
        )
    return {"LayerArn": last["LayerArn"], "Version": last["Version"]}


def grant(args):
    """One statement per version in [first, last] granting `--principal`."""
    lam = lambda_client(args)
    for v in range(args.first, args.last + 1):
        lam.add_layer_version_permission(
            LayerName=args.layer,
            VersionNumber=v,
            StatementId=f"grant-{args.principal}",
            Action="lambda:GetLayerVersion",
            Principal=args.principal,
        )
    return {"granted": args.last - args.first + 1}


def http(args, method, path, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(args.endpoint + path, data=data, method=method)
    req.add_header("Authentication", f"Bearer {token or args.token}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def must(status_body, *ok):
    status, body = status_body
    if status not in ok:
        sys.exit(f"unexpected answer {status}: {body}")
    return body


def chain(args):
    """`--depth` nested folders under `--parent` and one document in the deepest."""
    parent, folders = args.parent, []
    for level in range(1, args.depth + 1):
        out = must(
            http(args, "POST", "/api/v1/folders",
                 {"Name": f"{args.name}-level-{level}", "ParentFolderId": parent}),
            201,
        )
        parent = out["Metadata"]["Id"]
        folders.append(parent)
    doc = must(
        http(args, "POST", "/api/v1/documents",
             {"Name": f"{args.name}-document.txt", "ParentFolderId": parent,
              "ContentType": "text/plain", "DocumentSizeInBytes": 4096}),
        201,
    )
    return {"folders": folders, "document": doc["Metadata"]["Id"]}


def share(args):
    body = must(
        http(args, "POST", f"/api/v1/resources/{args.resource}/permissions",
             {"Principals": [{"Id": args.principal, "Type": "USER", "Role": args.role}]}),
        201,
    )
    results = body["ShareResults"]
    if results[0]["Status"] != "SUCCESS":
        sys.exit(f"share failed: {results}")
    return {"shared": args.resource, "with": args.principal, "role": args.role}


def probe(args):
    """The status of GET `--path` with `--token`."""
    status, body = http(args, "GET", args.path)
    return {"status": status, "body": body}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("command", choices=["publish", "grant", "chain", "share", "probe"])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--key")
    p.add_argument("--secret")
    p.add_argument("--layer")
    p.add_argument("--versions", type=int, default=1)
    p.add_argument("--first", type=int, default=1)
    p.add_argument("--last", type=int, default=1)
    p.add_argument("--principal")
    p.add_argument("--token")
    p.add_argument("--parent")
    p.add_argument("--depth", type=int, default=5)
    p.add_argument("--name", default="bench")
    p.add_argument("--resource")
    p.add_argument("--role", default="VIEWER")
    p.add_argument("--path")
    args = p.parse_args()
    out = globals()[args.command](args)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
