"""The JSON that Postmark, Mailgun, Amazon SES (through SNS), SendGrid and Brevo post to tracking webhooks.

Shapes copied from each service's documentation examples; the builders fill in the
message's IDs and the portal's metadata the way the real services echo them back.
"""

import hashlib
import hmac
import json
import uuid

MAILGUN_SIGNING_KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"


def postmark_delivery(message_id: str, metadata: dict, recipient: str, at: str = "2026-07-01T10:00:05Z") -> dict:
    return {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": message_id,
        "Recipient": recipient,
        "Tag": "tickets",
        "DeliveredAt": at,
        "Details": "smtp;250 2.0.0 OK  1573043634 c15si12263637pgm.117 - gsmtp",
        "Metadata": metadata,
    }


# Postmark's bounce types (its bounce API's /bounces/types): TypeCode, Name, Description, and Details as a
# receiving server answers.
POSTMARK_BOUNCE_TYPES = {
    "HardBounce": (
        1,
        "Hard bounce",
        "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    ),
    "Transient": (
        2,
        "Message delayed / Transient",
        "The server could not temporarily deliver your message (ex: Message is delayed due to network troubles).",
        "smtp;450 4.2.1 The user you are trying to contact is receiving mail too quickly. Try again later.",
    ),
    "SoftBounce": (
        4096,
        "Soft bounce / Undeliverable",
        "Unable to temporarily deliver this email.",
        "smtp;552 5.2.2 The email account that you tried to reach is over quota.",
    ),
    "AutoResponder": (
        64,
        "Auto responder",
        'Automatic email responder (ex: "Out of Office" or "On Vacation").',
        "",
    ),
}


def postmark_bounce(
    message_id: str,
    metadata: dict,
    recipient: str,
    *,
    bounce_type: str = "HardBounce",
    event_id: int = 4323372036854775807,
    at: str = "2026-07-01T10:00:09Z",
) -> dict:
    type_code, name, description, details = POSTMARK_BOUNCE_TYPES[bounce_type]
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": event_id,
        "Type": bounce_type,
        "TypeCode": type_code,
        "Name": name,
        "Tag": "tickets",
        "MessageID": message_id,
        "Metadata": metadata,
        "ServerID": 23,
        "Description": description,
        "Details": details,
        "Email": recipient,
        "From": "tickets@portal.example",
        "BouncedAt": at,
        "DumpAvailable": True,
        "Inactive": bounce_type == "HardBounce",
        "CanActivate": True,
        "Subject": "Your tickets",
        "Content": "",
    }


def postmark_open(message_id: str, metadata: dict, recipient: str, at: str = "2026-07-01T11:00:00Z") -> dict:
    return {
        "RecordType": "Open",
        "MessageStream": "outbound",
        "FirstOpen": True,
        "Client": {"Name": "Chrome 35.0.1916.153", "Company": "Google", "Family": "Chrome"},
        "OS": {"Name": "OS X 10.7 Lion", "Company": "Apple Computer, Inc.", "Family": "OS X 10"},
        "Platform": "WebMail",
        "UserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_7_5) AppleWebKit/537.36 Chrome/35.0.1916.153",
        "ReadSeconds": 5,
        "Geo": {"CountryISOCode": "DE", "Country": "Germany", "City": "Hamburg"},
        "MessageID": message_id,
        "Metadata": metadata,
        "ReceivedAt": at,
        "Tag": "tickets",
        "Recipient": recipient,
    }


def postmark_spam_complaint(message_id: str, metadata: dict, recipient: str) -> dict:
    return {
        "RecordType": "SpamComplaint",
        "MessageStream": "outbound",
        "ID": 42,
        "Type": "SpamComplaint",
        "TypeCode": 100001,
        "Name": "Spam complaint",
        "Tag": "tickets",
        "MessageID": message_id,
        "Metadata": metadata,
        "ServerID": 1234,
        "Description": "The subscriber explicitly marked this message as spam.",
        "Details": "Test spam complaint details",
        "Email": recipient,
        "From": "tickets@portal.example",
        "BouncedAt": "2026-07-01T12:00:00Z",
        "DumpAvailable": True,
        "Inactive": True,
        "CanActivate": False,
        "Subject": "Your tickets",
        "Content": "",
    }


def mailgun_signature(token: str, timestamp: str = "1782900005", key: str = MAILGUN_SIGNING_KEY) -> dict:
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


