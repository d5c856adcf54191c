"""Typed domain errors. The CLI and the API each map them to a message in one place."""


class ReformQAError(Exception):
    """Base class: every error the user can cause or fix."""


class BadDocument(ReformQAError):
    """A corpus file that cannot be read as a text document."""


class EmptyCorpus(ReformQAError):
    """A corpus folder with no documents in it."""


class IndexNotFound(ReformQAError):
    """No index has been built in the data directory."""


class IndexMismatch(ReformQAError):
    """The index on disk was built with another model, format or settings."""


class IndexNotReady(ReformQAError):
    """The index is still loading."""


class BadQuery(ReformQAError):
    """A query or filter the retriever cannot answer."""


class DocumentNotFound(ReformQAError):
    """An unknown document id."""


class Unauthorized(ReformQAError):
    """A request without a valid API key where one is needed."""


class Forbidden(ReformQAError):
    """A request this server does not allow (writes with no API key configured)."""


class BodyTooLarge(ReformQAError):
    """A request body over the configured limit."""


class UnsupportedUpload(ReformQAError):
    """An uploaded file of a type the corpus cannot hold."""


class Conflict(ReformQAError):
    """A change that clashes with what the index holds (an id already taken, ...)."""


class Busy(ReformQAError):
    """Another change to the index is still running."""


class RateLimited(ReformQAError):
    """A client sending more requests than its allowance; it may retry after `retry_after` s."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class StorageFull(ReformQAError):
    """A store that has reached the size it is allowed to grow to."""
