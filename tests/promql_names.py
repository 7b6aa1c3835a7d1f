"""Reading the PromQL of the dashboards and rules: the expressions, and the metric names they use."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
RULES = sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml"))
DASHBOARDS = sorted((REPO / "deploy" / "grafana" / "dashboards").glob("*.json"))
# Series Prometheus makes itself.
BUILTIN_SERIES = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds", "scrape_samples_scraped"}
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
             "offset", "inf", "nan"}


def rule_expressions() -> Iterator[tuple[str, str]]:
    """(where, expr) for every rule of the rule files."""
    for path in RULES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                yield f"{path.name}:{rule.get('alert') or rule.get('record')}", rule["expr"]


def recorded_names() -> set[str]:
    """Names of the recording rules."""
    return {rule["record"] for path in RULES for g in yaml.safe_load(path.read_text())["groups"]
            for rule in g["rules"] if "record" in rule}


def dashboard_expressions() -> Iterator[tuple[str, str]]:
    """(where, expr) for every query of every dashboard panel and templating variable."""
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                yield f"{path.name}:{panel['title']}", target["expr"]
        for var in board.get("templating", {}).get("list", []):
            query = var.get("query")
            if isinstance(query, dict):
                query = query.get("query")
            m = re.fullmatch(r"label_values\((\w+),\s*\w+\)", query or "")
            if m:
                yield f"{path.name}:${var['name']}", m[1]


def grafana_to_promql(expr: str) -> str:
    """Replace Grafana's template variables with values Prometheus accepts."""
    expr = re.sub(r"\$__(range|interval|rate_interval)", "5m", expr)
    return re.sub(r"\$\w+", ".*", expr)


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (functions, keywords, labels and strings left out)."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    s = re.sub(r"\{[^}]*\}", "", s)  # label matchers
    s = re.sub(r"\[[^\]]*\]", "", s)  # range selectors
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)  # label lists
    names = set()
    for m in re.finditer(r"(?<![\w.])([A-Za-z_:][\w:]*)(\s*\()?", s):
        word, call = m[1], m[2]
        if call or word.lower() in _KEYWORDS:
            continue
        names.add(word)
    return names
