"""Widgets that draw what they are given (views from `store.rules`).

None of them touches the file or runs a rule: the app hands them data through reactives.
"""
