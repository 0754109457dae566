"""Agents (notebook 23): the tools, the ReAct loop and the tool-use traces."""
