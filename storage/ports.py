"""Storage ports: every consumer's port, and the aggregates the engine and the bot use.

Each consumer's port lives in its own module (ports_core, ports_complaints, ports_quizzes,
ports_barometer, ports_campaigns, ports_stats, ports_inbox, ports_window, ports_open311,
ports_audio), small enough to implement twice; this module re-exports them all, so
`from storage.ports import ...` keeps working.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from storage.errors import DuplicateInbound as DuplicateInbound
from storage.errors import StaleRecord as StaleRecord
from storage.ports_audio import AudioTransaction as AudioTransaction
from storage.ports_audio import AudioUploads as AudioUploads
from storage.ports_barometer import BarometerStore as BarometerStore
from storage.ports_barometer import BarometerTransaction as BarometerTransaction
from storage.ports_campaigns import CampaignStore as CampaignStore
from storage.ports_complaints import ComplaintStore as ComplaintStore
from storage.ports_complaints import ComplaintTransaction as ComplaintTransaction
from storage.ports_complaints import CsoInboxTransaction as CsoInboxTransaction
from storage.ports_complaints import LinkCodeTransaction as LinkCodeTransaction
from storage.ports_core import CoreTransaction as CoreTransaction
from storage.ports_core import DeliveryStore as DeliveryStore
from storage.ports_core import Session as Session
from storage.ports_core import TokenStore as TokenStore
from storage.ports_core import UncertainOutbox as UncertainOutbox
from storage.ports_deploy import DeploymentStore as DeploymentStore
from storage.ports_inbox import InboxStore as InboxStore
from storage.ports_inbox import InboxTransaction as InboxTransaction
from storage.ports_open311 import PublicRequests as PublicRequests
from storage.ports_ops import OpsStore as OpsStore
from storage.ports_quizzes import QuizStore as QuizStore
from storage.ports_quizzes import QuizTransaction as QuizTransaction
from storage.ports_stats import StatsStore as StatsStore
from storage.ports_window import WindowStore as WindowStore


class Transaction(
    CoreTransaction,
    ComplaintTransaction,
    CsoInboxTransaction,
    LinkCodeTransaction,
    QuizTransaction,
    BarometerTransaction,
    AudioTransaction,
    InboxTransaction,
    Protocol,
):
    """One unit of work: its writes are committed together, or not at all.

    Reads see committed data, not the writes queued earlier in the same unit of work: a flow
    keeps what it just wrote in memory.
    """


class Store(
    DeliveryStore,
    ComplaintStore,
    QuizStore,
    BarometerStore,
    StatsStore,
    CampaignStore,
    TokenStore,
    UncertainOutbox,
    InboxStore,
    WindowStore,
    PublicRequests,
    AudioUploads,
    OpsStore,
    DeploymentStore,
    Protocol,
):
    """A database behind the ports: what the engine, its clocks, the worker and channels use."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a unit of work, committed when the block ends without an error."""
        ...

    async def migrate(self) -> list[int]:
        """Apply the migrations not yet applied; return the versions applied now."""
        ...
