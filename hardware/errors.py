"""Exceptions raised by robots, their drivers and the safety layer."""


class HardwareError(RuntimeError):
    """A robot (real or simulated) could not do what was asked."""


class RobotConfigError(HardwareError):
    """A robot config names an unknown type or has an invalid field."""


class UnsafeActionError(HardwareError):
    """An action was rejected by the safety layer (NaN/inf or wrong shape); the robot held position."""


class DriverError(HardwareError):
    """A real device failed; `device` names it ("arm", "hand", "head camera", ...)."""

    def __init__(self, device: str, message: str) -> None:
        super().__init__(f"{device}: {message}")
        self.device = device


class DeviceUnreachableError(DriverError):
    """A device could not be connected to (wrong address, cable, power, missing library)."""


class DeviceTimeoutError(DriverError):
    """A device stopped answering within its timeout (a camera gone, a hand silent)."""


class DeviceFaultError(DriverError):
    """A device answered with an error (an error code, error bits); the message says which."""


class EmergencyStopError(HardwareError):
    """The emergency stop is engaged: the robot holds and refuses motion until it is released."""


class FaultStopError(HardwareError):
    """A device reports a fault the operator must look at (e.g. a hand's over-current bit): the arm
    stopped, the robot refuses every motion command until it is reconnected, and a run ends (exit 3).
    Not a `DriverError`: a skill must not retry through it."""

    def __init__(self, device: str, message: str) -> None:
        super().__init__(f"{device}: {message}")
        self.device = device


class HandFaultError(FaultStopError):
    """The hand's error registers have bits set; `errors` maps each finger to what its bits mean."""

    def __init__(self, errors: dict[str, list[str]], clear_hint: str) -> None:
        listed = "; ".join(f"{finger}: {', '.join(bits)}" for finger, bits in errors.items())
        super().__init__("hand", f"error bits set: {listed} ({clear_hint})")
        self.errors = errors
