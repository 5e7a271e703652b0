"""``agent-jobs``: the command-line client of the Agent Jobs API (DESIGN.md §17).

A client only: it speaks the HTTP API as its OpenAPI document describes it and never imports the server's code
(``layers/common/agent_jobs``), so ``pip install .`` gives a working CLI on any machine.
"""

__version__ = "0.1.0"
