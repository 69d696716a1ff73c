"""An infinite loop in the first check: the exercise hits its wall-clock limit."""


def add(a, b):
    while True:
        pass


def relu(t):
    while True:
        pass
