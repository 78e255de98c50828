"""Batch jobs: read the landed JSON, clean to silver Delta tables, compute the gold tables."""
