"""The department directory and the routing rules: who is told about a deviation, and over which channels. Pure.

Both are data files (``services/alerts/data/*.toml``) validated when they load; an error names the entry and
the field. Channel addresses and robot secrets are secrets: the files name the environment variables that hold
them, never the values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.alerts.domain.inhibit import InhibitRule, InhibitRuleError, parse_rules
from shared.errors import ConfigurationError
from shared.messages import Severity
from shared.regions import REGIONS

ENV_NAME = r"^[A-Z][A-Z0-9_]*$"


class ChannelType(StrEnum):
    """The ways a department can be notified."""

    WEBHOOK = "webhook"
    WECOM = "wecom"  # 企业微信群机器人
    DINGTALK = "dingtalk"  # 钉钉自定义机器人
    FEISHU = "feishu"  # 飞书自定义机器人
    EMAIL = "email"


class DirectoryError(ConfigurationError):
    """A directory or routing file that cannot be used; the message names the entry and the field."""


class Contact(BaseModel):
    """A person or duty desk to call about an alert (names and roles only; numbers stay out of the repository)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str = Field(min_length=2)  # e.g. 办公室值班, 督查联络员
    name: str | None = None
    phone_env: str | None = Field(default=None, pattern=ENV_NAME)  # DingTalk @-mentions by mobile number
    # The person's own id on each robot's platform, to @-mention them (WeCom and Feishu cannot by phone).
    wecom_userid_env: str | None = Field(default=None, pattern=ENV_NAME)
    dingtalk_userid_env: str | None = Field(default=None, pattern=ENV_NAME)
    feishu_user_id_env: str | None = Field(default=None, pattern=ENV_NAME)  # open_id or user_id

    def user_id_env(self, channel: ChannelType) -> str | None:
        """The variable holding this contact's user id on ``channel``'s platform."""
        return {ChannelType.WECOM: self.wecom_userid_env, ChannelType.DINGTALK: self.dingtalk_userid_env,
                ChannelType.FEISHU: self.feishu_user_id_env}.get(channel)


class ChannelSpec(BaseModel):
    """One channel of a department: its type and the environment variables holding its address and secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: ChannelType
    address_env: str = Field(pattern=ENV_NAME)  # URL for webhook and robots; comma-separated addresses for e-mail
    # The channel's signing secret: the webhook's own key(s), DingTalk's or Feishu's robot secret.
    secret_env: str | None = Field(default=None, pattern=ENV_NAME)

    @model_validator(mode="after")
    def _secret_fits_type(self) -> ChannelSpec:
        if self.secret_env and self.type not in (ChannelType.WEBHOOK, ChannelType.DINGTALK, ChannelType.FEISHU):
            raise ValueError(f"secret_env only applies to webhook, dingtalk and feishu channels, not {self.type.value}")
        return self


class DepartmentEntry(BaseModel):
    """A department's contacts and channels, keyed by the catalogue's department id."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    contacts: tuple[Contact, ...] = ()
    channels: tuple[ChannelSpec, ...] = ()

    @model_validator(mode="after")
    def _one_channel_per_type(self) -> DepartmentEntry:
        types = [c.type for c in self.channels]
        dupes = {t.value for t in types if types.count(t) > 1}
        if dupes:
            raise ValueError(f"one channel per type: {', '.join(sorted(dupes))} given twice")
        return self


class Match(BaseModel):
    """A rule's conditions; every given condition must hold (an empty match matches everything)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    severity: tuple[Severity, ...] = ()
    section: tuple[str, ...] = ()
    department: tuple[str, ...] = ()  # the lead or a co-department is one of these
    target: tuple[str, ...] = ()
    region: tuple[str, ...] = ()  # the target's catalogue is of one of these regions (shared/regions.py)


class Rule(BaseModel):
    """A routing rule: when it matches, these departments are told too."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    match: Match = Match()
    add_departments: tuple[str, ...] = Field(min_length=1)
    stop: bool = False  # later rules are not considered when this one matched


