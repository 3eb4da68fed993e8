"""A simulated Inspire RH56 hand behind a real pymodbus server (TCP on 127.0.0.1, or RTU on a pty).

Only the hand's mechanics are simulated (fingers reach their targets at once, error bits
are set by the test, a silent hand never answers); the Modbus stack on both sides is pymodbus.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import tty
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from dexagent.hardware.real.config import RegisterMap

FIRST, LAST = 1000, 1700  # the register window the simulated hand answers for


@dataclass
class HandState:
    """What the simulated hand is doing; tests read and change it."""

    registers: RegisterMap = field(default_factory=RegisterMap)
    angles: list[int] = field(default_factory=lambda: [1000] * 6)  # device order, 1000 = open
    errors: list[int] = field(default_factory=lambda: [0] * 6)
    silent: bool = False  # a hand that stops answering (requests are read, never answered)
    writes: list[tuple[int, list[int]]] = field(default_factory=list)
    clears: int = 0


def _action(state: HandState):  # type: ignore[no-untyped-def]
    regs = state.registers

    async def action(function_code, start_address, address, count, current_registers, set_values):  # type: ignore[no-untyped-def]
        while state.silent:  # hold the request unanswered until the test lets the hand speak again
            await asyncio.sleep(0.02)
        if set_values is not None:
            state.writes.append((address, list(set_values)))
            if address == regs.angle_set:
                state.angles = [int(v) for v in set_values]
            if address == regs.clear_error:
                state.errors = [0] * 6
                state.clears += 1
        for i in range(6):  # the hand's mechanics: angles reached at once, the errors the test set
            current_registers[regs.angle_act - start_address + i] = state.angles[i]
            current_registers[regs.error - start_address + i] = state.errors[i]
            current_registers[regs.status - start_address + i] = 2 if not state.errors[i] else 5
        return None

    return action


def _device(state: HandState) -> SimDevice:
    block = SimData(FIRST, count=LAST - FIRST, values=0, datatype=DataType.REGISTERS)
    return SimDevice(1, simdata=[block], action=_action(state))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _ServerThread:
    """A pymodbus server on its own event loop in a daemon thread (pymodbus servers need a running loop)."""

    def __init__(self, make_server: Callable[[], ModbusTcpServer | ModbusSerialServer]) -> None:
        self.loop = asyncio.new_event_loop()
        self.server: ModbusTcpServer | ModbusSerialServer | None = None
        self._made = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(make_server,), daemon=True)
        self.thread.start()
        if not self._made.wait(5):
            raise RuntimeError("the simulated hand's server did not start")

    def _run(self, make_server: Callable[[], ModbusTcpServer | ModbusSerialServer]) -> None:
        asyncio.set_event_loop(self.loop)

        async def serve() -> None:
            self.server = make_server()
            self._made.set()
            await self.server.serve_forever()

        self.loop.run_until_complete(serve())

    def stop(self) -> None:
        assert self.server is not None
        asyncio.run_coroutine_threadsafe(self.server.shutdown(), self.loop).result(timeout=5)
        self.thread.join(timeout=5)


def _wait_listening(port: int) -> None:
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        threading.Event().wait(0.01)
    raise RuntimeError("the simulated hand never started listening")


@contextmanager
def tcp_hand(state: HandState) -> Iterator[tuple[int, _ServerThread]]:
    """A simulated hand on 127.0.0.1:<port>; yields the port and the server thread (stop() kills it)."""
    port = free_port()
    thread = _ServerThread(lambda: ModbusTcpServer(_device(state), address=("127.0.0.1", port)))
    try:
        _wait_listening(port)
        yield port, thread
    finally:
        state.silent = False
        if thread.thread.is_alive():
            thread.stop()


@contextmanager
def pty_pair() -> Iterator[tuple[str, str]]:
    """Two serial device paths joined like a null-modem cable (two ptys bridged by a thread)."""
    masters, paths = [], []
    for _ in range(2):
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        masters.append(master)
        paths.append(os.ttyname(slave))
    stop = threading.Event()

    def pump(source: int, target: int) -> None:
        import select

        while not stop.is_set():
            ready, _, _ = select.select([source], [], [], 0.05)
            if ready:
                try:
                    os.write(target, os.read(source, 1024))
                except OSError:
                    return

    threads = [
        threading.Thread(target=pump, args=(masters[0], masters[1]), daemon=True),
        threading.Thread(target=pump, args=(masters[1], masters[0]), daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        yield paths[0], paths[1]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=1)
        for master in masters:
            os.close(master)


@contextmanager
def rtu_hand(state: HandState, port_path: str, baudrate: int) -> Iterator[_ServerThread]:
    """A simulated hand speaking Modbus RTU on the serial device `port_path`."""
    thread = _ServerThread(lambda: ModbusSerialServer(_device(state), port=port_path, baudrate=baudrate))
    try:
        threading.Event().wait(0.3)  # the serial server opens its port asynchronously
        yield thread
    finally:
        state.silent = False
        if thread.thread.is_alive():
            thread.stop()
