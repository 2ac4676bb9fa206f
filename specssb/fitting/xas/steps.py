"""The ``[steps]`` tables of an XAS recipe, validated (pydantic) when the recipe is read.

An XAS recipe has no ``[[component]]``: it chains analysis steps, each a table under ``[steps]``
and each optional except ``normalize``::

    technique = "xas"
    [select]
    edge = "Ni K"                 # element and edge the recipe applies to
    [steps.normalize]             # Larch-compatible pre_edge; omitted keys: Larch's choices
    pre1 = -150.0
    [steps.edge]                  # e0, half-height and white-line energies per scan
    [steps.lcf]                   # linear combination fitting
    references = {discharged = "refs/NMC811_discharged.xdi", charged = "refs/NMC811_charged.xdi"}
    emin = -20.0                  # eV relative to e0
    emax = 30.0
    [steps.pca]                   # number of components (IND, F-test) of the series
    [steps.mcr]                   # MCR-ALS with non-negativity and closure
    n_components = 2
    [steps.exafs]                 # AUTOBK + FT through Larch, first-shell peak

Reference paths are relative to the recipe file (a built-in recipe's to the folder of the data);
they are resolved by :mod:`specssb.fitting.xas.pipeline`, never executed.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["Edge", "Exafs", "Lcf", "Mcr", "Normalize", "Pca", "XasSteps"]

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
Energy = Annotated[float, Field(strict=False)]  # TOML integers are accepted as eV


class Normalize(BaseModel):
    """``[steps.normalize]``: :func:`specssb.fitting.xas.normalize.normalize` options (eV)."""

    model_config = _STRICT
    e0: Energy | None = None
    pre1: Energy | None = None
    pre2: Energy | None = None
    norm1: Energy | None = None
    norm2: Energy | None = None
    nnorm: int | None = Field(default=None, ge=0, le=5)
    nvict: int = Field(default=0, ge=0, le=4)
    use: Literal["norm", "flat"] = "flat"

    @model_validator(mode="after")
    def _ordered(self) -> Normalize:
        for low, high in (("pre1", "pre2"), ("norm1", "norm2")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a >= b:
                raise ValueError(f"{low} ({a}) must be below {high} ({b})")
        return self


class Edge(BaseModel):
    """``[steps.edge]``: edge positions; ``window`` (eV above e0) bounds the white-line search."""

    model_config = _STRICT
    window: Energy = Field(default=30.0, gt=0)


class Lcf(BaseModel):
    """``[steps.lcf]``: references (label = path), window relative to e0 (eV), constraints.

    ``references`` may be left empty in a template recipe and given at run time
    (``specssb fit --reference label=path``)."""

    model_config = _STRICT
    references: dict[str, str] = Field(default_factory=dict)
    emin: Energy = -20.0
    emax: Energy = 30.0
    nonnegative: bool = True
    sum_to_one: bool = True

    @model_validator(mode="after")
    def _window(self) -> Lcf:
        if self.emin >= self.emax:
            raise ValueError(f"emin ({self.emin}) must be below emax ({self.emax})")
        return self


class Pca(BaseModel):
    """``[steps.pca]``: principal components of the normalized series (rank estimate)."""

    model_config = _STRICT
    max_components: int = Field(default=8, ge=1)
    emin: Energy | None = None
    emax: Energy | None = None


class Mcr(BaseModel):
    """``[steps.mcr]``: MCR-ALS; starting spectra from ``references`` (label = path) or found
    in the data (purest variables) when none are given."""

    model_config = _STRICT
    n_components: int = Field(default=2, ge=1)
    references: dict[str, str] = Field(default_factory=dict)
    closure: bool = True
    max_iterations: int = Field(default=500, ge=1)
    emin: Energy | None = None
    emax: Energy | None = None


class Exafs(BaseModel):
    """``[steps.exafs]``: AUTOBK and forward FT options (Å, Å⁻¹)."""

    model_config = _STRICT
    rbkg: Energy = Field(default=1.0, gt=0)
    kmin: Energy = Field(default=3.0, ge=0)
    kmax: Energy = Field(default=12.0, gt=0)
    kweight: Energy = 2.0
    dk: Energy = Field(default=1.0, ge=0)
    window: Literal["hanning", "kaiser", "parzen", "welch", "gaussian", "sine"] = "hanning"


class XasSteps(BaseModel):
    """All ``[steps]`` tables of an XAS recipe."""

    model_config = _STRICT
    normalize: Normalize = Field(default_factory=Normalize)
    edge: Edge | None = None
    lcf: Lcf | None = None
    pca: Pca | None = None
    mcr: Mcr | None = None
    exafs: Exafs | None = None
