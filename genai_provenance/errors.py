"""One exception family per kind of failure; each message is one line a user can act on."""

from __future__ import annotations


class ProvenanceError(Exception):
    """Base of every error the library raises on purpose."""

    exit_code = 2


class InputError(ProvenanceError):
    """A file or argument the user handed in is missing, malformed or unusable (exit 2)."""


class SchemaError(InputError):
    """A user file does not match its JSON Schema; the message names the field."""


class IdentityError(InputError):
    """A certificate, key or trust file cannot be used for signing or checking."""


class UnsupportedFormatError(InputError):
    """The media format cannot carry embedded Content Credentials."""


class SigningError(ProvenanceError):
    """The C2PA library refused to sign, or what was written did not verify."""


class WorkspaceError(InputError):
    """The workspace is missing, incomplete, or would be overwritten."""


class BrokenHistoryError(ProvenanceError):
    """A parent or ingredient's credentials are tampered or unreadable: signing over them is refused (exit 1)."""

    exit_code = 1


class WorkerDiedError(ProvenanceError):
    """A worker process died mid-run (killed, out of memory): the run judges nothing (exit 2)."""
