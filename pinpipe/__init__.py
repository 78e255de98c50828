"""pinpipe: a local sandbox of a Pinterest-style batch and streaming data pipeline."""
