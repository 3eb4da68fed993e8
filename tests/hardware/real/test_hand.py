"""`ModbusHand` against a real pymodbus server simulating an Inspire RH56 (TCP on 127.0.0.1, RTU on ptys)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from modbus_hand_sim import HandState, free_port, pty_pair, rtu_hand, tcp_hand

from dexagent.hardware.errors import DeviceTimeoutError, DeviceUnreachableError, HandFaultError
from dexagent.hardware.real.config import HandConfig, RegisterMap
from dexagent.hardware.real.hand import ModbusHand, describe_error_bits


def _tcp(port: int, **options: object) -> HandConfig:
    return HandConfig.model_validate({"transport": "tcp", "host": "127.0.0.1", "port": port, **options})


def test_commands_map_our_order_and_scale_to_the_inspire_registers() -> None:
    state = HandState()
    with tcp_hand(state) as (port, _):
        hand = ModbusHand.connect(_tcp(port, speed=0.5, force=0.3))
        try:
            regs = state.registers
            assert state.writes == []  # connecting only reads: `doctor` connects too
            hand.configure()
            assert (regs.speed_set, [500] * 6) in state.writes and (regs.force_set, [300] * 6) in state.writes
            # ours: thumb_rotation, thumb_flexion, index, middle, ring, little; 1 = open
            hand.command(np.array([0.0, 0.1, 0.2, 0.3, 0.4, 1.0]))
            # Inspire's block: little, ring, middle, index, thumb flexion, thumb rotation; 1000 = open
            assert state.angles == [1000, 400, 300, 200, 100, 0]
            assert np.allclose(hand.read_angles(), [0.0, 0.1, 0.2, 0.3, 0.4, 1.0])
            assert hand.read_status() == [2] * 6
            hand.command(np.array([1.7, -0.2, 0.5, 0.5, 0.5, 0.5]))  # out of range: clipped, never sent raw
            assert state.angles[5] == 1000 and state.angles[4] == 0
            with pytest.raises(ValueError, match="6 finite values"):
                hand.command(np.array([np.nan] * 6))
        finally:
            hand.close()


def test_error_bits_name_the_finger_and_the_fault_and_can_be_cleared() -> None:
    state = HandState()
    with tcp_hand(state) as (port, _):
        hand = ModbusHand.connect(_tcp(port))
        try:
            hand.check()
            state.errors[0] = 0b0101  # little finger: stalled + over-current
            state.errors[5] = 0b1000  # thumb rotation: motor fault
            assert hand.read_errors() == {
                "thumb_rotation": ["motor fault"],
                "little": ["stalled (locked rotor)", "over-current"],
            }
            with pytest.raises(
                HandFaultError, match="hand: error bits set: thumb_rotation: motor fault; little"
            ):
                hand.check()
            hand.clear_errors()
            assert state.clears == 1 and hand.read_errors() == {}
        finally:
            hand.close()
    assert describe_error_bits(0x41) == ["stalled (locked rotor)", "unknown bits 0x40"]


def test_a_hand_that_stops_answering_times_out_quickly_and_one_that_is_gone_is_named() -> None:
    state = HandState()
    with tcp_hand(state) as (port, server):
        hand = ModbusHand.connect(_tcp(port, timeout_s=0.2, retries=0))
        try:
            state.silent = True
            started = time.monotonic()
            with pytest.raises(DeviceTimeoutError, match="no answer to ANGLE_SET within 0.2 s"):
                hand.command(np.ones(6))
            assert time.monotonic() - started < 2.0
            state.silent = False
            # the late answer to ANGLE_SET must not be taken for the answer to the next request
            assert np.allclose(hand.read_angles(), 1.0)
            assert np.allclose(hand.read_angles(), 1.0)
            server.stop()  # the hand's gateway goes away
            with pytest.raises(DeviceTimeoutError):
                hand.read_angles()
        finally:
            hand.close()


def test_connect_fails_clearly_when_nothing_listens_or_nothing_answers() -> None:
    with pytest.raises(DeviceUnreachableError, match=r"cannot open the Modbus tcp link to 127.0.0.1:\d+"):
        ModbusHand.connect(_tcp(free_port(), timeout_s=0.2, retries=0))
    state = HandState(silent=True)
    with tcp_hand(state) as (port, _), pytest.raises(DeviceTimeoutError, match="ANGLE_ACT"):
        ModbusHand.connect(_tcp(port, timeout_s=0.2, retries=0))


def test_a_custom_register_map_moves_every_block() -> None:
    registers = RegisterMap(
        angle_set=1100, force_set=1110, speed_set=1120, angle_act=1130,
        error=1150, status=1160, clear_error=1170, slots=(0, 1, 2, 3, 4, 5), open_is_high=False,
    )  # fmt: skip
    state = HandState(registers=registers, angles=[0] * 6)  # 0 = open on this hand
    with tcp_hand(state) as (port, _):
        hand = ModbusHand.connect(_tcp(port, registers=registers))
        try:
            hand.command(np.array([1.0, 0.0, 0.5, 1.0, 1.0, 1.0]))
            assert state.angles == [0, 1000, 500, 0, 0, 0]
            assert np.allclose(hand.read_angles(), [1.0, 0.0, 0.5, 1.0, 1.0, 1.0])
        finally:
            hand.close()


def test_modbus_rtu_over_a_serial_line() -> None:
    state = HandState()
    with pty_pair() as (hand_side, our_side), rtu_hand(state, hand_side, 115200):
        config = HandConfig(transport="rtu", serial_port=our_side, baudrate=115200, timeout_s=0.5)
        hand = ModbusHand.connect(config)
        try:
            hand.command(np.array([0.25, 0.5, 0.75, 1.0, 0.0, 0.5]))
            assert state.angles == [500, 0, 1000, 750, 500, 250]
            assert np.allclose(hand.read_angles(), [0.25, 0.5, 0.75, 1.0, 0.0, 0.5])
            state.errors[2] = 0b10
            with pytest.raises(HandFaultError, match="middle: over-temperature"):
                hand.check()
        finally:
            hand.close()


def test_a_timeout_message_says_the_whole_wait_with_its_retries() -> None:
    state = HandState()
    with tcp_hand(state) as (port, _):
        hand = ModbusHand.connect(_tcp(port, timeout_s=0.2, retries=2))
        try:
            state.silent = True
            # pymodbus waits 0.2 s per try: the message said "within 0.2 s" after 0.6 s
            waited = r"no answer to ANGLE_ACT within 0.6 s \(3 tries of 0.2 s\)"
            with pytest.raises(DeviceTimeoutError, match=waited):
                hand.read_angles()
        finally:
            state.silent = False
            hand.close()


_SILENT_READ = """
import sys
from dexagent.hardware.errors import DeviceTimeoutError
from dexagent.hardware.real.config import HandConfig
from dexagent.hardware.real.hand import ModbusHand
hand = ModbusHand.connect(HandConfig(host="127.0.0.1", port=int(sys.argv[1]), timeout_s=0.2, retries=0))
open(sys.argv[2]).read()  # the test makes the hand silent, then lets us go on
try:
    hand.read_angles()
except DeviceTimeoutError as error:
    print(error)
"""


def test_pymodbus_log_lines_do_not_reach_stderr(tmp_path: Path) -> None:
    # In a process of its own: pytest's log capture would hide what a user's terminal shows.
    state = HandState()
    go = tmp_path / "go"
    os.mkfifo(go)
    with tcp_hand(state) as (port, _):
        process = subprocess.Popen(
            [sys.executable, "-c", _SILENT_READ, str(port), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.2)
        try:
            with go.open("w") as fifo:
                state.silent = True
                fifo.write("go")
            out, err = process.communicate(timeout=30)
        finally:
            state.silent = False
            process.kill()
    assert "no answer to ANGLE_ACT" in out
    assert err == "", err  # was: pymodbus's own lines ("No response received ...") on stderr
