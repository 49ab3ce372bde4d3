"""Instrumentation: tracked links, the open pixel, byte-faithful MIME."""

from inkling.instrument.message import Instrumented, instrument_message

__all__ = ["Instrumented", "instrument_message"]
