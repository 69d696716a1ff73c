"""The forbidden op through importlib with a computed module name."""
import importlib


def add(a, b):
    return 0


def relu(t):
    module = importlib.import_module("torch.nn." + "functional")
    return module.__dict__["re" + "lu"](t)
