"""The HTTP stack around the routes, one pure-ASGI module per concern.

`main.py` lists them outermost first; each wraps `send` to add headers or answers early with
a problem document, so no layer buffers a response and only `limits` reads the body.
"""
