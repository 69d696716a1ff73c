def relu(t):
    # TODO
    raise NotImplementedError
