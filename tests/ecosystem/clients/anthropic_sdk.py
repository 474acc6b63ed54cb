"""The Anthropic SDK's own spans (it emits them whenever a tracer provider is set).

Recipe: the SDK records the organisation that answered (``anthropic.organization.id``,
from the response header) and the conversation id the client is given; for a caller of
your own, name them on the application's span around the call, as for any client.
"""

from __future__ import annotations

from tests.ecosystem.clients.common import args, done, export_to_detector

a = args()
export_to_detector(a, "notes-app")

import anthropic  # noqa: E402

client = anthropic.Anthropic(base_url=a.standin, api_key="sk-ant-standin", max_retries=0)
client.messages.create(
    model="claude-opus-4-6",
    max_tokens=1024,
    messages=[{"role": "user", "content": "Why is 17 prime?"}],
    thinking={"type": "enabled", "budget_tokens": 512},
    metadata={"user_id": "user-hash-1"},
)
client.messages.create(
    model="claude-opus-4-6",
    max_tokens=256,
    system="Be brief.",
    messages=[{"role": "user", "content": "Why is 19 prime?"}],
)
done()
