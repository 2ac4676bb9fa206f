"""Data shipped with specssb: built-in fit recipes in ``recipes/*.toml``.

List them with :func:`specssb.fitting.recipe.list_recipes` or ``specssb recipes``; load one by
name with :func:`specssb.fitting.recipe.load_recipe`.
"""
