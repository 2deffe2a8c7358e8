"""Who is trusted for what: anchors per role (media, approver, packager, TSA), chain checks by
cryptography's X.509 verifier, detached signatures, the development PKI."""
