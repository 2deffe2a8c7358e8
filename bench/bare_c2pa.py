"""The same work as `genai-provenance sign` / `verify`, done with c2pa-python alone (the baseline).

    python bench/bare_c2pa.py sign SRC DST --cert CHAIN --key KEY [--setting key=value ...]
    python bench/bare_c2pa.py verify FILE --trust ANCHORS [--setting key=value ...]

A minimal manifest (one c2pa.created action), the same certificate, streams as our tool uses them.
`--setting core.backing_store_memory_threshold_in_mb=16` passes a c2pa setting (value is JSON).
Exit 0 on success (verify: only when the state is Trusted).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import c2pa

MANIFEST: dict[str, Any] = {
    "claim_generator_info": [{"name": "bench-bare-c2pa", "version": "1"}],
    "title": "bench.mp4",
    "assertions": [
        {
            "label": "c2pa.actions.v2",
            "data": {
                "actions": [
                    {
                        "action": "c2pa.created",
                        "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
                    }
                ]
            },
        }
    ],
}


def settings(pairs: list[str], anchors: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    if anchors:
        out["trust"] = {"trust_anchors": anchors}
    for pair in pairs:
        dotted, _, value = pair.partition("=")
        *parents, leaf = dotted.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = json.loads(value)
    return out


def sign(args: argparse.Namespace) -> int:
    ctx = c2pa.Context.from_dict(settings(args.setting))
    info = c2pa.C2paSignerInfo(
        alg=b"es256", sign_cert=Path(args.cert).read_bytes(), private_key=Path(args.key).read_bytes(), ta_url=None
    )
    signer = c2pa.Signer.from_info(info)
    with c2pa.Builder(MANIFEST, context=ctx) as builder, open(args.src, "rb") as src, open(args.dst, "w+b") as dst:
        builder.sign(signer, "video/mp4", src, dst)
    return 0


def verify(args: argparse.Namespace) -> int:
    ctx = c2pa.Context.from_dict(settings(args.setting, Path(args.trust).read_text()))
    with open(args.file, "rb") as stream, c2pa.Reader("video/mp4", stream, context=ctx) as reader:
        state = reader.get_validation_state()
    print(state)
    return 0 if state == "Trusted" else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_sign = sub.add_parser("sign")
    p_sign.add_argument("src")
    p_sign.add_argument("dst")
    p_sign.add_argument("--cert", required=True)
    p_sign.add_argument("--key", required=True)
    p_verify = sub.add_parser("verify")
    p_verify.add_argument("file")
    p_verify.add_argument("--trust", required=True)
    for p in (p_sign, p_verify):
        p.add_argument("--setting", action="append", default=[], help="c2pa setting dotted.key=JSON value")
    args = parser.parse_args()
    return sign(args) if args.cmd == "sign" else verify(args)


if __name__ == "__main__":
    sys.exit(main())
