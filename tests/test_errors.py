"""The error hierarchy of DESIGN §9 and its messages."""

from __future__ import annotations

import pytest

from specssb import errors


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.ParseError, ValueError),
        (errors.UnknownFormatError, ValueError),
        (errors.ConfigError, ValueError),
        (errors.FitError, RuntimeError),
        (errors.StoreError, RuntimeError),
        (errors.BrowserError, RuntimeError),
    ],
)
def test_every_error_is_a_specssb_error_and_its_builtin(cls, builtin):
    assert issubclass(cls, errors.SpecssbError) and issubclass(cls, builtin)


@pytest.mark.parametrize("cls", [errors.ConvergenceWarning, errors.MetadataWarning, errors.PhysicsWarning])
def test_warnings_share_one_root(cls):
    assert issubclass(cls, errors.SpecssbWarning) and issubclass(cls, UserWarning)


def test_parse_error_names_file_position_and_reason():
    error = errors.ParseError("cycle3.vms", "expected an integer number of points, found 'abc'",
                              position="line 212")
    assert str(error) == "cycle3.vms line 212: expected an integer number of points, found 'abc'"
    assert (error.path, error.position) == ("cycle3.vms", "line 212")


def test_unknown_format_error_lists_candidates_and_the_fix():
    error = errors.UnknownFormatError("x.txt", ["xdi", "vamas"])
    assert "x.txt" in str(error) and "xdi, vamas" in str(error) and "--format" in str(error)
    assert "no registered format" in str(errors.UnknownFormatError("y.bin"))


def test_config_error_names_file_line_and_key():
    error = errors.ConfigError("expected a number", path="recipe.toml", line=12, key="center")
    assert str(error) == "recipe.toml line 12 key 'center': expected a number"
    assert str(errors.ConfigError("plain")) == "plain"


def test_every_error_and_warning_class_is_importable_from_the_package():
    import inspect

    import specssb

    defined = {name for name, value in inspect.getmembers(errors, inspect.isclass)
               if value.__module__ == errors.__name__}
    assert defined <= set(specssb.__all__)
    assert all(getattr(specssb, name) is getattr(errors, name) for name in defined)
