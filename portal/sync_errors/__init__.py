"""The Failed and waiting syncs page of a team: filters, a 14-day chart, each sync's detail, retry, retry all
with one cause, dismiss. Its queries and presenters are reused by the support console."""
