"""The messages of an order in the scale data: each outgoing email or SMS with its delivery events,
and the timeline entries they leave."""

from __future__ import annotations

import random

from .seed_pools import BOUNCE_REASONS, KIND_LABEL, TYPO_BOUNCE, is_typo
from .seed_tables import ANCHOR, DAY, N, jdata, ts


class Messages:
    def __init__(self, rng: random.Random, org_id: int):
        self.rng = rng
        self.org_id = org_id

    def message_id(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def resend(self, c, out, order_id, to, at, actor, timeline) -> tuple[str, int]:
        timeline(at, "tickets.resent", jdata(recipient=to), actor=actor, kind="user")
        outcome = "sent" if at > ANCHOR - 600 else "delivered"
        return self.message(c, out, order_id, "tickets_resend", "email", to, outcome, at, timeline, created_by=actor)

    def message(
        self, c, out, order_id, kind, channel, recipient, outcome, at, timeline=None, created_by=None
    ) -> tuple[str, int]:
        """One outgoing message with its delivery events; returns (final status, time of the last change)."""
        rng, org = self.rng, self.org_id
        mid = c.next("notifications_outgoingmessage")
        provider = "postmark" if channel == "email" else "sms-gateway"
        pmid = self.message_id()
        sent = at + rng.randint(2, 25)
        status_at = sent
        reason = ""
        opened = clicked = N
        events: list[tuple[str, int, str]] = []
        label = KIND_LABEL[kind]
        # The timeline keeps "sent" only where nothing was heard after it; delivered/bounced say the rest.
        if timeline and outcome in ("sent", "failed"):
            timeline(sent, "email.sent", jdata(kind=label, recipient=recipient))
        if outcome == "failed":
            reason = "Provider refused the message: invalid From address"
            status_at = sent
            pmid = ""
            if timeline:
                timeline(sent, "email.failed", jdata(kind=label, recipient=recipient, reason=reason))
        elif outcome != "sent":
            t = sent + rng.randint(1, 90)
            if outcome == "bounced":
                if rng.random() < 0.3:
                    events.append(("deferred", t, "421 4.7.0 Try again later"))
                    t += rng.randint(600, 7200)
                domain = recipient.split("@")[-1]
                reason = (
                    TYPO_BOUNCE.format(d=domain)
                    if is_typo(recipient)
                    else rng.choice(BOUNCE_REASONS).format(r=recipient)
                )
                events.append(("bounced", t, reason))
            elif outcome == "deferred":
                reason = "421 4.7.0 Greylisted, try again later"
                events.append(("deferred", t, reason))
            elif outcome == "rejected":
                reason = "Recipient is on the suppression list (previous hard bounce)"
                events.append(("rejected", t, reason))
            else:
                events.append(("delivered", t, ""))
                if outcome == "complained":
                    t += rng.randint(3600, 5 * DAY)
                    reason = "Recipient marked the message as spam"
                    events.append(("complained", t, ""))
                elif channel == "email" and rng.random() < 0.45:
                    o = t + rng.randint(60, 2 * DAY)
                    opened = ts(o)
                    events.append(("opened", o, ""))
                    if rng.random() < 0.35:
                        cl = o + rng.randint(5, 600)
                        clicked = ts(cl)
                        events.append(("clicked", cl, ""))
            status_at = max(e[1] for e in events if e[0] not in ("opened", "clicked"))
            if timeline:
                for etype, et, ereason in events:
                    if etype in ("opened", "clicked"):
                        continue
                    timeline(
                        et,
                        f"email.{etype}",
                        jdata(kind=label, recipient=recipient, reason=ereason),
                        kind="webhook",
                    )
        actor = N if created_by is None else created_by
        out["notifications_outgoingmessage"].append(
            f"{mid}\t{org}\t{order_id}\t{kind}\t{channel}\t{recipient}\t{outcome}\t{reason}\t{provider}\t{pmid}\t1"
            f"\t{actor}\t{ts(at)}\t{ts(sent)}\t{ts(status_at)}\t{opened}\t{clicked}\t{ts(at)}"
        )
        if channel == "email":
            de = out["notifications_deliveryevent"]
            for n, (etype, et, ereason) in enumerate(events):
                eid = c.next("notifications_deliveryevent")
                raw = f'{{"RecordType": "{etype}", "MessageID": "{pmid}"}}'
                de.append(
                    f"{eid}\t{org}\t{mid}\t{etype}\t{ts(et)}\t{ereason}\tpostmark\tpostmark:{pmid}:{etype}:{n}\t{raw}\t{ts(et + 1)}"
                )
        return outcome, status_at
