"""The studio rules as data: load, evaluate into findings; signer pins; preflight."""
