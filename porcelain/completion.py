"""Bash completion of REFs that contain ':' (``mnist:best``).

Bash splits the words of the command line at every character of
COMP_WORDBREAKS, which holds ':' by default, so ``artvcs show mnist:be<TAB>``
reaches click as the words ``mnist``, ``:`` and ``be``. This completer glues
them back before click parses the line, and answers with the text after the
last ':' (the part bash replaces). zsh and fish need nothing of this.
"""
from __future__ import annotations

import os

from click.shell_completion import BashComplete, CompletionItem, split_arg_string


class ColonBashComplete(BashComplete):
    """click's bash completion, with ``name : selector`` words glued back into ``name:selector``."""

    strip = 0

    def get_completion_args(self) -> tuple[list[str], str]:
        words = split_arg_string(os.environ["COMP_WORDS"])
        cword = int(os.environ["COMP_CWORD"])
        current = words[cword] if cword < len(words) else ""
        merged: list[str] = []
        glued = False
        for word in words[1:cword] + [current]:
            if merged and word and (word == ":" or merged[-1].endswith(":")):
                merged[-1] += word
                glued = True
            else:
                merged.append(word)
                glued = False
        incomplete = merged.pop() if merged else ""
        if glued and ":" in incomplete:
            self.strip = incomplete.rindex(":") + 1
        return merged, incomplete

    def format_completion(self, item: CompletionItem) -> str:
        value = item.value[self.strip:] if self.strip and str(item.value)[: self.strip].endswith(":") else item.value
        return f"{item.type},{value}"


def register() -> None:
    """Use :class:`ColonBashComplete` for ``bash`` (called only while completing)."""
    from click.shell_completion import add_completion_class

    add_completion_class(ColonBashComplete, "bash")
