"""A draft catalogue from a work report's text: ``python -m shared.catalogue.draft REPORT.txt``.

Read (``text``), find the year's part (``layout``), read its clauses and numbers (``grammar``, ``rules``),
guess indicators and owners from the keyword table (``keywords``, ``keywords.toml``), write TOML or JSON
(``emit``), compare with an existing catalogue (``against``). docs/new-report.md is the operator's guide.
"""

from shared.catalogue.draft.extract import draft_text
from shared.catalogue.draft.items import Draft, DraftError, DraftItem
from shared.catalogue.draft.text import ReportNotTextError, read_report

__all__ = ["Draft", "DraftError", "DraftItem", "ReportNotTextError", "draft_text", "read_report"]
