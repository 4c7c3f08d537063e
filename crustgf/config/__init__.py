"""The config file: reading and validating TOML (`load_config`), structure variants."""
