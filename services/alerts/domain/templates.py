"""Chinese notification text for department staff. Pure: no I/O."""

from __future__ import annotations

from shared.messages import Severity, TargetStatusChanged

from .lifecycle import Action

_SEVERITY_ZH = {Severity.OK: "正常", Severity.WARNING: "预警", Severity.CRITICAL: "严重"}
_TITLE_ZH = {
    Action.OPEN: "【目标预警】",
    Action.ESCALATE: "【预警升级】",
    Action.RESOLVE: "【预警解除】",
    Action.UPDATE: "【预警更新】",
}


def title(action: Action, event: TargetStatusChanged) -> str:
    """A one-line title: what happened to which target."""
    level = "" if action == Action.RESOLVE else f"（{_SEVERITY_ZH[event.severity]}）"
    return f"{_TITLE_ZH[action]}{event.target_name_zh}{level}"


def body(action: Action, event: TargetStatusChanged, department_zh: str, ack_url: str | None) -> str:
    """The text a department reads: the evaluator's finding, then what is asked of them."""
    lines = [title(action, event), f"致：{department_zh}", event.message_zh]
    if action == Action.RESOLVE:
        lines.append("该目标已恢复正常进度，预警自动解除，无需处理。")
    else:
        lines.append("请牵头单位会同配合单位分析原因，提出整改措施并在系统中确认。")
        if ack_url:
            lines.append(f"确认并填报整改措施：{ack_url}")
    return "\n".join(lines)
