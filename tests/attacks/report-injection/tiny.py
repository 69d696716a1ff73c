"""Hostile text for the HTML report: <script>, </textarea>, template syntax, a huge message, a
function whose name is markup, printed markup; this file's own source too (shown to the
interviewer). </textarea><script>alert('source')</script> {{ 7 * 7 }} {% raw %}"""
import sys

PAYLOAD = ("<script>alert('msg')</script></textarea></pre><img src=x onerror=alert(1)>"
           "{{ 7 * 7 }}{% if true %}jinja{% endif %}${7*7}")


def add(a, b):
    print(PAYLOAD)
    print(PAYLOAD, file=sys.stderr)
    raise ValueError(PAYLOAD + "A" * 1_000_000)


def relu(t):
    raise RuntimeError(PAYLOAD)


relu.__qualname__ = "<script>alert('name')</script>"
relu.__name__ = relu.__qualname__
