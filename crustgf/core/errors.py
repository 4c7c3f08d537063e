"""User-facing errors: the CLI prints them as one line `Error: ...` and exits non-zero."""


class CrustgfError(Exception):
    """An error caused by the user's input (config, files, options), not a bug."""


class ConfigError(CrustgfError):
    """One or more problems in a config file; `problems` holds every message, each with its key path."""

    def __init__(self, path, problems):
        self.path = str(path)
        self.problems = list(problems)
        super().__init__(f"{self.path}: " + "; ".join(self.problems))
