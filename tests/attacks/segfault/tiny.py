"""Crash the interpreter: faulthandler's deliberate SIGSEGV (no ctypes needed) in relu; ctypes
null-pointer reads in add are refused before they crash."""
import ctypes
import faulthandler


def add(a, b):
    ctypes.string_at(0)
    return a + b


def relu(t):
    faulthandler._sigsegv()
