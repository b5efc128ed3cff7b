# The `sandbox` and `sandbox_server` fixtures live in the repository's root conftest.py.
from campaignid.sandbox.testing import control  # noqa: F401 - re-exported for the sandbox tests
