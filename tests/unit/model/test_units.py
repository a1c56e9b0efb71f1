from __future__ import annotations

import re

import pytest

from omp.model.units import Affine, UnitError, check_unit, conversion


def test_fahrenheit_to_celsius() -> None:
    affine = conversion("[degF]", "Cel")
    assert affine.apply(212.0) == pytest.approx(100.0, abs=1e-9)
    assert affine.apply(32.0) == pytest.approx(0.0, abs=1e-9)
    assert affine.apply(-40.0) == pytest.approx(-40.0, abs=1e-9)


def test_bar_to_kilopascal() -> None:
    assert conversion("bar", "kPa").apply(1.0) == pytest.approx(100.0)
    assert conversion("bar", "kPa").offset == 0.0


def test_more_industrial_conversions() -> None:
    assert conversion("Cel", "K").apply(0.0) == pytest.approx(273.15)
    assert conversion("/min", "Hz").apply(6000.0) == pytest.approx(100.0)
    assert conversion("[psi]", "kPa").apply(1.0) == pytest.approx(6.894757, rel=1e-6)
    assert conversion("kW.h", "MJ").apply(1.0) == pytest.approx(3.6)
    assert conversion("%", "1").apply(50.0) == pytest.approx(0.5)
    assert conversion("10*3/min", "/min").apply(1.0) == pytest.approx(1000.0)


def test_same_unit_is_identity() -> None:
    assert conversion("kPa", "kPa").is_identity


def test_annotations_carry_no_dimension() -> None:
    check_unit("{parts}")
    assert conversion("{bottles}/h", "/min").apply(60.0) == pytest.approx(1.0)


def test_incompatible_units_name_both() -> None:
    with pytest.raises(UnitError, match=r"'bar' cannot be converted to 'Cel'"):
        conversion("bar", "Cel")


@pytest.mark.parametrize(
    ("code", "suggestion"),
    [("degC", "Cel"), ("rpm", "/min"), ("psi", "[psi]"), ("kpa", "kPa"), ("°F", "[degF]")],
)
def test_unknown_unit_suggests_the_ucum_code(code: str, suggestion: str) -> None:
    expected = f"unknown unit '{code}' (did you mean '{suggestion}'?)"
    with pytest.raises(UnitError, match=re.escape(expected)):
        check_unit(code)


def test_affine_composition_applies_left_then_right() -> None:
    tenths_of_degf = Affine(0.1, 0.0).then(conversion("[degF]", "Cel"))
    assert tenths_of_degf.apply(2120.0) == pytest.approx(100.0)


def test_incompatible_units_say_what_each_measures() -> None:
    with pytest.raises(UnitError, match="a temperature is not a pressure"):
        conversion("[degF]", "kPa")
