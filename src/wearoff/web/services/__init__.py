"""The operations of the web app, shared by the pages and the REST API: each takes a session, the
:class:`~wearoff.web.actor.Actor` and plain input, checks the actor's permission and the clinic, and writes the
audit log for every write."""
