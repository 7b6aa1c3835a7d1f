"""The 2024 target catalogue: what the report commits to, which statistic measures it, who owns it."""

from shared.catalogue.loader import Catalogue, CatalogueError, load_catalogue

__all__ = ["Catalogue", "CatalogueError", "load_catalogue"]
