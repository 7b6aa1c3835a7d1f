"""Catalogues per region and year: the registry, and the load errors that name the file and the field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shared.catalogue import CatalogueError, load_catalogues
from shared.catalogue.loader import DEFAULT_PATH, PRIMARY

FIXTURES = Path(__file__).parents[1] / "fixtures"
JIANGYIN = FIXTURES / "catalogues" / "jiangyin_2024.toml"


def _dir(tmp_path: Path, *files: tuple[str, str]) -> Path:
    shutil.copy(DEFAULT_PATH, tmp_path / "catalogue_2024.toml")
    for name, text in files:
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def _jiangyin() -> str:
    return JIANGYIN.read_text(encoding="utf-8")


def test_the_shipped_directory_holds_the_citys_2024_catalogue_only() -> None:
    catalogues = load_catalogues()
    assert list(catalogues.by_key) == [PRIMARY]
    assert catalogues.primary.region == "wuxi" and catalogues.primary.year == 2024
    assert "gdp_growth" in catalogues.targets  # the first catalogue keeps its ids unqualified


def test_a_district_catalogue_is_monitored_beside_the_citys(tmp_path: Path) -> None:
    catalogues = load_catalogues(_dir(tmp_path, ("jiangyin_2024.toml", _jiangyin())))
    assert set(catalogues.by_key) == {("wuxi", 2024), ("jiangyin", 2024)}
    city = catalogues.for_observation("wuxi", "2024-Q1")
    jiangyin = catalogues.for_observation("jiangyin", "2024-M06")
    assert city is catalogues.primary and jiangyin is not None and jiangyin.region == "jiangyin"
    target = jiangyin.targets["jiangyin.2024.gdp_growth"]
    assert (target.value, target.lead_department) == (6.0, "jiangyin_fgw")
    assert catalogues.targets["gdp_growth"].value == 5.5  # the city's own target is untouched
    assert catalogues.of_target("jiangyin.2024.gdp_growth") is jiangyin
    # Jiangyin's departments are its own, and its government office escalates to the city's.
    assert jiangyin.department_name("jiangyin_fgw") == "江阴市发展改革委"
    assert catalogues.departments["jiangyin_gov_office"].parent == "gov_office"
    assert catalogues.department_name("gov_office") == "市政府办公室"


def test_a_region_or_year_without_a_catalogue_has_none(tmp_path: Path) -> None:
    catalogues = load_catalogues(_dir(tmp_path, ("jiangyin_2024.toml", _jiangyin())))
    assert catalogues.for_observation("yixing", "2024-Q1") is None
    assert catalogues.for_observation("wuxi", "2025-M03") is None
    assert catalogues.for_observation("jiangyin", "2023") is None


def test_a_figure_moves_its_years_catalogue_and_as_last_years_the_next_ones(tmp_path: Path) -> None:
    catalogues = load_catalogues(_dir(tmp_path, ("jiangyin_2024.toml", _jiangyin())))
    assert [c.key for c in catalogues.judging("wuxi", 2024)] == [("wuxi", 2024)]
    assert [c.key for c in catalogues.judging("jiangyin", 2023)] == [("jiangyin", 2024)]
    assert catalogues.judging("yixing", 2024) == [] and catalogues.judging("wuxi", 2022) == []


def test_a_second_year_of_the_city_is_data_only(tmp_path: Path) -> None:
    text_2025 = DEFAULT_PATH.read_text(encoding="utf-8").replace("\nyear = 2024\n", "\nyear = 2025\n", 1)
    catalogues = load_catalogues(_dir(tmp_path, ("catalogue_2025.toml", text_2025)))
    c2025 = catalogues.for_observation("wuxi", "2025-M03")
    assert c2025 is not None and c2025.year == 2025
    assert "wuxi.2025.gdp_growth" in catalogues.targets and "gdp_growth" in catalogues.targets


def test_two_catalogues_for_the_same_region_and_year_name_the_file_and_fields(tmp_path: Path) -> None:
    d = _dir(tmp_path, ("jiangyin_a.toml", _jiangyin()), ("jiangyin_b.toml", _jiangyin()))
    with pytest.raises(CatalogueError) as exc:
        load_catalogues(d)
    message = str(exc.value)
    assert "jiangyin_b.toml" in message and "'region', 'year'" in message and "jiangyin_a.toml" in message


def test_an_unknown_department_names_the_file_and_field(tmp_path: Path) -> None:
    text = _jiangyin().replace('lead_department = "jiangyin_fgw"', 'lead_department = "jiangyin_nobody"', 1)
    with pytest.raises(CatalogueError) as exc:
        load_catalogues(_dir(tmp_path, ("jiangyin_2024.toml", text)))
    assert str(exc.value).startswith(str(tmp_path / "jiangyin_2024.toml"))
    assert "target 'gdp_growth': field 'lead_department': unknown department 'jiangyin_nobody'" in str(exc.value)


def test_an_unknown_indicator_names_the_file_and_field(tmp_path: Path) -> None:
    text = _jiangyin().replace('indicator = "gdp"', 'indicator = "gdp_of_mars"', 1)
    with pytest.raises(CatalogueError) as exc:
        load_catalogues(_dir(tmp_path, ("jiangyin_2024.toml", text)))
    assert "jiangyin_2024.toml" in str(exc.value)
    assert "field 'indicator': unknown indicator 'gdp_of_mars'" in str(exc.value)


def test_a_district_may_not_redefine_the_citys_departments(tmp_path: Path) -> None:
    text = _jiangyin().replace('id = "jiangyin_fgw"', 'id = "fgw"').replace('"jiangyin_fgw"', '"fgw"')
    with pytest.raises(CatalogueError) as exc:
        load_catalogues(_dir(tmp_path, ("jiangyin_2024.toml", text)))
    assert "jiangyin_2024.toml" in str(exc.value) and "department 'fgw': field 'id'" in str(exc.value)


def test_a_department_parent_outside_the_city_is_unknown(tmp_path: Path) -> None:
    text = _jiangyin().replace('parent = "gov_office"', 'parent = "yixing_gov_office"')
    with pytest.raises(CatalogueError) as exc:
        load_catalogues(_dir(tmp_path, ("jiangyin_2024.toml", text)))
    assert "field 'parent': unknown department 'yixing_gov_office'" in str(exc.value)


def test_an_unknown_region_names_the_file_and_field(tmp_path: Path) -> None:
    text = _jiangyin().replace('region = "jiangyin"', 'region = "atlantis"')
    with pytest.raises(CatalogueError) as exc:
        load_catalogues(_dir(tmp_path, ("atlantis_2024.toml", text)))
    assert "atlantis_2024.toml" in str(exc.value) and "field 'region': unknown region 'atlantis'" in str(exc.value)


def test_a_missing_year_names_the_file(tmp_path: Path) -> None:
    text = _jiangyin().replace("\nyear = 2024\n", "\n", 1)
    with pytest.raises(CatalogueError) as exc:
        load_catalogues(_dir(tmp_path, ("jiangyin_2024.toml", text)))
    assert "jiangyin_2024.toml" in str(exc.value) and "field 'year'" in str(exc.value)


def test_a_department_defined_differently_in_two_city_catalogues_is_an_error(tmp_path: Path) -> None:
    text_2025 = (DEFAULT_PATH.read_text(encoding="utf-8").replace("\nyear = 2024\n", "\nyear = 2025\n", 1)
                 .replace('name_zh = "市发展改革委"', 'name_zh = "市发改委"', 1))
    with pytest.raises(CatalogueError) as exc:
        load_catalogues(_dir(tmp_path, ("catalogue_2025.toml", text_2025)))
    assert "catalogue_2025.toml" in str(exc.value) and "department 'fgw'" in str(exc.value)


def test_the_district_fixture_is_marked_as_made_up() -> None:
    assert "MADE UP FOR TESTS" in JIANGYIN.read_text(encoding="utf-8").splitlines()[0]
    first = (FIXTURES / "jiangyin-2024-report.txt").read_text(encoding="utf-8").splitlines()[0]
    assert "虚构" in first and "测试" in first
