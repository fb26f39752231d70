"""The application layer: the use cases the API, the CLI and the tests all drive.

``FactVault`` (vault.py) is the root: it owns the parts (parts.py) and goes through the
lifecycle; each subject's use cases live in a module of their own (asking, conversations,
documents, index, model_admin). A question is an ``AskRequest``; a caller that streams
passes its hooks as a ``Stream``."""

from app.answering.request import QUIET, AskRequest, Stream
from app.service.conversations import Reply
from app.service.documents import Ingested
from app.service.vault import FactVault

__all__ = ["QUIET", "AskRequest", "FactVault", "Ingested", "Reply", "Stream"]
