"""Exceptions raised by robots and the safety layer."""


class HardwareError(RuntimeError):
    """A robot (real or simulated) could not do what was asked."""


class UnsafeActionError(HardwareError):
    """An action was rejected by the safety layer (NaN/inf or wrong shape); the robot held position."""
