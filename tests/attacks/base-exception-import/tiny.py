"""A BaseException subclass raised at import time, whose str() and repr() raise as well."""


class Boom(BaseException):
    def __str__(self):
        raise Boom()

    def __repr__(self):
        raise RuntimeError("no repr either")


raise Boom()


def add(a, b):
    return a + b


def relu(t):
    return t.clamp(min=0)
