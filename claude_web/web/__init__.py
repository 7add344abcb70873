"""The framework-free web layer shared by the Django and Flask adapters."""
