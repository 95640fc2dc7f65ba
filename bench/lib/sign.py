#!/usr/bin/env python3
"""Pre-builds the requests that bench/lib/replay.lua replays with wrk.

Lambda requests are signed with botocore's own SigV4 signer (`SigV4Auth` on an
`AWSRequest`, service `lambda`), exactly as boto3 signs them: path labels percent-encoded
the way botocore's rest-json serializer encodes them, JSON bodies as botocore dumps them,
`Content-Type`, `Host` and `X-Amz-Date` signed. A signature is only valid for 5 minutes
(grantd enforces Lambda's skew limit), so files are signed just before their scenario.

WorkDocs requests carry `Authentication: Bearer <token>` and no signature (the
user-application mode of aws-wire.md §6.1, what boto3 with `signature_version=UNSIGNED`
sends).

Output: one entry per request, `<byte length>\\n<raw HTTP/1.1 request>`, in order.
"""

import argparse
import json
import multiprocessing
import sys
import uuid
from urllib.parse import quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
import botocore

USER_AGENT = (
    f"Boto3/{botocore.__version__} md/Botocore#{botocore.__version__} "
    "ua/2.1 os/linux lang/python cfg/retry-mode#legacy grantd-bench"
)


def label(value):
    """A URI label as botocore encodes it (only A-Za-z0-9-_.~ left as they are)."""
    return quote(str(value), safe="-_.~")


def raw_request(method, host, path, headers, body):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    for name, value in headers.items():
        if name.lower() == "host":
            continue
        lines.append(f"{name}: {value}")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        data = body or b""
        if not any(n.lower() == "content-length" for n in headers):
            lines.append(f"Content-Length: {len(data)}")
    else:
        data = b""
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def signed(args, method, path, body=None):
    """One botocore-signed request (path already encoded, as botocore builds it)."""
    url = f"http://{args.endpoint}{path}"
    headers = {
        "User-Agent": USER_AGENT,
        "amz-sdk-invocation-id": str(uuid.uuid4()),
        "amz-sdk-request": "attempt=1",
    }
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = AWSRequest(method=method, url=url, data=data, headers=headers)
    signer = SigV4Auth(Credentials(args.key, args.secret), args.service, args.region)
    signer.add_auth(request)
    prepared = request.prepare()
    return raw_request(method, args.endpoint, path, dict(prepared.headers), data)


def bearer(args, method, path, body=None):
    headers = {"Authentication": f"Bearer {args.token}", "User-Agent": USER_AGENT}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    return raw_request(method, args.endpoint, path, headers, data)


def build(job):
    """Requests [start, stop) of one kind; runs in a worker process."""
    args, start, stop = job
    out = []
    for k in range(start, stop):
        if args.kind == "lambda-add":
            # Request k goes to version k mod V: each version gets at most ceil(N/V)
            # statements, which keeps every policy under the 20 KB limit.
            version = args.first_version + (k % args.versions)
            path = f"/2018-10-31/layers/{label(args.layer)}/versions/{version}/policy"
            body = {
                "StatementId": f"{args.prefix}-{k}",
                "Action": "lambda:GetLayerVersion",
                "Principal": args.principal,
            }
            out.append(signed(args, "POST", path, body))
        elif args.kind == "lambda-get-policy":
            version = args.first_version + (k * 7919) % args.versions
            path = f"/2018-10-31/layers/{label(args.layer)}/versions/{version}/policy"
            out.append(signed(args, "GET", path))
        elif args.kind == "lambda-get-version":
            # LayerName is the owner's full layer ARN (a cross-account read).
            version = args.first_version + (k * 7919) % args.versions
            path = f"/2018-10-31/layers/{label(args.layer)}/versions/{version}"
            out.append(signed(args, "GET", path))
        elif args.kind == "workdocs-get-document":
            out.append(bearer(args, "GET", f"/api/v1/documents/{label(args.resource)}"))
        elif args.kind == "workdocs-describe-permissions":
            out.append(
                bearer(args, "GET", f"/api/v1/resources/{label(args.resource)}/permissions")
            )
        elif args.kind == "workdocs-share":
            # One USER principal; the role alternates so that consecutive requests
            # really change the grant (a re-grant of the same role changes nothing).
            role = ("VIEWER", "CONTRIBUTOR")[k % 2]
            body = {"Principals": [{"Id": args.principal, "Type": "USER", "Role": role}]}
            out.append(
                bearer(args, "POST", f"/api/v1/resources/{label(args.resource)}/permissions", body)
            )
        else:
            raise SystemExit(f"unknown kind {args.kind}")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("kind")
    p.add_argument("--endpoint", required=True, help="host:port as the client connects")
    p.add_argument("--out", required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--key")
    p.add_argument("--secret")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--service", default="lambda")
    p.add_argument("--layer")
    p.add_argument("--versions", type=int, default=1)
    p.add_argument("--first-version", type=int, default=1)
    p.add_argument("--principal")
    p.add_argument("--prefix", default="s")
    p.add_argument("--token")
    p.add_argument("--resource")
    p.add_argument("--workers", type=int, default=multiprocessing.cpu_count())
    args = p.parse_args()

    n, w = args.count, max(1, min(args.workers, args.count // 2000 + 1))
    bounds = [(args, n * i // w, n * (i + 1) // w) for i in range(w)]
    if w == 1:
        parts = [build(bounds[0])]
    else:
        with multiprocessing.Pool(w) as pool:
            parts = pool.map(build, bounds)
    with open(args.out, "wb") as f:
        for part in parts:
            for raw in part:
                f.write(b"%d\n" % len(raw))
                f.write(raw)
    print(json.dumps({"file": args.out, "count": n, "kind": args.kind}), file=sys.stderr)


if __name__ == "__main__":
    main()
