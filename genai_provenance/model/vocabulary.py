"""The closed vocabularies of the model, as StrEnums: each member is its string, so JSON is unchanged."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """What verifying an asset's (or a stage's) credentials found."""

    TRUSTED = "trusted"
    VALID_UNTRUSTED = "valid-untrusted"
    INVALID = "invalid"
    NO_CREDENTIALS = "no-credentials"
    UNREADABLE = "unreadable"


class Certainty(StrEnum):
    """How sure a record is that generative AI was involved."""

    GENERATIVE = "generative"
    MAYBE = "maybe"


class Severity(StrEnum):
    """What a policy finding does to the asset."""

    BLOCK = "block"
    WARN = "warn"
    NOTIFY = "notify"


class IntendedUse(StrEnum):
    TEMPORARY = "temporary"
    FINAL = "final"


class IntendedUseSource(StrEnum):
    """Where the intended use the policy judged came from."""

    DECLARED = "declared"
    OVERRIDE = "override"
    ASSUMED = "assumed by policy"


class MatchedBy(StrEnum):
    """How a clearance or waiver names the asset it applies to."""

    CONTENT_HASH = "content-hash"  # the record lists this asset's SHA-256: it names these very bytes
    ASSET_ID = "asset-id"  # the record names the asset ID the asset's own disclosure declares
    FILE_NAME = "file-name"  # waivers only, for assets without a trusted asset ID


class ClearanceStatus(StrEnum):
    """What checking one referenced approval, consent or waiver found."""

    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    ISSUER_UNTRUSTED = "issuer-untrusted"
    OUT_OF_SCOPE = "out-of-scope"
    NOT_COVERED = "category-not-covered"
    FORGED = "forged"
    MISSING = "missing"
    WRONG_KIND = "wrong-kind"
