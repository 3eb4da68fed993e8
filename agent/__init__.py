"""The agent: planners (VLM and offline), plan -> tree compilation, the run loop, evaluation."""
