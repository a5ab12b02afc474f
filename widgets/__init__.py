"""Widgets that draw what they are given (views from `store.rules`); none of them touches the file."""
