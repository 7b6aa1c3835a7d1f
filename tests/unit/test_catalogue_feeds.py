"""The catalogue's optional ``feeds``: a target names the headline target it feeds, checked at load (in Chinese)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shared.catalogue import CatalogueError, load_catalogue, load_catalogues
from shared.catalogue.loader import DEFAULT_PATH

JIANGYIN = Path(__file__).parents[1] / "fixtures" / "catalogues" / "jiangyin_2024.toml"
FEEDER = 'id = "new_above_scale_industrial"\nsection = "1"\n'


def _catalogue_with(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue_2024.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_investment_targets_feed_fixed_asset_investment() -> None:
    c = load_catalogue()
    feeders = sorted(t.id for t in c.targets.values() if t.feeds == "fixed_asset_investment_total")
    assert feeders == ["major_project_industrial_investment", "major_project_investment", "science_city_investment"]
    assert c.targets["fixed_asset_investment_total"].section == "headline"


def test_an_unknown_target_is_refused_naming_the_target_and_field(tmp_path: Path) -> None:
    text = DEFAULT_PATH.read_text(encoding="utf-8").replace(
        'feeds = "fixed_asset_investment_total"', 'feeds = "fixed_asset_investmnet"', 1)
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(_catalogue_with(tmp_path, text))
    assert "目标 'major_project_investment'：字段 'feeds'：不存在的目标 'fixed_asset_investmnet'" in str(exc.value)


def test_a_target_that_is_not_a_headline_one_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_PATH.read_text(encoding="utf-8").replace(
        'feeds = "fixed_asset_investment_total"', 'feeds = "major_project_industrial_investment"', 1)
    with pytest.raises(CatalogueError) as exc:
        load_catalogue(_catalogue_with(tmp_path, text))
    assert "字段 'feeds'：'major_project_industrial_investment' 不是另一个主要目标" in str(exc.value)


def test_a_districts_feeds_names_its_own_headline_target_qualified(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_PATH, tmp_path / "catalogue_2024.toml")
    text = JIANGYIN.read_text(encoding="utf-8")
    assert FEEDER in text
    (tmp_path / "jiangyin_2024.toml").write_text(
        text.replace(FEEDER, FEEDER + 'feeds = "gdp_growth"\n'), encoding="utf-8")
    jiangyin = load_catalogues(tmp_path).get("jiangyin", 2024)
    assert jiangyin is not None
    assert jiangyin.targets["jiangyin.2024.new_above_scale_industrial"].feeds == "jiangyin.2024.gdp_growth"
