"""Charge correction: one shift per measurement, from a reference line or given."""

from __future__ import annotations

import numpy as np
import pytest

from specssb import Axis, Source, Spectrum
from specssb.errors import ConfigError, PhysicsWarning
from specssb.fitting.lineshapes import get_lineshape
from specssb.fitting.xps.charge import REFERENCE_LINES, charge_correct, find_reference_line

GL = get_lineshape("gl")


def region(name: str, low: float, high: float, peaks: list[tuple[float, float]], *,
           path: str = "cell.vms", seed: int = 0) -> Spectrum:
    """A binding-energy region (decreasing axis, 0.05 eV steps) with GL(30) peaks and noise."""
    rng = np.random.default_rng(seed)
    be = np.arange(high, low, -0.05)
    y = 300.0 + sum(GL.evaluate(be, h, c, 1.1, 30.0) for c, h in peaks)
    element, transition = name.split()
    return Spectrum(axis=Axis("binding_energy", "eV", be), data=rng.poisson(y).astype(float),
                    technique="xps", signal="counts",
                    meta={"region": name, "element": element, "transition": transition},
                    source=Source(path, "0" * 64, "vamas", block=name))


def test_every_region_moves_by_the_c1s_shift():
    # the sample charged by +1.37 eV: C-C at 286.17 instead of 284.8, C-O 1.5 eV above it
    c1s = region("C 1s", 280.0, 295.0, [(286.17, 5000.0), (287.67, 1200.0)])
    s2p = region("S 2p", 155.0, 170.0, [(163.07, 3000.0)], seed=1)
    with pytest.warns(PhysicsWarning, match="284.08-286.74"):
        corrected = charge_correct([s2p, c1s])
    measured, stderr = find_reference_line(c1s, 284.8)
    assert measured == pytest.approx(286.17, abs=0.02) and 0 < stderr < 0.01  # C-O pulls 0.013
    for before, after in zip([s2p, c1s], corrected):
        np.testing.assert_allclose(after.axis.values, before.axis.values + (284.8 - measured))
        step = after.history[-1]
        assert step.operation == "charge_correction"
        assert step.parameters["line"] == "C 1s" and step.parameters["reference_ev"] == 284.8
        assert step.parameters["region_source"] == "cell.vms block C 1s"
    # the S 2p line moved by the same shift as the C 1s reference
    expected = 163.07 + 284.8 - measured
    assert find_reference_line(corrected[0], 161.7)[0] == pytest.approx(expected, abs=0.005)


def test_a_fixed_shift_and_a_user_line():
    s2p = region("S 2p", 155.0, 170.0, [(161.7, 3000.0)])
    (shifted,) = charge_correct(s2p, shift_ev=-0.4)
    np.testing.assert_allclose(shifted.axis.values, s2p.axis.values - 0.4)
    assert shifted.history[-1].parameters["method"] == "fixed"
    au = region("Au 4f", 80.0, 92.0, [(84.6, 8000.0), (88.27, 6000.0)], path="foil.vms")
    (foil,) = charge_correct(au, line="Au 4f7/2")  # no adventitious-carbon warning for Au
    assert foil.history[-1].parameters["shift_ev"] == pytest.approx(REFERENCE_LINES["Au 4f7/2"]
                                                                    .binding_energy_ev - 84.6, abs=0.01)
    li = region("Li 1s", 50.0, 60.0, [(56.0, 900.0)], path="own.vms")
    (own,) = charge_correct(li, line="Li2CO3 Li 1s", reference_ev=55.4, region="Li 1s")
    assert own.history[-1].parameters["shift_ev"] == pytest.approx(-0.6, abs=0.02)
    with pytest.raises(ConfigError, match="reference_ev"):
        charge_correct(li, line="Li 1s of my choice")


def test_measurements_are_corrected_separately_and_a_missing_reference_is_reported():
    a = [region("C 1s", 280.0, 295.0, [(285.3, 4000.0)], path="a.vms"),
         region("S 2p", 155.0, 170.0, [(162.2, 3000.0)], path="a.vms")]
    b = [region("S 2p", 155.0, 170.0, [(161.7, 3000.0)], path="b.vms")]
    with pytest.warns(PhysicsWarning) as record:
        out = charge_correct([*a, *b])
    messages = [str(w.message) for w in record]
    assert any("b.vms: no charge reference" in m for m in messages)
    assert out[2] is b[0] and not out[2].history  # left as it was
    assert out[1].axis.values[0] == pytest.approx(a[1].axis.values[0] - 0.5, abs=0.01)


def test_metallic_li_is_flagged_when_adventitious_carbon_is_the_reference():
    parts = [region("C 1s", 280.0, 295.0, [(285.8, 4000.0)], path="li.vms"),
             region("Li 1s", 48.0, 62.0, [(53.5, 2000.0)], path="li.vms")]
    with pytest.warns(PhysicsWarning) as record:
        charge_correct(parts)
    assert any("metallic Li" in str(w.message) for w in record)


def test_only_energy_axes_are_accepted():
    raman = Spectrum(axis=Axis("raman_shift", "cm-1", np.arange(10.0)), data=np.ones(10),
                     technique="raman", signal="counts")
    with pytest.raises(ConfigError, match="energy axis"):
        charge_correct(raman, shift_ev=1.0)


def test_a_real_kratos_measurement(shared_data):
    import specssb

    blocks = specssb.read(shared_data("xps", "lg4x", "0-150W.vms"))
    with pytest.warns(PhysicsWarning):
        corrected = charge_correct(blocks)
    shifts = {s.history[-1].parameters["shift_ev"] for s in corrected}
    assert len(shifts) == 1  # one shift for the whole measurement
    (shift,) = shifts
    assert abs(shift) < 3.0  # a neutralised Kratos measurement: a small correction
    c1s = next(s for s in corrected if s.meta.get("region", "").replace(" ", "").lower() == "c1s")
    assert find_reference_line(c1s, 284.8)[0] == pytest.approx(284.8, abs=0.02)
