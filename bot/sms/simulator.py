"""The local SMS simulator: the embedded gateway when no Twilio account is configured."""

from __future__ import annotations

import secrets

from bot.sms.gateway import OutgoingSms, SendResult
from bot.sms.gsm import segments

# The account the simulator's signed webhooks claim to come from.
SIMULATOR_ACCOUNT_SID = "AC" + "0" * 32


class SimulatorGateway:
    """Delivers to the database: the outbound message row is what the simulated phone shows."""

    async def send(self, sms: OutgoingSms) -> SendResult:
        return SendResult(
            sid="SM" + secrets.token_hex(16), status="delivered", segments=segments(sms.body)
        )

    async def close(self) -> None:
        return None
