"""fleet: a manager for fleets of TinyML boards on serial links."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fleet")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+src"
