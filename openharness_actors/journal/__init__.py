"""Durable journals and resume for long-running, supervised runs. See :mod:`._journal` and
:mod:`._resume`."""

from ._journal import Durability as Durability, Journal as Journal
from ._resume import ResumeSession as ResumeSession

__all__ = ["Durability", "Journal", "ResumeSession"]

from .._public import publish as _publish

_publish(globals(), __all__, __name__)
