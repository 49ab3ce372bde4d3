"""The tracker's URL paths: written into mail by ``instrument``, answered by ``tracker``.

A leaf module, so that the code that writes a tracked link and the code that answers it
share one definition without depending on each other.
"""

PIXEL_PREFIX = "/t/o/"  # + open token + ".gif"
PIXEL_SUFFIX = ".gif"
CLICK_PREFIX = "/t/c/"  # + click token
HONEYPOT_PREFIX = "/t/h/"  # + open token: the hidden link no person can reach
NOTICE_PREFIX = "/p/"  # + open token: the customer-facing notice and opt-out (no hit recorded)
