"""Chinese texts of the error contract: a title per HTTP status, and pydantic's validation errors translated.

Pydantic names each error with a stable ``type`` and gives its parameters in ``ctx``; the Chinese message is
built from those, never by translating pydantic's English sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# status -> (Chinese title, English title)
STATUS_TITLES: dict[int, tuple[str, str]] = {
    400: ("请求无法解析", "The request could not be parsed"),
    401: ("未通过身份认证", "Not authenticated"),
    403: ("无权执行此操作", "Not allowed"),
    404: ("未找到请求的资源", "Not found"),
    405: ("不支持该请求方法", "Method not allowed"),
    406: ("无法提供所要求的格式", "Not acceptable"),
    409: ("与当前状态冲突", "Conflict with the current state"),
    413: ("请求体过大", "Request body too large"),
    415: ("不支持的内容类型", "Unsupported media type"),
    422: ("请求内容有误", "Invalid request"),
    429: ("请求过于频繁", "Too many requests"),
    500: ("服务器内部错误", "Internal server error"),
    503: ("服务暂时不可用", "Service unavailable"),
}

_Template = Callable[[Mapping[str, Any]], str]

# pydantic error type -> Chinese message from its ctx
_MESSAGES: dict[str, _Template] = {
    "missing": lambda c: "缺少必填字段",
    "extra_forbidden": lambda c: "不接受此字段（字段名可能拼写有误）",
    "string_type": lambda c: "应为字符串",
    "string_too_short": lambda c: f"长度至少为{c.get('min_length')}个字符",
    "string_too_long": lambda c: f"长度不能超过{c.get('max_length')}个字符",
    "string_pattern_mismatch": lambda c: "格式不符合要求（或含有不允许的字符，如 NUL）",
    "string_unicode": lambda c: "应为有效的 Unicode 字符串",
    "int_type": lambda c: "应为整数",
    "int_parsing": lambda c: "应为整数",
    "int_parsing_size": lambda c: "整数过大",
    "int_from_float": lambda c: "应为整数，不能带小数",
    "float_type": lambda c: "应为数字",
    "float_parsing": lambda c: "应为数字",
    "finite_number": lambda c: "应为有限数值（不能是 NaN 或无穷大）",
    "bool_type": lambda c: "应为布尔值（true 或 false）",
    "bool_parsing": lambda c: "应为布尔值（true 或 false）",
    "greater_than": lambda c: f"应大于{c.get('gt')}",
    "greater_than_equal": lambda c: f"应大于或等于{c.get('ge')}",
    "less_than": lambda c: f"应小于{c.get('lt')}",
    "less_than_equal": lambda c: f"应小于或等于{c.get('le')}",
    "multiple_of": lambda c: f"应为{c.get('multiple_of')}的倍数",
    "enum": lambda c: f"应为以下之一：{c.get('expected')}",
    "literal_error": lambda c: f"应为以下之一：{c.get('expected')}",
    "list_type": lambda c: "应为数组",
    "tuple_type": lambda c: "应为数组",
    "set_type": lambda c: "应为数组",
    "too_short": lambda c: f"至少需要{c.get('min_length')}项",
    "too_long": lambda c: f"最多允许{c.get('max_length')}项",
    "dict_type": lambda c: "应为 JSON 对象",
    "model_type": lambda c: "应为 JSON 对象",
    "model_attributes_type": lambda c: "应为 JSON 对象",
    "json_invalid": lambda c: "不是有效的 JSON（须为 UTF-8 编码）",
    "json_type": lambda c: "应为 JSON 文本",
    "recursion_loop": lambda c: "嵌套层数过深",
    "datetime_type": lambda c: "应为日期时间（RFC 3339，如 2024-04-18T09:30:00+08:00）",
    "datetime_parsing": lambda c: "应为日期时间（RFC 3339，如 2024-04-18T09:30:00+08:00）",
    "datetime_from_date_parsing": lambda c: "应为日期时间（RFC 3339，如 2024-04-18T09:30:00+08:00）",
    "timezone_aware": lambda c: "日期时间须带时区（如 +08:00）",
    "date_type": lambda c: "应为日期（如 2024-04-18）",
    "date_parsing": lambda c: "应为日期（如 2024-04-18）",
    "date_from_datetime_parsing": lambda c: "应为日期（如 2024-04-18）",
    "uuid_type": lambda c: "应为 UUID",
    "uuid_parsing": lambda c: "应为 UUID",
    "url_type": lambda c: "应为网址（URL）",
    "url_parsing": lambda c: "应为网址（URL）",
    "url_scheme": lambda c: f"网址应以 {c.get('expected_schemes')} 开头",
    "bytes_too_long": lambda c: f"长度不能超过{c.get('max_length')}字节",
    "none_required": lambda c: "应为空（null）",
    "union_tag_invalid": lambda c: f"类型标记应为以下之一：{c.get('expected_tags')}",
    "union_tag_not_found": lambda c: "缺少类型标记字段",
}


def translate(error_type: str, ctx: Mapping[str, Any], msg: str) -> str:
    """The Chinese message for one pydantic error (its English text appended when nothing fits better)."""
    template = _MESSAGES.get(error_type)
    if template is not None:
        return template(ctx)
    if error_type in ("value_error", "assertion_error"):
        return f"取值无效：{msg.removeprefix('Value error, ').removeprefix('Assertion failed, ')}"
    return f"取值无效（{msg}）"


def known_types() -> frozenset[str]:
    """The pydantic error types with a Chinese message of their own (for tests)."""
    return frozenset(_MESSAGES)
