"""What every impact builder is given: the document, its reading, the portfolio and the
days it is judged on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from monitor.document import Document
from monitor.portfolio import Portfolio
from monitor.relevance.impact import Assessment
from monitor.relevance.reading import Reading


@dataclass
class Context:
    doc: Document
    reading: Reading
    portfolio: Portfolio
    day: date  # the day the document speaks of: its effective date, else publication
    today: date  # for questions about now (is the affiliates rule in force today?)
    previous: Document | None
    named: dict[str, dict[str, str]]  # customers / chips / watch_terms named in the text
    assessment: Assessment = field(default_factory=Assessment)
