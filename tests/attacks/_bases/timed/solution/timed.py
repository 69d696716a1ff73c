def relu(t):
    return t.clamp(min=0)
