"""The project's exception hierarchy: every error a user can act on derives from PinpipeError."""


class PinpipeError(Exception):
    """An error with a message that tells the user what to do; printed without a traceback."""


class ConfigError(PinpipeError):
    """A configuration value is missing or invalid."""


class SandboxError(PinpipeError):
    """A service of the local stack could not be started, checked or stopped."""


class ProvisionError(PinpipeError):
    """Cloud resources (bucket, topics, streams, API) could not be created or checked."""


class JobError(PinpipeError):
    """A Spark job could not start, or one of its steps or queries failed."""
