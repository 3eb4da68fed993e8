"""`ModbusHand`: a dexterous hand on Modbus (TCP or RTU serial) with a configurable register map.

The default map is the Inspire RH56 family: holding registers in blocks of six, values
0-1000 with 1000 = open. Our hand command is six values in [0, 1] (1 = open) in our joint
order (thumb_rotation, thumb_flexion, index, middle, ring, little); `RegisterMap.slots` maps
the order and `full_scale` / `open_is_high` the scale. Every request has a timeout: a silent
hand raises `DeviceTimeoutError`, error bits raise `HandFaultError`, never a hang.
Connecting only reads; `configure()` writes the speed and force limits, once the caller has
confirmed everything else is ready.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from dexagent.hardware.errors import (
    DeviceFaultError,
    DeviceTimeoutError,
    DeviceUnreachableError,
    HandFaultError,
)
from dexagent.hardware.real.config import HAND_JOINT_NAMES, HandConfig
from dexagent.hardware.types import HAND_DOF

DEVICE = "hand"
CLEAR_HINT = "look at the hand, then clear them: dexagent doctor --robot-config FILE --clear-hand-errors"
# pymodbus logs its own view of every timeout to stderr; our exceptions already say it, once.
logging.getLogger("pymodbus").addHandler(logging.NullHandler())
logging.getLogger("pymodbus").propagate = False
# Inspire RH56 ERROR register bits, per finger.
ERROR_BITS = {
    0: "stalled (locked rotor)",
    1: "over-temperature",
    2: "over-current",
    3: "motor fault",
    4: "communication fault",
}


def describe_error_bits(value: int) -> list[str]:
    """The meanings of the set bits of one finger's ERROR register."""
    names = [name for bit, name in ERROR_BITS.items() if value & (1 << bit)]
    unknown = value & ~sum(1 << bit for bit in ERROR_BITS)
    return names + ([f"unknown bits 0x{unknown:x}"] if unknown else [])


