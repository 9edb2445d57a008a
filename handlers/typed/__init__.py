"""Typed input: the current screen, words that pick a choice, drafts."""
