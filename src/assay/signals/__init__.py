"""Signals: implicit session signals, online scorers run by a background worker, and
routing rules that send traces to review queues."""
