"""Garbage collection in a process that holds a model.

A loaded Rasa model is millions of long-lived Python objects. Every full collection walks
them all, and on this hardware that stops the process for about a quarter of a second:
every webhook in flight waits that long for its acknowledgement. Freezing the heap moves
what exists into a generation the collector never walks; objects made later are
collected as usual.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


class HeapFreezer:
    """Freeze the heap once the model is loaded, and again after its first few turns.

    The first turns build what the model keeps for the rest of its life (TensorFlow traces
    its functions on first use); freezing after them keeps those out of full collections
    too. Garbage frozen along with them is a one-time cost of a few megabytes at most.
    """

    def __init__(self, after_turns: int = 3) -> None:
        self._turns_left = after_turns

    def loaded(self) -> None:
        """The model is in memory: collect what loading left behind, then freeze the rest."""
        gc.collect()
        gc.freeze()
        log.info("heap frozen after loading: %d objects", gc.get_freeze_count())

    def turn_done(self) -> None:
        if self._turns_left <= 0:
            return
        self._turns_left -= 1
        gc.freeze()
