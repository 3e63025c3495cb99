"""Plumbing commands: name → ``module:attribute`` of a click command.

Plumbing output is a promise to scripts: tab-separated fields, ``-z`` for
NUL-terminated records, no colour, no prompts; fields may be added at the
end of a line, never changed or removed.
"""
_M = "artvcs.plumbing.commands."

PLUMBING: dict[str, str] = {
    "hash-object": _M + "hash_object:hash_object",
    "cat-object": _M + "cat_object:cat_object",
    "mktree": _M + "mktree:mktree",
    "ls-manifest": _M + "ls_manifest:ls_manifest",
    "commit-version": _M + "commit_version:commit_version",
    "rev-parse": _M + "rev_parse:rev_parse",
    "update-ref": _M + "update_ref:update_ref",
    "show-ref": _M + "show_ref:show_ref",
    "link-ref": _M + "link_ref:link_ref",
    "verify-object": _M + "verify_object:verify_object",
    "fsck": _M + "fsck:fsck",
}
