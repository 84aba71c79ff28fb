"""The native event log: the events table and the wire schemas of the events sessionary stores."""
