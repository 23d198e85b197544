"""A local stand-in for the seven platforms' APIs, serving sample accounts in their wire formats.

``start_sandbox(posts)`` starts it on 127.0.0.1; ``demo_secrets()`` gives the Secrets Manager
entries of the demo accounts (``infra/samples/accounts.yaml``); ``synthetic_posts(n)`` makes
any number of realistic items for load tests.
"""

from infra.sandbox.server import Fault, Sandbox, start_sandbox
from infra.sandbox.synthetic import synthetic_posts
from infra.sandbox.tokens import DEMO_TOKENS, demo_secrets

__all__ = ["DEMO_TOKENS", "Fault", "Sandbox", "demo_secrets", "start_sandbox", "synthetic_posts"]
