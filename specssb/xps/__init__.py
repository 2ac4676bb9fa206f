"""XPS analysis beyond fitting: charge correction, quantification."""
