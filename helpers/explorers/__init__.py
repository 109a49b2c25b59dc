"""One interactive explorer module per chapter, e.g. ``helpers.explorers.ml_basics``.

Explorers take the student's own functions as arguments; they never contain graded code.
"""
