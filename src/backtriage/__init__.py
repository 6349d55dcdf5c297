"""backtriage: transparent, safety-first triage for numbness and tingling in the back."""
__version__ = "0.1.0"
