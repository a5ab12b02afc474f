"""Widgets that draw what they are given (views from `store.rules`).

None of them touches the file: the app hands them data.
"""
