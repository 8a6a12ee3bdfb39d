import os

from hypothesis import HealthCheck, settings

# Timing on a shared 2-core machine says nothing about correctness: no deadlines.
settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("default"), print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") == "true" else "default")
