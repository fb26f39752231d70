"""Retrieval evaluation on a dataset with golden chunks (`factvault eval`)."""
