"""Work on the whole store that runs beside serving: backup/restore and reindex."""
