"""Load and validate the catalogue TOML files shipped with the package."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from wearoff.catalog.schema import Area, Product


class CatalogError(ValueError):
    """The catalogue is malformed, or a code is not in it."""


@dataclass(frozen=True)
class Catalog:
    """Products and areas by code."""

    products: dict[str, Product]
    areas: dict[str, Area]

    def product(self, code: str) -> Product:
        """The product with this code, or a :class:`CatalogError` listing the known codes."""
        try:
            return self.products[code]
        except KeyError:
            known = ", ".join(sorted(self.products))
            raise CatalogError(f"unknown product {code!r}; known products: {known}") from None

    def area(self, code: str) -> Area:
        """The area with this code, or a :class:`CatalogError` listing the known codes."""
        try:
            return self.areas[code]
        except KeyError:
            known = ", ".join(sorted(self.areas))
            raise CatalogError(f"unknown area {code!r}; known areas: {known}") from None


def _read(path: Path | resources.abc.Traversable) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from exc


def _build(kind: type[Product] | type[Area], table: dict, origin: str) -> dict:
    out = {}
    for code, body in table.items():
        try:
            out[code] = kind(code=code, **body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise CatalogError(f"{origin}: [{code}] {where}: {first['msg']}") from exc
    return out


def load_catalog_from(directory: Path) -> Catalog:
    """Load ``products.toml`` and ``areas.toml`` from a directory (for tests and site catalogues)."""
    return Catalog(
        products=_build(Product, _read(directory / "products.toml"), "products.toml"),
        areas=_build(Area, _read(directory / "areas.toml"), "areas.toml"),
    )


@cache
def load_catalog() -> Catalog:
    """The catalogue shipped with the package (cached: it is read once per process)."""
    base = resources.files("wearoff.catalog")
    return Catalog(
        products=_build(Product, _read(base / "products.toml"), "products.toml"),
        areas=_build(Area, _read(base / "areas.toml"), "areas.toml"),
    )
