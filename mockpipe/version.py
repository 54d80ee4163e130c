"""The package version, in its own module so that every part can import it without cycles."""

__version__ = "0.1.0"
