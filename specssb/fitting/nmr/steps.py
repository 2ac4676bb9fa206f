"""The ``[steps]`` tables of an NMR recipe, validated (pydantic) when the recipe is read.

Each NMR analysis step is its own optional sub-table under ``[steps]``, so further steps
(processing, integration, relaxation …) are added as new fields of :class:`NmrSteps` without
touching the existing ones::

    technique = "nmr"
    [select]
    nucleus = "7Li"
    [steps.csi]                       # chemical-shift imaging (specssb.fitting.nmr.csi)
    k_window = "hamming"              # k-space apodization: hamming | hann | gaussian | none
    zero_fill = 2                     # spatial zero filling factor
    line_broadening_hz = 200.0        # exponential broadening of every voxel spectrum (Hz)
    noise_window = [-200.0, -100.0]   # signal-free shift window for the noise (ppm)
    compare_window = "li_metal"       # window compared with the pristine cell
    [steps.csi.windows]               # named shift windows (ppm), integrated per voxel
    li_metal = [245.0, 270.0]
    diamagnetic = [-10.0, 10.0]
    [steps.csi.regions]               # interface regions (mm along the first position dim)
    bottom = [-1.3, -0.9]
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Csi", "NmrSteps"]

_STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)
Number = Annotated[float, Field(strict=False)]  # TOML integers are accepted


def _pair(name: str, bounds: list[float], unit: str) -> list[float]:
    if len(bounds) != 2:
        raise ValueError(f"{name} must be [low, high] in {unit}, got {len(bounds)} values")
    if bounds[0] >= bounds[1]:
        raise ValueError(f"{name}: low ({bounds[0]}) must be below high ({bounds[1]}) {unit}")
    return bounds


class Csi(BaseModel):
    """``[steps.csi]``: options of :func:`~specssb.fitting.nmr.csi.reconstruct_csi`,
    :func:`~specssb.fitting.nmr.csi.csi_profiles` and
    :func:`~specssb.fitting.nmr.csi_compare.compare_to_pristine` (ppm, mm, Hz, s)."""

    model_config = _STRICT
    windows: dict[str, list[Number]] = Field(
        default_factory=lambda: {"li_metal": [245.0, 270.0], "diamagnetic": [-10.0, 10.0]})
    noise_window: list[Number]
    regions: dict[str, list[Number]] = Field(default_factory=dict)
    k_window: Literal["hamming", "hann", "gaussian", "none"] = "hamming"
    zero_fill: int = Field(default=2, ge=1, le=16)
    line_broadening_hz: Number = Field(default=0.0, ge=0)
    fov_mm: Number | None = Field(default=None, gt=0)
    gradient_duration_s: Number | None = Field(default=None, gt=0)
    gradient_max_t_per_m: Number | None = Field(default=None, gt=0)
    compare_window: str = "li_metal"
    min_fraction: Number = Field(default=0.1, ge=0, lt=1)

    @field_validator("windows", "regions")
    @classmethod
    def _pairs(cls, value: dict[str, list[float]], info) -> dict[str, list[float]]:  # noqa: ANN001
        unit = "ppm" if info.field_name == "windows" else "mm"
        for name, bounds in value.items():
            _pair(f"{info.field_name}.{name}", bounds, unit)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Csi:
        _pair("noise_window", self.noise_window, "ppm")
        if not self.windows:
            raise ValueError("windows needs at least one named shift window")
        if self.compare_window not in self.windows:
            raise ValueError(f"compare_window {self.compare_window!r} is not one of the windows "
                             f"{sorted(self.windows)}")
        low, high = self.noise_window
        for name, (a, b) in self.windows.items():
            if a < high and low < b:
                raise ValueError(f"noise_window {self.noise_window} overlaps window {name!r} "
                                 f"[{a}, {b}] ppm")
        return self


class NmrSteps(BaseModel):
    """All ``[steps]`` tables of an NMR recipe (each optional)."""

    model_config = _STRICT
    csi: Csi | None = None
