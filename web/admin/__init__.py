"""/admin/: the signed-in campaign view (overview charts, the leads table, CSV), its own blueprint."""
