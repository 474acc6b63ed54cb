"""OpenLLMetry: ``traceloop-sdk`` with its Anthropic and OpenAI instrumentations.

Recipe: ``Traceloop.set_association_properties({"user_id": ...})`` before the call;
every span after it carries ``traceloop.association.properties.user_id``.
"""

from __future__ import annotations

from tests.ecosystem.clients.common import args, done

a = args()

import anthropic  # noqa: E402
import openai  # noqa: E402
from traceloop.sdk import Traceloop  # noqa: E402
from traceloop.sdk.instruments import Instruments  # noqa: E402

Traceloop.init(
    app_name="support-bot",
    api_endpoint=a.detector,
    headers={"Authorization": f"Bearer {a.token}"},
    disable_batch=False,
    telemetry_enabled=False,
    instruments={Instruments.OPENAI, Instruments.ANTHROPIC},
)
claude = anthropic.Anthropic(base_url=a.standin, api_key="sk-ant-standin", max_retries=0)
gpt = openai.OpenAI(base_url=f"{a.standin}/v1", api_key="sk-standin", max_retries=0)

Traceloop.set_association_properties({"user_id": "acct-ll-1", "session_id": "s-1"})
claude.messages.create(
    model="claude-opus-4-6",
    max_tokens=256,
    messages=[{"role": "user", "content": "Why is 17 prime?"}],
)
Traceloop.set_association_properties({"user_id": "acct-ll-2"})
gpt.chat.completions.create(
    model="gpt-4o-mini",
    messages=[{"role": "user", "content": "Why is 19 prime?"}],
    user="acct-ll-2",
)
done()
