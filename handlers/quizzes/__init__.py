"""Quizzes alone, in groups and in circles, and their timers."""
