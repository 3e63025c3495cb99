"""Sharing with a team: remotes, fetch/push (sync, pushing), rebase of diverged
collections and garbage collection on a remote.

May import: artvcs.core, artvcs.errors, artvcs.plumbing. Nothing else of the binding.
"""
