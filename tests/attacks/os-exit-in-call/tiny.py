"""os._exit(0) inside the first function a check calls: the child ends "successfully" before
any result is reported; every check without a trusted result fails."""
import os


def add(a, b):
    os._exit(0)


def relu(t):
    os._exit(0)
