"""A Toxiproxy 2.x-compatible TCP proxy server: proxies managed over HTTP, with toxics on their connections.

Layout: toxics (what each toxic does, pure) → toxic (the API's toxic record) → chain (a link's toxics)
→ pipes (a connection's two directions) → proxy (a listener) → registry (the proxies by name) →
api (the HTTP routes) over http (the HTTP/1.1 server) → server (all of it on a loop) → main (the command).
"""
