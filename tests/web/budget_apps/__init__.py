"""Small Django and Flask apps the budget overshoot tests run as real server processes (see
``tests/web/test_budget_overshoot.py``); configured entirely by ``CWB_*`` environment variables."""
