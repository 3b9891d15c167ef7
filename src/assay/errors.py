"""The exceptions assay raises, as one tree.

Every error a user can cause names what is wrong; the server maps each branch to an
HTTP status and the CLI to an exit code.

```
AssayError
├── ConfigError                 settings or a file the user pointed at is unusable
├── NotFound                    a project, release, trace, user or key does not exist
├── Conflict                    the write would change something immutable or duplicate a name
├── InvalidInput                the request or file is malformed; nothing was stored
│   └── PayloadTooLarge         the body is over the configured size limit
├── AuthError                   missing, unknown or revoked credentials
│   └── Forbidden               the credentials are valid but not for this project
├── Overloaded                  the ingest queue is full; retry after `retry_after` seconds
├── TargetError                 (assay.targets) an experiment's target call failed;
│                               `retryable` says whether the runner tries again
└── ScorerError                 (assay.scorers) a scorer could not score a case: recorded
                                as that score's error, never as a fail
```
"""

from __future__ import annotations


class AssayError(Exception):
    """Base class of every error assay raises on purpose."""


class ConfigError(AssayError):
    """A setting, or a file named by a setting or an option, cannot be used."""


class NotFound(AssayError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Conflict(AssayError):
    """The write would change something immutable or reuse a taken name."""


class InvalidInput(AssayError):
    """Input is malformed. The message names the field or part that is wrong."""


class PayloadTooLarge(InvalidInput):
    """A request body exceeds the configured size limit."""


class AuthError(AssayError):
    """Credentials are missing, unknown or revoked."""


class Forbidden(AuthError):
    """Credentials are valid but do not grant access to this resource."""


class Overloaded(AssayError):
    """The server cannot take more work now; the client should retry later.

    Attributes:
        retry_after: Seconds the client should wait before retrying.
    """

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after
