"""Sharing with a team: remotes, fetch/push (sync, pushing), rebase of diverged
collections, garbage collection on a remote, and what is ahead or behind one (status).

May import: artvcs.core, artvcs.errors, artvcs.plumbing. Nothing else of the binding.
"""
