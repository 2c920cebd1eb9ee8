"""What the boto3 scripts share: the clients for GATEHOUSE_ENDPOINT and the checks that end a
script with FAIL on the first difference from what AWS answers."""
import os
import sys

import boto3
from botocore.exceptions import ClientError

EP = os.environ["GATEHOUSE_ENDPOINT"]
iam = boto3.client("iam", endpoint_url=EP)
sts = boto3.client("sts", endpoint_url=EP)


def check(what, got, want):
    if got != want:
        sys.exit(f"FAIL {what}: got {got!r}, want {want!r}")
    print(f"ok  {what}")


def expect_error(code, fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        check(f"error {code} from {fn.__name__}", e.response["Error"]["Code"], code)
        return e
    sys.exit(f"FAIL {fn.__name__}({kw}) succeeded, want {code}")
