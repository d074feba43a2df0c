"""Tickets (工单): what an alert (or a person) opens for an owner to act on within a deadline.

Status flow: open → in_progress → resolved → closed; a resolved or closed ticket can be reopened. An
overdue ticket escalates one level up the organisation (``next_level``) and the new owner is notified
(``notify``). See ``TicketService``.
"""

from voc.tickets.escalation import ChainNextLevel, load_chain
from voc.tickets.model import (
    InvalidTransition,
    Ticket,
    TicketConfigError,
    TicketError,
    TicketNotFound,
    TicketStatus,
)
from voc.tickets.service import TicketService

__all__ = ["ChainNextLevel", "InvalidTransition", "Ticket", "TicketConfigError", "TicketError", "TicketNotFound",
           "TicketService", "TicketStatus", "load_chain"]
