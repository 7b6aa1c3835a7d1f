"""The regions of Wuxi that statistics and catalogues are for: the city and its county-level cities and districts."""

from __future__ import annotations

CITY = "wuxi"  # the city as a whole; its catalogue's departments are the top of every escalation chain

REGIONS: dict[str, str] = {
    "wuxi": "无锡市",
    "jiangyin": "江阴市",
    "yixing": "宜兴市",
    "liangxi": "梁溪区",
    "xishan": "锡山区",
    "huishan": "惠山区",
    "binhu": "滨湖区",
    "xinwu": "新吴区",
    "jingkai": "经开区",
}
