"""How a document reaches the portfolio: what it is (reading), which chips, customers,
owners and destinations it touches, and the impacts that follow, each with its severity,
what to do and the evidence. `assess` is the entry point; `monitor.scoring` turns the
impacts into the score an event carries."""
