"""The development provider: the code goes to the server log instead of a phone.

Refused with LEADCAP_ENV=production (by the settings and again by `leadcap.verification.sms.make`). The
phone is masked as everywhere else in the logs; the code itself is the point of this provider.
"""

from __future__ import annotations

import logging

from leadcap.logs import mask_phone

log = logging.getLogger("leadcap.verification.sms")


class LogProvider:
    name = "log"

    async def send(self, phone: str, code: str) -> None:
        log.warning(
            "verification code for %s: %s (LEADCAP_SMS_PROVIDER=log, development only)",
            mask_phone(phone),
            code,
        )