def mailgun_event(
    event: str,
    message_id: str,
    user_variables: dict,
    recipient: str,
    *,
    severity: str | None = None,
    token: str | None = None,
    timestamp: float = 1782900005.908181,
    key: str = MAILGUN_SIGNING_KEY,
) -> dict:
    data: dict = {
        "event": event,
        "timestamp": timestamp,
        "id": uuid.uuid4().hex[:22],
        "log-level": "info" if event in ("delivered", "opened") else "warn",
        "envelope": {"transport": "smtp", "sender": "tickets@mg.portal.example", "targets": recipient},
        "flags": {"is-routed": False, "is-authenticated": True, "is-system-test": False, "is-test-mode": False},
        "message": {
            "headers": {
                "to": recipient,
                "message-id": message_id,
                "from": "Tickets <tickets@mg.portal.example>",
                "subject": "Your tickets",
            },
            "attachments": [],
            "size": 48211,
        },
        "recipient": recipient,
        "recipient-domain": recipient.split("@")[1],
        "tags": ["tickets"],
        "campaigns": [],
        "user-variables": user_variables,
    }
    if event == "delivered":
        data["delivery-status"] = {
            "tls": True,
            "mx-host": "smtp-in.example.com",
            "attempt-no": 1,
            "description": "",
            "session-seconds": 0.43,
            "code": 250,
            "message": "OK",
            "certificate-verified": True,
        }
    if event == "failed":
        data["severity"] = severity
        data["reason"] = "bounce" if severity == "permanent" else "generic"
        data["delivery-status"] = {
            "attempt-no": 1,
            "code": 550 if severity == "permanent" else 452,
            "message": "5.1.1 The email account that you tried to reach does not exist."
            if severity == "permanent"
            else "4.2.2 The email account that you tried to reach is over quota.",
            "description": "",
            "session-seconds": 0.2,
        }
    if event == "opened":
        data["ip"] = "50.56.129.169"
        data["client-info"] = {"client-type": "browser", "client-os": "Linux", "device-type": "desktop"}
        data["geolocation"] = {"country": "DE", "region": "HH", "city": "Hamburg"}
    return {"signature": mailgun_signature(token or uuid.uuid4().hex * 2, key=key), "event-data": data}


def _ses_mail(message_id: str, metadata: dict, recipient: str) -> dict:
    return {
        "timestamp": "2026-07-01T10:00:00.012Z",
        "source": "Tickets <tickets@portal.example>",
        "sourceArn": "arn:aws:ses:eu-west-1:123456789012:identity/portal.example",
        "sendingAccountId": "123456789012",
        "messageId": message_id,
        "destination": [recipient],
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": "Tickets <tickets@portal.example>"},
            {"name": "To", "value": recipient},
            {"name": "Subject", "value": "Your tickets"},
            {"name": "MIME-Version", "value": "1.0"},
            {"name": "X-Metadata", "value": json.dumps(metadata)},
            {"name": "X-Tag", "value": "tickets"},
        ],
        "commonHeaders": {"from": ["Tickets <tickets@portal.example>"], "to": [recipient], "subject": "Your tickets"},
        "tags": {"ses:configuration-set": ["portal"], "ses:source-ip": ["192.0.2.0"]},
    }


# bounceType → (bounceSubType, status, diagnosticCode) as SES reports them.
SES_BOUNCES = {
    "Permanent": ("General", "5.1.1", "smtp; 550 5.1.1 user unknown"),
    "Transient": ("MailboxFull", "5.2.2", "smtp; 552 5.2.2 Mailbox full"),
}


