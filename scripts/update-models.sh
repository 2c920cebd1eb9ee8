#!/usr/bin/env bash
# Regenerates internal/awsquery/model/*.json.gz from the AWS service models that botocore ships
# (Apache-2.0), keeping only what the protocol layer needs: operations, shapes, constraints, errors.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
import gzip, json, os, botocore
root = os.path.join(os.path.dirname(botocore.__file__), "data")
drop = {"documentation", "documentationUrl", "examples", "deprecated", "deprecatedMessage", "sensitive"}
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in drop}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
for svc, ver in (("iam", "2010-05-08"), ("sts", "2011-06-15")):
    m = json.load(gzip.open(os.path.join(root, svc, ver, "service-2.json.gz")))
    out = {"metadata": {k: m["metadata"][k] for k in ("apiVersion", "endpointPrefix", "xmlNamespace")},
           "operations": strip(m["operations"]), "shapes": strip(m["shapes"])}
    data = json.dumps(out, sort_keys=True, separators=(",", ":")).encode()
    with gzip.GzipFile(f"internal/awsquery/model/{svc}.json.gz", "wb", mtime=0) as f:
        f.write(data)
    print(svc, len(out["operations"]), "operations", len(data), "bytes")
PY
