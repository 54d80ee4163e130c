"""Calls leaving the journal: recordings (record, export), replay into a server, forwarding to another one."""