class ModbusHand:
    """A connected Modbus hand; use `ModbusHand.connect(config)`, then `command` / `read_angles`."""

    def __init__(self, config: HandConfig, client: Any) -> None:
        self.config = config
        self.registers = config.registers
        self._client = client
        self._slots = np.array(self.registers.slots)
        self._stale = False  # a request timed out: reconnect before the next one

    @classmethod
    def connect(cls, config: HandConfig) -> ModbusHand:
        """Open the port and check the hand answers; nothing is written (see `configure`)."""
        try:
            from pymodbus.client import ModbusSerialClient, ModbusTcpClient
        except ImportError as error:
            raise DeviceUnreachableError(
                DEVICE, f"pymodbus is not installed ({error}); pip install pymodbus"
            ) from None
        where: str
        client: Any
        if config.transport == "tcp":
            where = f"{config.host}:{config.port}"
            client = ModbusTcpClient(
                config.host, port=config.port, timeout=config.timeout_s, retries=config.retries
            )
        else:
            where = f"{config.serial_port} at {config.baudrate} baud"
            client = ModbusSerialClient(
                config.serial_port,
                baudrate=config.baudrate,
                timeout=config.timeout_s,
                retries=config.retries,
            )
        if not client.connect():
            client.close()
            raise DeviceUnreachableError(DEVICE, f"cannot open the Modbus {config.transport} link to {where}")
        hand = cls(config, client)
        try:
            hand.read_angles()  # a port can open with nothing behind it: ask the hand itself
        except BaseException:  # whatever went wrong, the link is not left open
            hand.close()
            raise
        return hand

    def configure(self) -> None:
        """Write the configured speed and force limits (the first write a robot sends the hand)."""
        self.set_speed_and_force(self.config.speed, self.config.force)

    # --- conversions ----------------------------------------------------------------------

    def to_registers(self, values: np.ndarray) -> list[int]:
        """Six register values (device order) from six hand values in [0, 1] (our order)."""
        values = np.asarray(values, dtype=np.float64)
        if values.shape != (HAND_DOF,) or not np.all(np.isfinite(values)):
            raise ValueError(f"a hand command is {HAND_DOF} finite values in [0, 1], got {values!r}")
        fraction = np.clip(values, 0.0, 1.0)
        if not self.registers.open_is_high:
            fraction = 1.0 - fraction
        device = np.zeros(HAND_DOF, dtype=np.int64)
        device[self._slots] = np.rint(fraction * self.registers.full_scale)
        return [int(v) for v in device]

    def from_registers(self, registers: list[int]) -> np.ndarray:
        """float32[6] hand values in [0, 1] (our order) from six register values (device order)."""
        raw = np.array(registers, dtype=np.float64)
        raw = np.where(raw >= 0x8000, raw - 0x10000, raw)  # signed 16 bit (-1 means "no value")
        fraction = np.clip(raw[self._slots] / self.registers.full_scale, 0.0, 1.0)
        if not self.registers.open_is_high:
            fraction = 1.0 - fraction
        return fraction.astype(np.float32)

    # --- requests -------------------------------------------------------------------------

    def _call(self, what: str, request: Any, *args: Any, **kwargs: Any) -> Any:
        from pymodbus.exceptions import ModbusException

        if self._stale:
            # After a timeout the hand's late answer may still arrive and be taken for the answer
            # to the next request: start from a fresh connection instead.
            self._client.close()
            self._client.connect()
            self._stale = False
        try:
            response = request(*args, device_id=self.config.unit_id, **kwargs)
        except ModbusException:
            self._stale = True
            tries = self.config.retries + 1
            # pymodbus waits the timeout once per try: say the time that really passed
            waited = f"{self.config.timeout_s * tries:g} s"
            waited += f" ({tries} tries of {self.config.timeout_s:g} s)" if tries > 1 else ""
            raise DeviceTimeoutError(DEVICE, f"no answer to {what} within {waited}; is it powered?") from None
        except OSError as error:
            self._stale = True
            raise DeviceTimeoutError(DEVICE, f"the link broke during {what}: {error}") from None
        if response.isError():
            raise DeviceFaultError(DEVICE, f"the hand refused {what}: {response}")
        return response

    def _read(self, address: int, what: str) -> list[int]:
        response = self._call(what, self._client.read_holding_registers, address, count=HAND_DOF)
        registers = list(getattr(response, "registers", None) or [])
        if len(registers) != HAND_DOF:
            self._stale = True
            raise DeviceFaultError(
                DEVICE, f"{what}: expected {HAND_DOF} registers, the reply had {len(registers)}"
            )
        return registers

    def _write(self, address: int, values: list[int], what: str) -> None:
        self._call(what, self._client.write_registers, address, values)

    def command(self, values: np.ndarray) -> None:
        """Move the fingers to `values` float[6] in [0, 1] (1 = open), our order."""
        self._write(self.registers.angle_set, self.to_registers(values), "ANGLE_SET")

    def read_angles(self) -> np.ndarray:
        """The measured finger positions float32[6] in [0, 1] (1 = open), our order."""
        return self.from_registers(self._read(self.registers.angle_act, "ANGLE_ACT"))

    def read_status(self) -> list[int]:
        """The STATUS block, our order (Inspire: 0 releasing, 1 grasping, 2 reached, 3 force reached...)."""
        raw = self._read(self.registers.status, "STATUS")
        return [raw[slot] for slot in self.registers.slots]

    def read_errors(self) -> dict[str, list[str]]:
        """Fingers with error bits set -> what the bits mean (empty when the hand is healthy)."""
        raw = self._read(self.registers.error, "ERROR")
        errors: dict[str, list[str]] = {}
        for name, slot in zip(HAND_JOINT_NAMES, self.registers.slots, strict=True):
            if raw[slot]:
                errors[name] = describe_error_bits(raw[slot])
        return errors

    def check(self) -> None:
        """Raise `HandFaultError` naming every finger with an error bit set, and what the bits mean."""
        errors = self.read_errors()
        if errors:
            raise HandFaultError(errors, CLEAR_HINT)

    def clear_errors(self) -> None:
        """Ask the hand to clear its error bits."""
        self._write(self.registers.clear_error, [1], "CLEAR_ERROR")

    def set_speed_and_force(self, speed: float, force: float) -> None:
        """Finger speed and grip force limits as fractions of full scale (same for every finger)."""
        scale = self.registers.full_scale
        self._write(self.registers.speed_set, [round(speed * scale)] * HAND_DOF, "SPEED_SET")
        self._write(self.registers.force_set, [round(force * scale)] * HAND_DOF, "FORCE_SET")

    def close(self) -> None:
        self._client.close()
