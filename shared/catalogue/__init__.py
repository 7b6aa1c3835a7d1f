"""The target catalogues: what each report commits to, which statistic measures it, who owns it."""

from shared.catalogue.loader import Catalogue, CatalogueError, Catalogues, load_catalogue, load_catalogues

__all__ = ["Catalogue", "CatalogueError", "Catalogues", "load_catalogue", "load_catalogues"]
