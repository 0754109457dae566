"""Agents (notebook 22): the tools, the ReAct loop and the tool-use traces."""
