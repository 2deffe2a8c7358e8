"""Signed approvals, consents, waivers and revocations; the tamper-evident ledger; signed revocation
lists; RFC 3161 time-stamps on records."""
