"""Streaming: a Kinesis source for Spark and the job that lands the three streams in Delta."""
