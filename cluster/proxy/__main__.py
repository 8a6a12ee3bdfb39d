"""`python -m cluster.proxy`: the proxy server without loading the whole `logquake` command."""

from cluster.proxy.main import proxy_command

proxy_command(prog_name="python -m cluster.proxy")
