"""Phone verification (LEADCAP_VERIFY=sms): a one-time code by SMS, bound to the browser it was
sent to, checked against an HMAC kept in Redis.

`verifier` (`Verifier`) sends, resends and checks codes and marks leads verified; `codes` makes
and reads codes and tokens (pure); `sms/` holds the providers, one module each, behind one shape.
"""
