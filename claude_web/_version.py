__title__ = "claude-web"
__version__ = "0.1.0"
