"""Conference services, one module per concern: scheduling, invitations, notifications
(e-mails with calendar files), records (notes, the record of the conference, measures),
queries (what pages show) and reminders.

Services take domain objects and plain data, write the audit trail and queue e-mails in
the caller's transaction; they never touch the request. The route commits once.
"""


class ConferenceError(Exception):
    """A refusal the user can fix: shown at ``field`` of the form."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message
