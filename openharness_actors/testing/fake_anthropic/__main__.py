"""``python -m openharness_actors.testing.fake_anthropic``: serve the fake Messages API."""

from ._server import main

main()
