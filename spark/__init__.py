"""Spark jobs: batch cleaning and analytics on the lake, and the streaming job."""
