"""Two threads deadlock on two locks and the function waits for both: a hang the wall clock
must end."""
import threading

a_lock, b_lock = threading.Lock(), threading.Lock()


def _one():
    with a_lock:
        threading.Event().wait(0.2)
        with b_lock:
            pass


def _two():
    with b_lock:
        threading.Event().wait(0.2)
        with a_lock:
            pass


def add(a, b):
    threads = [threading.Thread(target=_one), threading.Thread(target=_two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return a + b


def relu(t):
    return add(0, 0)
