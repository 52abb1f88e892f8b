"""Schedule adjustment calendars: the team's editor (views), the guest's booking and manage pages (public), and
their services (slots: pure slot computation; booking: book/reschedule/cancel; editor; mail)."""
