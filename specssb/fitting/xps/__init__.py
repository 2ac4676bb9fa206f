"""XPS analysis beyond fitting: charge correction, quantification, CasaXPS model import."""

from specssb.fitting.xps.casa import recipe_from_casa

__all__ = ["recipe_from_casa"]
