"""Time distributions given in scenario files, drawn by inverse transform from a uniform.

Drawing through the quantile function lets every call carry its own uniforms, drawn when the
call is generated, so two scenarios facing the same calls also get the same service times
(common random numbers).

In a scenario a distribution is a number (fixed), or one of::

    {dist: exponential, mean: 45}
    {dist: lognormal, median: 30, p90: 90}
    {dist: fixed, value: 12}
    {dist: uniform, low: 1, high: 2.5}
"""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator
from scipy.special import ndtri

from sim.scenarios.frozen import Frozen

_Z90 = float(ndtri(0.9))


class _Dist(Frozen):
    """A distribution of minutes (or days), drawn by inverse transform: ``quantile(u)``."""


class Exponential(_Dist):
    """Exponential with the given mean."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0)

    def quantile(self, u: float) -> float:
        """Value at cumulative probability u in [0, 1)."""
        return -self.mean * math.log1p(-u)

    @property
    def mean_value(self) -> float:
        """The distribution's mean."""
        return self.mean


class LogNormal(_Dist):
    """Log-normal given by its median and 90th percentile (p90 > median)."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    p90: float = Field(gt=0)

    @model_validator(mode="after")
    def _p90_above_median(self) -> LogNormal:
        if self.p90 <= self.median:
            raise ValueError(f"p90 ({self.p90}) must be greater than median ({self.median})")
        return self

    @property
    def sigma(self) -> float:
        """Standard deviation of the log."""
        return math.log(self.p90 / self.median) / _Z90

    def quantile(self, u: float) -> float:
        """Value at cumulative probability u in (0, 1)."""
        u = min(max(u, 1e-12), 1 - 1e-12)
        return self.median * math.exp(self.sigma * float(ndtri(u)))

    @property
    def mean_value(self) -> float:
        """The distribution's mean."""
        return self.median * math.exp(self.sigma**2 / 2)


class Fixed(_Dist):
    """Always the same value."""

    dist: Literal["fixed"]
    value: float = Field(ge=0)

    def quantile(self, u: float) -> float:
        """Value at cumulative probability u (always ``value``)."""
        return self.value

    @property
    def mean_value(self) -> float:
        """The distribution's mean."""
        return self.value


class Uniform(_Dist):
    """Uniform between low and high."""

    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be at least low ({self.low})")
        return self

    def quantile(self, u: float) -> float:
        """Value at cumulative probability u in [0, 1)."""
        return self.low + u * (self.high - self.low)

    @property
    def mean_value(self) -> float:
        """The distribution's mean."""
        return (self.low + self.high) / 2


def _number_to_fixed(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"dist": "fixed", "value": value}
    return value


Distribution = Annotated[
    Exponential | LogNormal | Fixed | Uniform,
    Field(discriminator="dist"),
]


def as_distribution_input(value: object) -> object:
    """Accept a bare number as a fixed distribution (used as a pydantic before-validator)."""
    return _number_to_fixed(value)


#: A distribution field in a scenario: a number (fixed), or a mapping with ``dist``.
Dist = Annotated[Distribution, BeforeValidator(as_distribution_input)]
