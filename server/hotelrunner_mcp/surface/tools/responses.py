"""respond_to_reservation: confirm a booking that awaits the property, or cancel it with a documented reason.

Preview → plan id → apply, like update_calendar. Where the client can ask the person directly (form
elicitation), the apply asks them: a yes/no with the booking in plain words; a no sends nothing.

No `from __future__ import annotations` here: the SDK reads the resolver's and the tool's annotations at
registration, and the resolver is a closure over the runtime.
"""

from typing import Annotated

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, ElicitationResult
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve
from pydantic import BaseModel, Field

from hotelrunner_mcp.reservations.responses import (
    PLAN_KIND,
    Action,
    Approval,
    CancelReason,
    ResponseOutcome,
    ResponseService,
)
from hotelrunner_mcp.storage.offloop import off_loop
from hotelrunner_mcp.surface.tools.inputs import ReservationNumber
from hotelrunner_mcp.surface.tools.runtime import WRITES_UPSTREAM, Answer, ToolRuntime, tool_arguments
from hotelrunner_mcp.surface.untrusted import GUEST_TEXT_NOTICE


class PersonAnswer(BaseModel):
    """The form the person sees: the booking and the action in the message, one yes/no here."""

    send: bool = Field(title="Send it to HotelRunner now?", description="Yes sends it; no sends nothing.")


class NotAsked(BaseModel):
    """The person was not asked: a preview, a client without form elicitation, or a plan that will be refused."""


class ResponseAnswer(ResponseOutcome, Answer):
    """A preview, a declined question, or an applied answer, with the fields every answer carries."""

    guest_text: str = Field(default=GUEST_TEXT_NOTICE, description="How to treat text guests and channels wrote")


def _can_ask(ctx: Context) -> bool:
    """The client declared form elicitation (a bare `elicitation: {}` counts as form, as the SDK reads it)."""
    try:
        capabilities = ctx.client_capabilities
    except (AttributeError, ValueError, LookupError):
        return False
    elicitation = capabilities.elicitation if capabilities is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def register_writes(server: MCPServer, runtime: ToolRuntime) -> None:
    """Add respond_to_reservation (absent in read-only mode)."""

    async def ask_the_person(
        ctx: Context,
        reservation: str,
        action: str,
        cancel_reason: str | None,
        plan_id: str | None,
    ) -> Elicit[PersonAnswer] | NotAsked:
        """Ask only when the apply would go ahead; the question is the one written at preview time, so it
        reads the same on every round of a multi-round call."""
        if plan_id is None or not _can_ask(ctx) or action not in ("confirm", "cancel"):
            return NotAsked()
        try:
            service = ResponseService(await runtime.open_services())
            plan = await off_loop(service.usable_plan, plan_id, reservation, action, cancel_reason)  # type: ignore[arg-type]
        except Exception:  # anything wrong is refused, with its reason, by the tool body
            return NotAsked()
        summary = plan.summary if plan is not None else None
        if not summary or summary.get("kind") != PLAN_KIND or not summary.get("question"):
            return NotAsked()
        return Elicit(str(summary["question"]), PersonAnswer)

    @server.tool(title="Confirm or cancel a booking", annotations=WRITES_UPSTREAM)
    async def respond_to_reservation(
        ctx: Context,
        reservation: Annotated[
            ReservationNumber,
            Field(description="The booking: HotelRunner's number (e.g. R754208185) or the channel's own number."),
        ],
        action: Annotated[
            Action, Field(description="confirm: accept the booking; cancel: refuse it (needs cancel_reason).")
        ],
        approval: Annotated[ElicitationResult[PersonAnswer], Resolve(ask_the_person)],
        cancel_reason: Annotated[
            CancelReason | None,
            Field(
                description="Only with action=cancel, and then required: customer (the guest asked), no_room (nothing "
                "available), no_show (the guest did not come), invalid_price (booked at a wrong price)."
            ),
        ] = None,
        plan_id: Annotated[
            str | None,
            Field(
                max_length=64,
                description="Omit to preview (nothing is sent). To apply, the plan_id the preview returned, with the "
                "same reservation, action and cancel_reason.",
            ),
        ] = None,
    ) -> ResponseAnswer:
        """Answer a booking that awaits the property (state reserved): confirm it, or cancel it with one of
        HotelRunner's reasons. get_reservations with awaiting_response=true lists them.

        Two steps: call WITHOUT plan_id to preview — nothing is sent; the answer shows the booking in plain
        words, what cannot be undone, and a plan_id. Show it to the user and get an explicit yes; then call
        again with the same arguments and that plan_id (clients that can ask the person do so then; a no
        sends nothing). A plan id works once, for that booking, action and version of the booking, for a
        few minutes. Refused before anything is sent: a booking that does not await a response, a cancel
        without a reason, a used, expired or mismatched plan id. Never retried; if HotelRunner refuses, the
        answer gives the booking's current state.

        Cost: the preview 0 requests when the mirror is fresh (else the routine sync, usually 1; a booking
        the mirror lacks, 1 lookup); applying 1 request (plus 1 to read the state if HotelRunner refuses).
        """
        arguments = tool_arguments(locals())
        arguments["person"] = _said(approval)  # the audit keeps who said yes (or no)
        async with runtime.call(ctx, "respond_to_reservation", arguments) as services:
            service = ResponseService(services)
            if plan_id is None:
                outcome = await service.preview(reservation, action, cancel_reason)
            else:
                outcome = await service.apply(reservation, action, cancel_reason, plan_id, _approval(approval))
            return ResponseAnswer(**outcome.model_dump(), **await runtime.answer_fields(services))


def _said(outcome: ElicitationResult[PersonAnswer]) -> str:
    """What the person answered, for the audit line: not asked, yes, no, or closed the question."""
    if isinstance(outcome, AcceptedElicitation):
        data: object = outcome.data
        return ("yes" if data.send else "no") if isinstance(data, PersonAnswer) else "not asked"
    return "closed the question" if isinstance(outcome, CancelledElicitation) else "no"


def _approval(outcome: ElicitationResult[PersonAnswer]) -> Approval:
    if isinstance(outcome, AcceptedElicitation):
        data: object = outcome.data
        if isinstance(data, PersonAnswer):
            return Approval(by_person=True, accepted=data.send)
        return Approval.plan_id_only()
    if isinstance(outcome, CancelledElicitation):
        return Approval(by_person=True, accepted=False, dismissed=True)
    return Approval(by_person=True, accepted=False)  # declined