class RoutingConfig(BaseModel):
    """The routing file: rules in order, and which channel types notifications may use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channels: tuple[ChannelType, ...] = tuple(ChannelType)
    notify_co_departments: bool = True
    rule: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Recipient:
    """A department that is told, and why (lead, co, or the rule that added it)."""

    department: str
    reason: str


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"field {'.'.join(str(p) for p in e['loc']) or '(entry)'!r}: {e['msg']}" for e in exc.errors()
    )


class Directory:
    """Departments' contacts and channels, checked against the catalogue's department ids."""

    def __init__(self, entries: Iterable[DepartmentEntry], known_departments: Mapping[str, str]) -> None:
        self.entries: dict[str, DepartmentEntry] = {}
        for e in entries:
            if e.id in self.entries:
                raise DirectoryError(f"department {e.id!r}: field 'id': defined twice")
            if e.id not in known_departments:
                raise DirectoryError(f"department {e.id!r}: field 'id': not a department of the catalogue")
            self.entries[e.id] = e

    def channels(self, department: str) -> tuple[ChannelSpec, ...]:
        """The department's channels (none when it has no entry)."""
        entry = self.entries.get(department)
        return entry.channels if entry else ()

    def contacts(self, department: str) -> tuple[Contact, ...]:
        """The department's contacts (none when it has no entry)."""
        entry = self.entries.get(department)
        return entry.contacts if entry else ()

    @classmethod
    def parse(cls, doc: Mapping[str, Any], known_departments: Mapping[str, str]) -> Directory:
        """Validate a parsed TOML document (``[[department]]`` entries)."""
        extra = set(doc) - {"department"}
        if extra:
            raise DirectoryError(f"directory: field {sorted(extra)[0]!r}: unknown (only [[department]] entries)")
        entries = []
        for i, raw in enumerate(doc.get("department", [])):
            try:
                entries.append(DepartmentEntry.model_validate(raw))
            except ValidationError as exc:
                raise DirectoryError(f"department {raw.get('id', f'#{i + 1}')!r}: {_problems(exc)}") from None
        return cls(entries, known_departments)


class Routing:
    """The routing rules, checked against the catalogue's departments and sections."""

    def __init__(self, config: RoutingConfig, inhibit_rules: tuple[InhibitRule, ...] = ()) -> None:
        self.config = config
        self.inhibit_rules = inhibit_rules  # [[inhibit_rule]]: applied by the pipeline's inhibit stage

    def as_doc(self) -> dict[str, Any]:
        """The routing file as loaded (GET /v1/routing)."""
        return {**self.config.model_dump(mode="json"), "inhibit_rule": [r.as_doc() for r in self.inhibit_rules]}

    @classmethod
    def parse(cls, doc: Mapping[str, Any], known_departments: Mapping[str, str],
              known_sections: Iterable[str]) -> Routing:
        """Validate a parsed TOML document; unknown departments or sections are errors naming the rule."""
        doc = dict(doc)
        try:
            inhibit_rules = parse_rules(doc.pop("inhibit_rule", None), known_departments)
        except InhibitRuleError as exc:
            raise DirectoryError(f"routing: {exc}") from None
        try:
            config = RoutingConfig.model_validate(doc)
        except ValidationError as exc:
            raise DirectoryError(f"routing: {_rule_problems(doc, exc)}") from None
        sections = set(known_sections)
        names: set[str] = set()
        for rule in config.rule:
            if rule.name in names:
                raise DirectoryError(f"routing rule {rule.name!r}: field 'name': defined twice")
            names.add(rule.name)
            for field, values, known in (("add_departments", rule.add_departments, known_departments),
                                         ("match.department", rule.match.department, known_departments),
                                         ("match.section", rule.match.section, sections),
                                         ("match.region", rule.match.region, REGIONS)):
                for v in values:
                    if v not in known:
                        raise DirectoryError(f"routing rule {rule.name!r}: field {field!r}: {v!r} is not known "
                                             f"to the catalogue")
        return cls(config, inhibit_rules)

    def recipients(self, *, severity: Severity, section: str, target_id: str, lead: str,
                   co: Iterable[str], region: str = "wuxi") -> list[Recipient]:
        """The departments told about a deviation, each once, in order: lead, co-departments, rules' additions.

        The lead and co-departments are the target's own (a district's target names the district's departments);
        a rule may match the target's region.
        """
        co = tuple(co)
        out = [Recipient(lead, "lead")]
        if self.config.notify_co_departments:
            out += [Recipient(d, "co") for d in co]
        owners = {lead, *co}
        for rule in self.config.rule:
            m = rule.match
            if ((m.severity and severity not in m.severity) or (m.section and section not in m.section)
                    or (m.target and target_id not in m.target) or (m.department and not owners & set(m.department))
                    or (m.region and region not in m.region)):
                continue
            out += [Recipient(d, f"rule:{rule.name}") for d in rule.add_departments]
            if rule.stop:
                break
        seen: set[str] = set()
        unique = []
        for r in out:
            if r.department not in seen:
                seen.add(r.department)
                unique.append(r)
        return unique


def _rule_problems(doc: Mapping[str, Any], exc: ValidationError) -> str:
    parts = []
    for e in exc.errors():
        loc = list(e["loc"])
        where = ""
        if len(loc) >= 2 and loc[0] == "rule" and isinstance(loc[1], int):
            rules = doc.get("rule", [])
            name = rules[loc[1]].get("name") if loc[1] < len(rules) and isinstance(rules[loc[1]], dict) else None
            where = f"rule {name or '#' + str(loc[1] + 1)!r}: "
            loc = loc[2:]
        parts.append(f"{where}field {'.'.join(str(p) for p in loc) or '(entry)'!r}: {e['msg']}")
    return "; ".join(parts)
