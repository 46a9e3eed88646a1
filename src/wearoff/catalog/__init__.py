"""The catalogue of products and treatment areas, shipped as TOML data files with a source for every number."""

from wearoff.catalog.loader import Catalog, CatalogError, load_catalog
from wearoff.catalog.schema import Area, Product, Sourced

__all__ = ["Area", "Catalog", "CatalogError", "Product", "Sourced", "load_catalog"]