def ses_event(kind: str, message_id: str, metadata: dict, recipient: str, *, bounce_type: str = "Permanent") -> dict:
    event: dict = {"eventType": kind, "mail": _ses_mail(message_id, metadata, recipient)}
    if kind == "Bounce":
        sub_type, status, diagnostic = SES_BOUNCES[bounce_type]
        event["bounce"] = {
            "bounceType": bounce_type,
            "bounceSubType": sub_type,
            "bouncedRecipients": [
                {
                    "emailAddress": recipient,
                    "action": "failed",
                    "status": status,
                    "diagnosticCode": diagnostic,
                }
            ],
            "timestamp": "2026-07-01T10:00:09.669Z",
            "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
            "reportingMTA": "dsn; mta.example.com",
        }
    elif kind == "Delivery":
        event["delivery"] = {
            "timestamp": "2026-07-01T10:00:04.133Z",
            "processingTimeMillis": 11893,
            "recipients": [recipient],
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "mta.example.com",
        }
    elif kind == "DeliveryDelay":
        event["deliveryDelay"] = {
            "timestamp": "2026-07-01T10:00:40.641Z",
            "delayType": "TransientCommunicationFailure",
            "expirationTime": "2026-07-01T10:10:40.914Z",
            "delayedRecipients": [
                {
                    "emailAddress": recipient,
                    "status": "4.4.1",
                    "diagnosticCode": "smtp; 421 4.4.1 Unable to connect to remote host",
                }
            ],
        }
    elif kind == "Open":
        event["open"] = {
            "ipAddress": "192.0.2.1",
            "timestamp": "2026-07-01T11:00:19.652Z",
            "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15",
        }
    elif kind == "Complaint":
        event["complaint"] = {
            "complainedRecipients": [{"emailAddress": recipient}],
            "timestamp": "2026-07-01T12:00:02.669Z",
            "feedbackId": "01000157c44f053b-61b59c11-9236-11e6-8f96-7be8aexample-000000",
            "userAgent": "Mozilla/5.0",
            "complaintFeedbackType": "abuse",
            "arrivalDate": "2026-07-01T12:00:02.669Z",
        }
    return event


def sns_notification(ses: dict, sns_message_id: str | None = None) -> dict:
    """The SNS envelope SES publishes through (raw message delivery off, as anymail expects)."""
    return {
        "Type": "Notification",
        "MessageId": sns_message_id or str(uuid.uuid4()),
        "TopicArn": "arn:aws:sns:eu-west-1:123456789012:ses-portal-events",
        "Subject": "Amazon SES Email Event Notification",
        "Message": json.dumps(ses),
        "Timestamp": "2026-07-01T10:00:10.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:eu-west-1:123456789012:ses-portal-events:0b3f6e4b",
    }


def sendgrid_event(event: str, anymail_id: str, metadata: dict, recipient: str, *, bounce_type: str = "bounce") -> list:
    """SendGrid's Event Webhook: a list of events; the custom args set when sending (anymail_id, the portal's
    metadata) come back as top-level fields."""
    data: dict = {
        "email": recipient,
        "timestamp": 1782900005,
        "smtp-id": "<wrfRRvF7Q0GgwUo2CvDmEA@ismtpd0006p1sjc2.sendgrid.net>",
        "sg_event_id": uuid.uuid4().hex[:22],
        "sg_message_id": "wrfRRvF7Q0GgwUo2CvDmEA.filter0425p1mdw1.13037.57168B4A1D.0",
        "event": event,
        "category": ["tickets"],
        "anymail_id": anymail_id,
        **metadata,
    }
    if event == "delivered":
        data.update(ip="167.89.17.173", tls=1, response="250 2.0.0 OK 1461095248 m143si2210036ioe.159 - gsmtp")
    elif event == "bounce" and bounce_type == "bounce":
        data.update(
            ip="167.89.17.173",
            tls=1,
            type="bounce",
            status="5.1.1",
            reason="550 5.1.1 The email account that you tried to reach does not exist.",
            bounce_classification="Invalid Address",
        )
    elif event == "bounce":
        data.update(
            ip="167.89.17.173",
            tls=1,
            type="blocked",
            status="4.7.0",
            reason="421 4.7.0 [TSS04] Messages temporarily deferred due to unexpected volume or user complaints",
            bounce_classification="Frequency or Volume too high",
        )
    elif event == "deferred":
        data.update(response="452 4.2.2 The email account that you tried to reach is over quota.", attempt="1")
    return [data]


def brevo_event(event: str, message_id: str, metadata: dict, recipient: str) -> dict:
    """Brevo's transactional webhook: one event; the metadata anymail sent as X-Mailin-custom comes back as is."""
    reasons = {
        "hard_bounce": " RecipientError: 550 5.5.0 Requested action not taken: mailbox unavailable.",
        "soft_bounce": "undefined Unable to find MX of domain no-mx.example.com",
        "deferred": "421 4.7.0 Try again later, closing connection.",
    }
    data: dict = {
        "event": event,
        "email": recipient,
        "id": 382_201,
        "date": "2026-07-01 12:00:05",
        "ts": 1782907205,
        "message-id": message_id,
        "ts_event": 1782907205,
        "subject": "Your tickets",
        "X-Mailin-custom": json.dumps(metadata),
        "tags": ["tickets"],
        "ts_epoch": 1782900005123,
    }
    if event in reasons:
        data["reason"] = reasons[event]
    return data
