"""Real hardware: the RealMan arm (official SDK), a Modbus hand, RealSense cameras, `RealRobot`.

Vendor libraries (Robotic_Arm, pymodbus, pyrealsense2) are imported lazily by the driver that
needs them, so configs can be read and checked on a machine without them.
"""
