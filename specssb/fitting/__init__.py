"""Fitting: line shapes, backgrounds, recipes, engines."""
