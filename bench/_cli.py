"""Command-line helpers shared by the benchmark scripts."""

import argparse


def positive(minimum: int):
    """An argparse type: an integer >= ``minimum``, with an error that says so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is too small; expected an integer >= {minimum}")
        return value

    return parse
